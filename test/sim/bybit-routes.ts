import type { IncomingHttpHeaders } from 'node:http';
import type { SimOperation } from './exchange-sim.js';
import { authenticate } from './bybit-auth.js';
import { type Account, type BookOrder, type BybitBook, DEFAULT_LEVERAGE, isOpen, MAKER_FEE, TAKER_FEE } from './bybit-book.js';
import { errors } from './bybit-errors.js';
import { CATEGORIES, instrumentsInfo, LINEAR_MARKETS } from './bybit-markets.js';
import { cancelOrder, matchesFilter, type Params, placeOrder, recentClosed, requireLinear, requireMarket, str, tradingStop } from './bybit-orders.js';
import { accountInfo, apiKeyInfo, orderRow, positionRows, tickerRows, walletBalance } from './bybit-views.js';

const PUBLIC = new Set(['GET /v5/market/time', 'GET /v5/market/instruments-info', 'GET /v5/market/tickers']);

/** Private routes and their per-UID limits per second (rate-limit table, UTA Pro, linear). */
export const PRIVATE_LIMITS: Readonly<Record<string, number>> = {
  'POST /v5/order/create': 10,
  'POST /v5/order/cancel': 10,
  'GET /v5/order/realtime': 50,
  'GET /v5/order/history': 50,
  'GET /v5/position/list': 50,
  'POST /v5/position/set-leverage': 10,
  'POST /v5/position/switch-mode': 10,
  'POST /v5/position/trading-stop': 10,
  'GET /v5/account/wallet-balance': 50,
  'GET /v5/account/info': 50,
  'POST /v5/account/set-margin-mode': 10,
  'GET /v5/account/fee-rate': 10,
  'GET /v5/user/query-api': 10,
  'GET /v5/asset/coin/query-info': 5,
};

/** GET parameters come from the query, POST ones from the JSON body (Bybit v5 reads nothing else). */
export function paramsOf(method: string, query: URLSearchParams, body: string): Params {
  if (method !== 'POST') return Object.fromEntries(query);
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw errors.param('Invalid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw errors.param('Invalid JSON');
  return parsed as Params;
}

/** Which exchange-neutral operation a request is. A create with a trigger price is a conditional (stop) order. */
export function operationOf(method: string, path: string, query: URLSearchParams, body: string): SimOperation | undefined {
  switch (`${method} ${path}`) {
    case 'POST /v5/order/create': {
      let params: Params = {};
      try {
        params = paramsOf(method, query, body);
      } catch {
        // A body that is not JSON is still an order placement for fault matching.
      }
      return str(params, 'triggerPrice') !== undefined ? 'place_trigger' : 'place_order';
    }
    case 'POST /v5/position/trading-stop':
      return 'place_trigger';
    case 'GET /v5/order/realtime':
    case 'GET /v5/order/history':
      return 'query_order';
    case 'POST /v5/order/cancel':
      return 'cancel_order';
    case 'GET /v5/account/wallet-balance':
      return 'balance';
    case 'GET /v5/position/list':
      return 'positions';
    case 'POST /v5/position/set-leverage':
      return 'leverage';
    case 'GET /v5/market/instruments-info':
    // ccxt's bybit.fetchCurrencies signs this on every market load made with credentials.
    case 'GET /v5/asset/coin/query-info':
      return 'markets';
    default:
      return undefined;
  }
}

function page(rows: Record<string, unknown>[], params: Params, max: number, fallback: number): { list: Record<string, unknown>[]; nextPageCursor: string } {
  const limit = Math.min(Math.max(Number(str(params, 'limit') ?? fallback) || fallback, 1), max);
  const offset = Number(str(params, 'cursor') ?? 0) || 0;
  const list = rows.slice(offset, offset + limit);
  return { list, nextPageCursor: offset + limit < rows.length ? String(offset + limit) : '' };
}

const newestFirst = (a: BookOrder, b: BookOrder) => b.createdTime - a.createdTime || b.updatedTime - a.updatedTime;

/**
 * `GET /v5/order/realtime`: open orders, or the account's recent closed ones
 * (openOnly=1, at most 500); a lookup by orderId (first) or orderLinkId
 * ignores openOnly and finds open and recent closed orders alike. For linear
 * one of symbol, baseCoin or settleCoin is required. Newest first.
 */
function realtime(account: Account, params: Params): Record<string, unknown> {
  requireLinear(params);
  const symbol = str(params, 'symbol');
  const baseCoin = str(params, 'baseCoin');
  const settleCoin = str(params, 'settleCoin');
  if (!symbol && !baseCoin && !settleCoin) throw errors.symbolOrCoin();
  if (symbol) requireMarket(params);
  const orderId = str(params, 'orderId');
  const orderLinkId = str(params, 'orderLinkId');
  const open = account.orders.filter(isOpen);
  let rows: BookOrder[];
  if (orderId !== undefined) rows = [...open, ...recentClosed(account)].filter((o) => o.orderId === orderId);
  else if (orderLinkId !== undefined) rows = [...open, ...recentClosed(account)].filter((o) => o.orderLinkId === orderLinkId);
  else {
    rows = str(params, 'openOnly') === '1' ? recentClosed(account) : open;
    rows = rows.filter((o) => (symbol ? o.symbol === symbol : baseCoin ? o.symbol.startsWith(baseCoin) : settleCoin === 'USDT'));
  }
  const filter = str(params, 'orderFilter');
  const listed = rows.filter((o) => matchesFilter(o, filter)).sort(newestFirst).map(orderRow);
  return { ...page(listed, params, 50, 20), category: 'linear' };
}

/** `GET /v5/order/history`: every status within the last 7 days by default; orderId > orderLinkId > symbol > baseCoin. */
function history(account: Account, params: Params, now: number): Record<string, unknown> {
  requireLinear(params);
  const symbol = str(params, 'symbol');
  if (symbol) requireMarket(params);
  const orderId = str(params, 'orderId');
  const orderLinkId = str(params, 'orderLinkId');
  const baseCoin = str(params, 'baseCoin');
  const status = str(params, 'orderStatus');
  const filter = str(params, 'orderFilter');
  const start = Number(str(params, 'startTime') ?? now - 7 * 86_400_000);
  const end = Number(str(params, 'endTime') ?? now);
  const rows = account.orders
    .filter((o) =>
      orderId !== undefined
        ? o.orderId === orderId
        : orderLinkId !== undefined
          ? o.orderLinkId === orderLinkId
          : (!symbol || o.symbol === symbol) && (!baseCoin || o.symbol.startsWith(baseCoin)),
    )
    .filter((o) => (!status || o.status === status) && matchesFilter(o, filter) && o.createdTime >= start && o.createdTime <= end)
    .sort(newestFirst)
    .map(orderRow);
  return { ...page(rows, params, 50, 20), category: 'linear' };
}

function leverageValue(raw: string | undefined, name: string, max: number): number {
  if (raw === undefined) throw errors.missing(name);
  const x = Number(raw);
  // (0, max], in steps of leverageStep 0.01.
  if (!Number.isFinite(x) || x < 1 || x > max || Math.abs(x * 100 - Math.round(x * 100)) > 1e-6) throw errors.leverageInvalid();
  return x;
}

/** `POST /v5/position/set-leverage`: one-way mode needs buy = sell; the same values again is 110043. */
function setLeverage(book: BybitBook, account: Account, params: Params): Record<string, unknown> {
  requireLinear(params);
  const market = requireMarket(params);
  const max = Number(market.maxLeverage);
  const buy = leverageValue(str(params, 'buyLeverage'), 'buyLeverage', max);
  const sell = leverageValue(str(params, 'sellLeverage'), 'sellLeverage', max);
  if (book.mode(account, market.id) === 'one_way' && buy !== sell) throw errors.leverageOneWay();
  const [curBuy, curSell] = account.leverage.get(market.id) ?? [DEFAULT_LEVERAGE, DEFAULT_LEVERAGE];
  if (curBuy === buy && curSell === sell) throw errors.leverageNotModified();
  account.leverage.set(market.id, [buy, sell]);
  return {};
}

function busy(account: Account, symbol: string): 'position' | 'orders' | null {
  if ([...account.positions.keys()].some((k) => k.startsWith(`${symbol}:`))) return 'position';
  if (account.orders.some((o) => o.symbol === symbol && isOpen(o))) return 'orders';
  return null;
}

/**
 * `POST /v5/position/switch-mode` (mode 0 one-way, 3 hedge), by symbol or by
 * coin. By coin every symbol without position or open orders switches and
 * new symbols inherit; symbols with either keep their mode.
 */
function switchMode(book: BybitBook, account: Account, params: Params): Record<string, unknown> {
  requireLinear(params);
  const rawMode = str(params, 'mode');
  if (rawMode === undefined) throw errors.missing('mode');
  if (rawMode !== '0' && rawMode !== '3') throw errors.param('params error: mode invalid');
  const mode = rawMode === '3' ? 'hedge' : 'one_way';
  const symbol = str(params, 'symbol');
  if (symbol !== undefined) {
    const market = requireMarket(params);
    if (book.mode(account, market.id) === mode) throw errors.positionModeNotModified();
    const why = busy(account, market.id);
    if (why === 'position') throw errors.positionModeWithPosition();
    if (why === 'orders') throw errors.positionModeWithOrders();
    account.symbolMode.set(market.id, mode);
    return {};
  }
  const coin = str(params, 'coin');
  if (coin === undefined) throw errors.param('params error: symbol or coin is required');
  if (coin !== 'USDT') throw errors.param('params error: coin invalid');
  const changeable = LINEAR_MARKETS.filter((m) => book.mode(account, m.id) !== mode && !busy(account, m.id));
  const stuck = LINEAR_MARKETS.filter((m) => book.mode(account, m.id) !== mode && busy(account, m.id));
  if (changeable.length === 0 && stuck.length === 0 && account.coinMode === mode) throw errors.positionModeNotModified();
  for (const m of stuck) account.symbolMode.set(m.id, book.mode(account, m.id));
  for (const m of changeable) account.symbolMode.delete(m.id);
  account.coinMode = mode;
  return {};
}

/** `POST /v5/account/set-margin-mode` (UTA): account-wide cross (REGULAR_MARGIN) or isolated. */
function setMarginMode(account: Account, params: Params): Record<string, unknown> {
  const wanted = str(params, 'setMarginMode');
  if (wanted === undefined) throw errors.missing('setMarginMode');
  if (wanted === 'PORTFOLIO_MARGIN') throw errors.notSimulated('PORTFOLIO_MARGIN');
  if (wanted !== 'REGULAR_MARGIN' && wanted !== 'ISOLATED_MARGIN') throw errors.param('params error: setMarginMode invalid');
  account.marginMode = wanted;
  return { reasons: [] };
}

/** `GET /v5/asset/coin/query-info`: the coins of the listed markets, one chain each. */
function coinInfo(coin: string | undefined): Record<string, unknown> {
  const coins = ['USDT', ...new Set(LINEAR_MARKETS.map((m) => m.baseCoin.replace(/^1000/, '')))];
  const chain = (name: string) => ({
    chainType: name,
    confirmation: '6',
    withdrawFee: '1',
    depositMin: '0',
    withdrawMin: '10',
    chain: name,
    chainDeposit: '1',
    chainWithdraw: '1',
    minAccuracy: '8',
    withdrawPercentageFee: '0',
    contractAddress: '',
  });
  return { rows: coins.filter((c) => !coin || c === coin).map((c) => ({ name: c, coin: c, remainAmount: '1000000', chains: [chain(c === 'USDT' ? 'ETH' : c)] })) };
}

/** The `result` of one request, or the BybitError Bybit would answer with. */
export function route(book: BybitBook, method: string, path: string, query: URLSearchParams, rawQuery: string, body: string, headers: IncomingHttpHeaders, now: number): unknown {
  const key = `${method} ${path}`;
  if (PUBLIC.has(key)) {
    const params = Object.fromEntries(query) as Params;
    switch (key) {
      case 'GET /v5/market/time':
        return { timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` };
      case 'GET /v5/market/instruments-info': {
        const category = str(params, 'category');
        if (category === undefined) throw errors.missing('category');
        if (!CATEGORIES.has(category)) throw errors.badCategory();
        return instrumentsInfo(category, query);
      }
      default: {
        const category = str(params, 'category');
        if (category === undefined) throw errors.missing('category');
        if (!CATEGORIES.has(category)) throw errors.badCategory();
        return { category, list: category === 'linear' ? tickerRows(book, str(params, 'symbol'), now) : [] };
      }
    }
  }
  if (!(key in PRIVATE_LIMITS)) throw errors.routeNotFound();
  const account = authenticate(headers, (k) => book.accounts.get(k), method, rawQuery, body, now);
  const params = paramsOf(method, query, body);
  switch (key) {
    case 'POST /v5/order/create': {
      const order = placeOrder(book, account, params, now);
      // The ack only: "Please use websocket order stream to confirm the order status".
      return { orderId: order.orderId, orderLinkId: order.orderLinkId };
    }
    case 'POST /v5/order/cancel': {
      const order = cancelOrder(account, params, now);
      return { orderId: order.orderId, orderLinkId: order.orderLinkId };
    }
    case 'GET /v5/order/realtime':
      return realtime(account, params);
    case 'GET /v5/order/history':
      return history(account, params, now);
    case 'GET /v5/position/list': {
      requireLinear(params);
      const symbol = str(params, 'symbol');
      const settleCoin = str(params, 'settleCoin');
      if (!symbol && !settleCoin) throw errors.param('Missing some parameters that must be filled in, symbol or settleCoin');
      if (symbol) requireMarket(params);
      const rows = !symbol && settleCoin !== 'USDT' ? [] : positionRows(book, account, symbol);
      return { ...page(rows, params, 200, 20), category: 'linear' };
    }
    case 'POST /v5/position/set-leverage':
      return setLeverage(book, account, params);
    case 'POST /v5/position/switch-mode':
      return switchMode(book, account, params);
    case 'POST /v5/position/trading-stop':
      tradingStop(book, account, params, now);
      return {};
    case 'GET /v5/account/wallet-balance': {
      const accountType = str(params, 'accountType');
      if (accountType === undefined) throw errors.missing('accountType');
      if (accountType !== 'UNIFIED') throw errors.param('accountType only support UNIFIED.');
      const coin = str(params, 'coin');
      const wallet = walletBalance(book, account);
      if (coin && !coin.split(',').includes('USDT')) for (const row of wallet['list'] as Array<Record<string, unknown>>) row['coin'] = [];
      return wallet;
    }
    case 'GET /v5/account/info':
      return accountInfo(account);
    case 'POST /v5/account/set-margin-mode':
      return setMarginMode(account, params);
    case 'GET /v5/asset/coin/query-info':
      return coinInfo(str(params, 'coin'));
    case 'GET /v5/account/fee-rate':
      return { list: LINEAR_MARKETS.filter((m) => !str(params, 'symbol') || m.id === str(params, 'symbol')).map((m) => ({ symbol: m.id, baseCoin: '', takerFeeRate: String(TAKER_FEE), makerFeeRate: String(MAKER_FEE) })) };
    default:
      return apiKeyInfo(book, account, now);
  }
}
