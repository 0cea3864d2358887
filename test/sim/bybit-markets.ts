/**
 * `GET /v5/market/instruments-info` of the simulator. The linear (USDT
 * perpetual) instruments carry Bybit's real filters so ccxt derives the same
 * precision and limits it would in production and the order checks reject
 * what Bybit rejects. BTCUSDT is copied from the instrument example in
 * Bybit's v5 docs (docs/v5/market/instrument.mdx, 2025); ETH, SOL and
 * 1000PEPE follow the live instruments as last seen (not in the docs).
 *
 * Bybit linear contracts are always one unit of the base coin: where another
 * exchange would use a contract multiplier, Bybit puts it in the base coin's
 * name (1000PEPEUSDT trades "1000PEPE", so ccxt's contractSize stays 1).
 * Spot and inverse lists are minimal and options are empty: they exist so
 * ccxt's default fetchMarkets (spot, linear, inverse, option per base coin)
 * gets real answers and can be counted, not to be traded.
 */
export interface LinearMarket {
  /** Bybit symbol, e.g. 'BTCUSDT'. */
  id: string;
  /** ccxt unified symbol, e.g. 'BTC/USDT:USDT'. */
  symbol: string;
  baseCoin: string;
  priceScale: number;
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  qtyStep: string;
  minOrderQty: string;
  /** Limit (and PostOnly) orders. */
  maxOrderQty: string;
  /** Market orders. */
  maxMktOrderQty: string;
  minNotionalValue: string;
  maxLeverage: string;
  launchTime: string;
}

export const LINEAR_MARKETS: readonly LinearMarket[] = [
  {
    id: 'BTCUSDT', symbol: 'BTC/USDT:USDT', baseCoin: 'BTC', priceScale: 2,
    tickSize: '0.10', minPrice: '0.10', maxPrice: '1999999.80',
    qtyStep: '0.001', minOrderQty: '0.001', maxOrderQty: '1190.000', maxMktOrderQty: '500.000',
    minNotionalValue: '5', maxLeverage: '100.00', launchTime: '1585526400000',
  },
  {
    id: 'ETHUSDT', symbol: 'ETH/USDT:USDT', baseCoin: 'ETH', priceScale: 2,
    tickSize: '0.01', minPrice: '0.01', maxPrice: '199999.98',
    qtyStep: '0.01', minOrderQty: '0.01', maxOrderQty: '7240.00', maxMktOrderQty: '3620.00',
    minNotionalValue: '5', maxLeverage: '100.00', launchTime: '1615766400000',
  },
  {
    id: 'SOLUSDT', symbol: 'SOL/USDT:USDT', baseCoin: 'SOL', priceScale: 3,
    tickSize: '0.010', minPrice: '0.010', maxPrice: '19999.980',
    qtyStep: '0.1', minOrderQty: '0.1', maxOrderQty: '79770.0', maxMktOrderQty: '5000.0',
    minNotionalValue: '5', maxLeverage: '100.00', launchTime: '1634256000000',
  },
  {
    id: '1000PEPEUSDT', symbol: '1000PEPE/USDT:USDT', baseCoin: '1000PEPE', priceScale: 7,
    tickSize: '0.0000001', minPrice: '0.0000001', maxPrice: '1.9999998',
    qtyStep: '100', minOrderQty: '100', maxOrderQty: '150000000', maxMktOrderQty: '30000000',
    minNotionalValue: '5', maxLeverage: '50.00', launchTime: '1683158400000',
  },
];

/** Mark prices the simulator starts with (and `reset()` restores), by Bybit symbol. */
export const DEFAULT_MARK_PRICES: Readonly<Record<string, number>> = { BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150, '1000PEPEUSDT': 0.01 };

const BY_ID = new Map(LINEAR_MARKETS.map((m) => [m.id, m]));
const BY_SYMBOL = new Map(LINEAR_MARKETS.map((m) => [m.symbol, m]));

export function linearMarket(id: string | null | undefined): LinearMarket | undefined {
  return id ? BY_ID.get(id) : undefined;
}

/** Accepts the Bybit id or the unified symbol (the control surface speaks unified symbols). */
export function marketByAnyName(name: string): LinearMarket | undefined {
  return BY_ID.get(name) ?? BY_SYMBOL.get(name);
}

/** Decimal places a tick or step allows ('0.010' → 3 as Bybit writes it, '100' → 0). */
export function decimalsOf(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.length - dot - 1;
}

function linearRow(m: LinearMarket) {
  return {
    symbol: m.id,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: m.baseCoin,
    quoteCoin: 'USDT',
    launchTime: m.launchTime,
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: String(m.priceScale),
    leverageFilter: { minLeverage: '1', maxLeverage: m.maxLeverage, leverageStep: '0.01' },
    priceFilter: { minPrice: m.minPrice, maxPrice: m.maxPrice, tickSize: m.tickSize },
    lotSizeFilter: {
      maxOrderQty: m.maxOrderQty,
      minOrderQty: m.minOrderQty,
      qtyStep: m.qtyStep,
      postOnlyMaxOrderQty: m.maxOrderQty,
      maxMktOrderQty: m.maxMktOrderQty,
      minNotionalValue: m.minNotionalValue,
    },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: 'USDT',
    copyTrading: 'both',
    upperFundingRate: '0.00375',
    lowerFundingRate: '-0.00375',
    isPreListing: false,
    preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
    symbolType: '',
  };
}

const SPOT_ROWS = [
  { symbol: 'BTCUSDT', baseCoin: 'BTC', basePrecision: '0.000001', minOrderQty: '0.000011', maxOrderQty: '83', maxMarketOrderQty: '41.5', tickSize: '0.1' },
  { symbol: 'ETHUSDT', baseCoin: 'ETH', basePrecision: '0.00001', minOrderQty: '0.00062', maxOrderQty: '1229.2', maxMarketOrderQty: '614.6', tickSize: '0.01' },
  { symbol: 'SOLUSDT', baseCoin: 'SOL', basePrecision: '0.001', minOrderQty: '0.026', maxOrderQty: '21000', maxMarketOrderQty: '10500', tickSize: '0.01' },
].map((r) => ({
  symbol: r.symbol,
  baseCoin: r.baseCoin,
  quoteCoin: 'USDT',
  innovation: '0',
  status: 'Trading',
  marginTrading: 'utaOnly',
  stTag: '0',
  lotSizeFilter: {
    basePrecision: r.basePrecision,
    quotePrecision: '0.0000001',
    minOrderQty: r.minOrderQty,
    maxOrderQty: r.maxOrderQty,
    minOrderAmt: '5',
    maxOrderAmt: '8000000',
    maxLimitOrderQty: r.maxOrderQty,
    maxMarketOrderQty: r.maxMarketOrderQty,
  },
  priceFilter: { tickSize: r.tickSize },
  riskParameters: { priceLimitRatioX: '0.005', priceLimitRatioY: '0.01' },
  symbolType: '',
}));

/** One inverse perpetual: its contract is 1 USD, which ccxt reads from minOrderQty. */
const INVERSE_ROWS = [
  {
    symbol: 'BTCUSD',
    contractType: 'InversePerpetual',
    status: 'Trading',
    baseCoin: 'BTC',
    quoteCoin: 'USD',
    launchTime: '1542211200000',
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: '2',
    leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
    priceFilter: { minPrice: '0.50', maxPrice: '999999.00', tickSize: '0.50' },
    lotSizeFilter: { maxOrderQty: '1000000', minOrderQty: '1', qtyStep: '1', postOnlyMaxOrderQty: '1000000', maxMktOrderQty: '200000', minNotionalValue: '' },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: 'BTC',
    copyTrading: 'none',
    upperFundingRate: '0.00375',
    lowerFundingRate: '-0.00375',
    isPreListing: false,
    preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
    symbolType: '',
  },
];

export const CATEGORIES = new Set(['spot', 'linear', 'inverse', 'option']);

/**
 * The `result` of instruments-info for one request. Filters as Bybit
 * documents them: `symbol`, `baseCoin` (not for spot), `status` (linear and
 * inverse list only Trading by default; status=PreLaunch lists pre-market
 * contracts, of which the simulator has none). Everything fits in one page.
 */
export function instrumentsInfo(category: string, params: URLSearchParams): Record<string, unknown> {
  const symbol = params.get('symbol');
  const baseCoin = params.get('baseCoin');
  const status = params.get('status');
  let list: Array<{ symbol: string; baseCoin: string; status: string }> = [];
  if (category === 'linear') list = LINEAR_MARKETS.map(linearRow);
  else if (category === 'inverse') list = INVERSE_ROWS;
  else if (category === 'spot') list = SPOT_ROWS;
  list = list.filter(
    (row) =>
      (!symbol || row.symbol === symbol) &&
      (!baseCoin || category === 'spot' || row.baseCoin === baseCoin) &&
      (status ? row.status === status : true),
  );
  return category === 'spot' ? { category, list } : { category, list, nextPageCursor: '' };
}
