/**
 * `GET /api/v3/exchangeInfo` of the spot simulator: BTCUSDT, ETHUSDT and
 * SOLUSDT with the filters Binance spot lists for them in 2025-2026
 * (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, PERCENT_PRICE_BY_SIDE, NOTIONAL,
 * MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS), so ccxt derives the precision and
 * limits it would in production and the order checks reject what Binance
 * rejects. Spot has no contract sizes: quantities are base currency.
 */
export interface SpotMarket {
  symbol: string;
  base: string;
  quote: string;
  /** PRICE_FILTER */
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  /** LOT_SIZE */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE: Binance lists stepSize 0 and minQty 0 (LOT_SIZE governs), maxQty from liquidity. */
  marketMaxQty: string;
  /** NOTIONAL */
  minNotional: string;
  maxNotional: string;
  /** PERCENT_PRICE_BY_SIDE against the (simulated) average price. */
  bidMultiplierUp: string;
  bidMultiplierDown: string;
  askMultiplierUp: string;
  askMultiplierDown: string;
  maxNumOrders: number;
  maxNumAlgoOrders: number;
}

const common = {
  quote: 'USDT',
  maxNotional: '9000000.00000000',
  bidMultiplierUp: '5',
  bidMultiplierDown: '0.2',
  askMultiplierUp: '5',
  askMultiplierDown: '0.2',
  maxNumOrders: 200,
  maxNumAlgoOrders: 5,
  minNotional: '5.00000000',
} as const;

export const SPOT_MARKETS: readonly SpotMarket[] = [
  {
    ...common,
    symbol: 'BTCUSDT', base: 'BTC',
    tickSize: '0.01000000', minPrice: '0.01000000', maxPrice: '1000000.00000000',
    stepSize: '0.00001000', minQty: '0.00001000', maxQty: '9000.00000000', marketMaxQty: '119.23000000',
  },
  {
    ...common,
    symbol: 'ETHUSDT', base: 'ETH',
    tickSize: '0.01000000', minPrice: '0.01000000', maxPrice: '1000000.00000000',
    stepSize: '0.00010000', minQty: '0.00010000', maxQty: '9000.00000000', marketMaxQty: '2540.12000000',
  },
  {
    ...common,
    symbol: 'SOLUSDT', base: 'SOL',
    tickSize: '0.01000000', minPrice: '0.01000000', maxPrice: '10000.00000000',
    stepSize: '0.00100000', minQty: '0.00100000', maxQty: '9000000.00000000', marketMaxQty: '29823.58000000',
  },
];

/** Unified ccxt symbols, in listing order. */
export const SPOT_SYMBOLS: readonly string[] = SPOT_MARKETS.map((m) => `${m.base}/${m.quote}`);

/** Every asset an account shows in `balances`, zero or not (Binance lists all it knows). */
export const SPOT_ASSETS: readonly string[] = ['BTC', 'ETH', 'SOL', 'BNB', 'USDT'];

export const DEFAULT_SPOT_PRICES: Readonly<Record<string, number>> = { BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150 };

const BY_ID = new Map(SPOT_MARKETS.map((m) => [m.symbol, m]));
const BY_UNIFIED = new Map(SPOT_MARKETS.map((m) => [`${m.base}/${m.quote}`, m]));

export function spotMarket(id: string | null | undefined): SpotMarket | undefined {
  return id ? BY_ID.get(id) : undefined;
}

/** Accepts the exchange id ('BTCUSDT') or the unified symbol ('BTC/USDT'). */
export function spotMarketOf(symbol: string): SpotMarket | undefined {
  return BY_ID.get(symbol) ?? BY_UNIFIED.get(symbol);
}

export const unifiedSymbol = (m: SpotMarket) => `${m.base}/${m.quote}`;

/** Decimal places of a tick or step ('0.00001000' → 5, '1.00000000' → 0). */
export function stepDecimals(step: string): number {
  const trimmed = step.includes('.') ? step.replace(/0+$/, '') : step;
  const dot = trimmed.indexOf('.');
  return dot < 0 ? 0 : trimmed.length - dot - 1;
}

const ORDER_TYPES = ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];

/** Spot limits of 2025: 6,000 weight per minute per IP, 100 orders per 10 s and 200,000 per day per account. */
export const REQUEST_WEIGHT_PER_MINUTE = 6000;
export const ORDERS_PER_10S = 100;
export const ORDERS_PER_DAY = 200_000;

export function spotExchangeInfo(now: number): unknown {
  return {
    timezone: 'UTC',
    serverTime: now,
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: REQUEST_WEIGHT_PER_MINUTE },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: ORDERS_PER_10S },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: ORDERS_PER_DAY },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: SPOT_MARKETS.map((m) => ({
      symbol: m.symbol,
      status: 'TRADING',
      baseAsset: m.base,
      baseAssetPrecision: 8,
      quoteAsset: m.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: ORDER_TYPES,
      icebergAllowed: true,
      ocoAllowed: true,
      otoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      amendAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: true,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: m.minPrice, maxPrice: m.maxPrice, tickSize: m.tickSize },
        { filterType: 'LOT_SIZE', minQty: m.minQty, maxQty: m.maxQty, stepSize: m.stepSize },
        { filterType: 'ICEBERG_PARTS', limit: 10 },
        { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: m.marketMaxQty, stepSize: '0.00000000' },
        { filterType: 'TRAILING_DELTA', minTrailingAboveDelta: 10, maxTrailingAboveDelta: 2000, minTrailingBelowDelta: 10, maxTrailingBelowDelta: 2000 },
        {
          filterType: 'PERCENT_PRICE_BY_SIDE',
          bidMultiplierUp: m.bidMultiplierUp,
          bidMultiplierDown: m.bidMultiplierDown,
          askMultiplierUp: m.askMultiplierUp,
          askMultiplierDown: m.askMultiplierDown,
          avgPriceMins: 5,
        },
        { filterType: 'NOTIONAL', minNotional: m.minNotional, applyMinToMarket: true, maxNotional: m.maxNotional, applyMaxToMarket: false, avgPriceMins: 5 },
        { filterType: 'MAX_NUM_ORDERS', maxNumOrders: m.maxNumOrders },
        { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: m.maxNumAlgoOrders },
      ],
      permissions: [],
      permissionSets: [['SPOT', 'MARGIN', 'TRD_GRP_004', 'TRD_GRP_005', 'TRD_GRP_006']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH', 'DECREMENT'],
    })),
  };
}

/**
 * The market lists ccxt's default `fetchMarkets` also asks for (USD-M,
 * COIN-M, options): this simulator is spot only, so they answer with no
 * symbols, in each API's own envelope.
 */
export function futuresExchangeInfo(kind: 'fapi' | 'dapi' | 'eapi', now: number): unknown {
  if (kind === 'eapi') return { timezone: 'UTC', serverTime: now, optionContracts: [], optionAssets: [], optionSymbols: [], rateLimits: [] };
  return {
    timezone: 'UTC',
    serverTime: now,
    ...(kind === 'fapi' ? { futuresType: 'U_MARGINED' } : {}),
    rateLimits: [],
    exchangeFilters: [],
    assets: [],
    symbols: [],
  };
}

/** `GET /sapi/v1/margin/allPairs` and `/sapi/v1/margin/isolated/allPairs` (ccxt asks when it holds credentials). */
export function marginPairs(isolated: boolean): unknown[] {
  return SPOT_MARKETS.map((m, i) => ({
    ...(isolated ? {} : { id: String(351637150141315861n + BigInt(i)) }),
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    isMarginTrade: true,
    isBuyAllowed: true,
    isSellAllowed: true,
  }));
}
