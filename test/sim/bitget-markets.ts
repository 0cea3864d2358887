/**
 * Bitget's USDT-M contract list (`GET /api/v2/mix/market/contracts`) and
 * spot symbol list (`GET /api/v2/spot/public/symbols`) as the simulator
 * answers them. Contract values are copied from real 2025 answers
 * (BTCUSDT, ETHUSDT, SOLUSDT recorded 2025-06-27; PEPEUSDT's lot of 1,000
 * PEPE from a 2026 recording), so ccxt derives the precision and limits it
 * derives in production. Bitget sizes every USDT-M order in the BASE coin:
 * ccxt reports contractSize 1 for all of them, and a lot above 1 shows up
 * as sizeMultiplier (PEPE: whole thousands of PEPE).
 */
export interface BitgetContract {
  symbol: string;
  baseCoin: string;
  minTradeNum: string;
  sizeMultiplier: string;
  volumePlace: number;
  pricePlace: number;
  priceEndStep: string;
  minTradeUSDT: string;
  maxLever: number;
  maxMarketOrderQty: string;
  maxOrderQty: string;
  /** Limit prices may stray at most this far from the mark (buy above, sell below). */
  limitPriceRatio: string;
}

export const CONTRACTS: readonly BitgetContract[] = [
  {
    symbol: 'BTCUSDT', baseCoin: 'BTC', minTradeNum: '0.0001', sizeMultiplier: '0.0001', volumePlace: 4, pricePlace: 1, priceEndStep: '1',
    minTradeUSDT: '5', maxLever: 125, maxMarketOrderQty: '220', maxOrderQty: '1200', limitPriceRatio: '0.05',
  },
  {
    symbol: 'ETHUSDT', baseCoin: 'ETH', minTradeNum: '0.01', sizeMultiplier: '0.01', volumePlace: 2, pricePlace: 2, priceEndStep: '1',
    minTradeUSDT: '5', maxLever: 100, maxMarketOrderQty: '1900', maxOrderQty: '9900', limitPriceRatio: '0.05',
  },
  {
    symbol: 'SOLUSDT', baseCoin: 'SOL', minTradeNum: '0.1', sizeMultiplier: '0.1', volumePlace: 1, pricePlace: 3, priceEndStep: '1',
    minTradeUSDT: '5', maxLever: 100, maxMarketOrderQty: '13000', maxOrderQty: '130000', limitPriceRatio: '0.05',
  },
  {
    // maxLever and the order caps are not from a recording (only the lot and tick are).
    symbol: 'PEPEUSDT', baseCoin: 'PEPE', minTradeNum: '1000', sizeMultiplier: '1000', volumePlace: 0, pricePlace: 10, priceEndStep: '1',
    minTradeUSDT: '5', maxLever: 50, maxMarketOrderQty: '2000000000', maxOrderQty: '20000000000', limitPriceRatio: '0.05',
  },
];

/** Bitget's default VIP0 futures fees, as the contract list reports them. */
export const TAKER_FEE = 0.0006;
export const MAKER_FEE = 0.0002;
/** A new account's cross leverage on every symbol. */
export const DEFAULT_LEVERAGE = 20;

export const DEFAULT_MARK_PRICES: Readonly<Record<string, number>> = { BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150, PEPEUSDT: 0.00001 };

const BY_ID = new Map(CONTRACTS.map((c) => [c.symbol, c]));

export const unifiedSymbol = (c: BitgetContract) => `${c.baseCoin}/USDT:USDT`;
export const SIM_SYMBOLS: readonly string[] = CONTRACTS.map(unifiedSymbol);

/** Accepts Bitget's id ('BTCUSDT', any case, as Bitget does) or the unified symbol. */
export function contractOf(symbol: string | null | undefined): BitgetContract | undefined {
  if (!symbol) return undefined;
  const byUnified = CONTRACTS.find((c) => unifiedSymbol(c) === symbol);
  return byUnified ?? BY_ID.get(symbol.toUpperCase());
}

export const tickOf = (c: BitgetContract) => Number(c.priceEndStep) * 10 ** -c.pricePlace;

/** A number the way Bitget prints it: fixed decimals, trailing zeros dropped. */
export function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '0';
  const s = (Math.abs(x) < 0.5 * 10 ** -digits ? 0 : x).toFixed(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
export const fmtSize = (c: BitgetContract, x: number) => fmt(x, c.volumePlace);
export const fmtPrice = (c: BitgetContract, x: number) => fmt(x, c.pricePlace);

/** Product types ccxt's default fetchMarkets asks for; the simulator lists contracts under USDT-FUTURES only. */
export const PRODUCT_TYPES = new Set(['USDT-FUTURES', 'COIN-FUTURES', 'USDC-FUTURES', 'SUSDT-FUTURES', 'SCOIN-FUTURES', 'SUSDC-FUTURES']);

export function contractsView(productType: string): unknown[] {
  if (productType !== 'USDT-FUTURES') return [];
  return CONTRACTS.map((c) => ({
    symbol: c.symbol,
    baseCoin: c.baseCoin,
    quoteCoin: 'USDT',
    buyLimitPriceRatio: c.limitPriceRatio,
    sellLimitPriceRatio: c.limitPriceRatio,
    feeRateUpRatio: '0.005',
    makerFeeRate: String(MAKER_FEE),
    takerFeeRate: String(TAKER_FEE),
    openCostUpRatio: '0.01',
    supportMarginCoins: ['USDT'],
    minTradeNum: c.minTradeNum,
    priceEndStep: c.priceEndStep,
    volumePlace: String(c.volumePlace),
    pricePlace: String(c.pricePlace),
    sizeMultiplier: c.sizeMultiplier,
    symbolType: 'perpetual',
    minTradeUSDT: c.minTradeUSDT,
    maxSymbolOrderNum: '200',
    maxProductOrderNum: '1000',
    maxPositionNum: '150',
    symbolStatus: 'normal',
    offTime: '-1',
    limitOpenTime: '-1',
    deliveryTime: '',
    deliveryStartTime: '',
    deliveryPeriod: '',
    launchTime: '',
    fundInterval: '8',
    minLever: '1',
    maxLever: String(c.maxLever),
    posLimit: '0.1',
    maintainTime: '',
    maxMarketOrderQty: c.maxMarketOrderQty,
    maxOrderQty: c.maxOrderQty,
  }));
}

/**
 * Spot pairs: listed so ccxt's default fetchMarkets (spot + swap) finds them,
 * not traded. Precisions are plausible 2025 values, not copied from a recording.
 */
const SPOT: ReadonlyArray<{ symbol: string; base: string; pricePrecision: string; quantityPrecision: string }> = [
  { symbol: 'BTCUSDT', base: 'BTC', pricePrecision: '2', quantityPrecision: '6' },
  { symbol: 'ETHUSDT', base: 'ETH', pricePrecision: '2', quantityPrecision: '4' },
  { symbol: 'SOLUSDT', base: 'SOL', pricePrecision: '2', quantityPrecision: '4' },
];

export function spotSymbolsView(): unknown[] {
  return SPOT.map((s) => ({
    symbol: s.symbol,
    baseCoin: s.base,
    quoteCoin: 'USDT',
    minTradeAmount: '0',
    maxTradeAmount: '900000000000000000000',
    takerFeeRate: '0.001',
    makerFeeRate: '0.001',
    pricePrecision: s.pricePrecision,
    quantityPrecision: s.quantityPrecision,
    quotePrecision: '8',
    status: 'online',
    minTradeUSDT: '1',
    buyLimitPriceRatio: '0.05',
    sellLimitPriceRatio: '0.05',
    areaSymbol: 'no',
    orderQuantity: '200',
    openTime: '1532454360000',
  }));
}
