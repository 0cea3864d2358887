/**
 * `GET /fapi/v1/exchangeInfo` of the simulator: a few USDT-margined
 * perpetuals with Binance's real filters, so ccxt derives the same
 * precision and limits it would in production.
 */
export interface SimMarket {
  symbol: string;
  baseAsset: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  marketMinQty: string;
  minNotional: string;
  pricePrecision: number;
  quantityPrecision: number;
}

export const SIM_MARKETS: readonly SimMarket[] = [
  { symbol: 'BTCUSDT', baseAsset: 'BTC', tickSize: '0.10', stepSize: '0.001', minQty: '0.001', marketMinQty: '0.001', minNotional: '100', pricePrecision: 2, quantityPrecision: 3 },
  { symbol: 'ETHUSDT', baseAsset: 'ETH', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', marketMinQty: '0.001', minNotional: '20', pricePrecision: 2, quantityPrecision: 3 },
  { symbol: 'SOLUSDT', baseAsset: 'SOL', tickSize: '0.0100', stepSize: '1', minQty: '1', marketMinQty: '1', minNotional: '5', pricePrecision: 4, quantityPrecision: 0 },
];

export const DEFAULT_MARK_PRICES: Readonly<Record<string, number>> = { BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150 };

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
        { filterType: 'PRICE_FILTER', minPrice: m.tickSize, maxPrice: '4529764', tickSize: m.tickSize },
        { filterType: 'LOT_SIZE', minQty: m.minQty, maxQty: '1000', stepSize: m.stepSize },
        { filterType: 'MARKET_LOT_SIZE', minQty: m.marketMinQty, maxQty: '120', stepSize: m.stepSize },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: m.minNotional },
        { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
      ],
      orderTypes: ORDER_TYPES,
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      permissionSets: ['GRID', 'COPY'],
    })),
  };
}

export function marketOf(symbol: string | undefined): SimMarket | undefined {
  return SIM_MARKETS.find((m) => m.symbol === symbol);
}
