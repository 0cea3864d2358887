/**
 * `GET /fapi/v1/exchangeInfo` of the simulator: a few USDT-margined
 * perpetuals whose filters copy the real ones (BTCUSDT, ETHUSDT, SOLUSDT),
 * so ccxt derives the same precision and limits it would in production and
 * the order checks in the book reject exactly what Binance rejects.
 */
export interface SimMarket {
  symbol: string;
  baseAsset: string;
  /** PRICE_FILTER */
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  /** LOT_SIZE (limit orders) */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE (market orders) */
  marketMinQty: string;
  marketMaxQty: string;
  /** MIN_NOTIONAL */
  minNotional: string;
  /** PERCENT_PRICE: a limit price must stay within these multiples of the mark price. */
  multiplierUp: string;
  multiplierDown: string;
  pricePrecision: number;
  quantityPrecision: number;
  /** Highest leverage of the first notional bracket. */
  maxLeverage: number;
}

export const SIM_MARKETS: readonly SimMarket[] = [
  {
    symbol: 'BTCUSDT', baseAsset: 'BTC',
    tickSize: '0.10', minPrice: '261.10', maxPrice: '809484',
    stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketMinQty: '0.001', marketMaxQty: '120',
    minNotional: '100', multiplierUp: '1.0500', multiplierDown: '0.9500',
    pricePrecision: 2, quantityPrecision: 3, maxLeverage: 125,
  },
  {
    symbol: 'ETHUSDT', baseAsset: 'ETH',
    tickSize: '0.01', minPrice: '39.86', maxPrice: '306177',
    stepSize: '0.001', minQty: '0.001', maxQty: '10000', marketMinQty: '0.001', marketMaxQty: '2000',
    minNotional: '20', multiplierUp: '1.0500', multiplierDown: '0.9500',
    pricePrecision: 2, quantityPrecision: 3, maxLeverage: 125,
  },
  {
    symbol: 'SOLUSDT', baseAsset: 'SOL',
    tickSize: '0.0100', minPrice: '0.4200', maxPrice: '6857',
    stepSize: '1', minQty: '1', maxQty: '1000000', marketMinQty: '1', marketMaxQty: '5000',
    minNotional: '5', multiplierUp: '1.0500', multiplierDown: '0.9500',
    pricePrecision: 4, quantityPrecision: 0, maxLeverage: 100,
  },
];

export const DEFAULT_MARK_PRICES: Readonly<Record<string, number>> = { BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150 };

const BY_SYMBOL = new Map(SIM_MARKETS.map((m) => [m.symbol, m]));

export function marketOf(symbol: string | null | undefined): SimMarket | undefined {
  return symbol ? BY_SYMBOL.get(symbol) : undefined;
}

/** Decimal places a tick or step allows ('0.0100' → 2, '1' → 0). */
export function stepDecimals(step: string): number {
  const trimmed = step.includes('.') ? step.replace(/0+$/, '') : step;
  const dot = trimmed.indexOf('.');
  return dot < 0 ? 0 : trimmed.length - dot - 1;
}

const ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'];

export function exchangeInfo(now: number): unknown {
  return {
    timezone: 'UTC',
    serverTime: now,
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: SIM_MARKETS.map((m) => ({
      symbol: m.symbol,
      pair: m.symbol,
      contractType: 'PERPETUAL',
      deliveryDate: 4133404800000,
      onboardDate: 1569398400000,
      status: 'TRADING',
      maintMarginPercent: '2.5000',
      requiredMarginPercent: '5.0000',
      baseAsset: m.baseAsset,
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      pricePrecision: m.pricePrecision,
      quantityPrecision: m.quantityPrecision,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: 'COIN',
      underlyingSubType: [],
      triggerProtect: '0.0500',
      liquidationFee: '0.012500',
      marketTakeBound: '0.05',
      maxMoveOrderLimit: 10000,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: m.minPrice, maxPrice: m.maxPrice, tickSize: m.tickSize },
        { filterType: 'LOT_SIZE', minQty: m.minQty, maxQty: m.maxQty, stepSize: m.stepSize },
        { filterType: 'MARKET_LOT_SIZE', minQty: m.marketMinQty, maxQty: m.marketMaxQty, stepSize: m.stepSize },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: m.minNotional },
        { filterType: 'PERCENT_PRICE', multiplierUp: m.multiplierUp, multiplierDown: m.multiplierDown, multiplierDecimal: '4' },
      ],
      orderTypes: ORDER_TYPES,
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      permissionSets: ['GRID', 'COPY'],
    })),
  };
}
