import { authenticate } from './binance-auth.js';
import type { Account, BinanceBook } from './binance-book.js';
import { errors } from './binance-errors.js';
import { exchangeInfo, marketOf, SIM_MARKETS } from './binance-markets.js';
import { cancelOrder, findOrder, placeAlgoOrder, placeOrder } from './binance-orders.js';
import {
  accountView,
  ackView,
  algoView,
  balanceView,
  leverageBracketView,
  newOrderView,
  orderView,
  positionRiskV2View,
  positionRiskView,
  priceViews,
} from './binance-views.js';

/** Request weights from the USD-M docs: [with symbol, without symbol]. Order placement costs 0 IP weight. */
const WEIGHTS: Record<string, readonly [number, number]> = {
  'GET /fapi/v1/exchangeInfo': [1, 1],
  'GET /fapi/v1/premiumIndex': [1, 10],
  'GET /fapi/v1/ticker/price': [1, 2],
  'GET /fapi/v2/ticker/price': [1, 2],
  'GET /fapi/v1/ticker/bookTicker': [2, 5],
  'GET /fapi/v1/ticker/24hr': [1, 40],
  'POST /fapi/v1/order': [0, 0],
  'POST /fapi/v1/algoOrder': [0, 0],
  'GET /fapi/v1/openOrders': [1, 40],
  'GET /fapi/v1/openAlgoOrders': [1, 40],
  'GET /fapi/v1/allOrders': [5, 5],
  'GET /fapi/v2/account': [5, 5],
  'GET /fapi/v3/account': [5, 5],
  'GET /fapi/v2/balance': [5, 5],
  'GET /fapi/v3/balance': [5, 5],
  'GET /fapi/v2/positionRisk': [5, 5],
  'GET /fapi/v3/positionRisk': [5, 5],
  'GET /fapi/v1/positionSide/dual': [30, 30],
  'POST /fapi/v1/positionSide/dual': [1, 1],
};

export function requestWeight(route: string, query: URLSearchParams): number {
  const w = WEIGHTS[route];
  if (!w) return 1;
  return query.has('symbol') ? w[0] : w[1];
}

/** Routes that place an order and count against Binance's ORDERS limits. */
export const ORDER_ROUTES = new Set(['POST /fapi/v1/order', 'POST /fapi/v1/algoOrder']);

const PUBLIC = new Set([
  'GET /fapi/v1/ping',
  'GET /fapi/v1/time',
  'GET /fapi/v1/exchangeInfo',
  'GET /fapi/v1/premiumIndex',
  'GET /fapi/v1/ticker/price',
  'GET /fapi/v2/ticker/price',
  'GET /fapi/v1/ticker/bookTicker',
  'GET /fapi/v1/ticker/24hr',
  'GET /sapi/v1/capital/config/getall',
]);

const PRIVATE = new Set([
  'POST /fapi/v1/order',
  'GET /fapi/v1/order',
  'DELETE /fapi/v1/order',
  'GET /fapi/v1/openOrders',
  'GET /fapi/v1/allOrders',
  'POST /fapi/v1/algoOrder',
  'GET /fapi/v1/algoOrder',
  'DELETE /fapi/v1/algoOrder',
  'GET /fapi/v1/openAlgoOrders',
  'POST /fapi/v1/leverage',
  'POST /fapi/v1/marginType',
  'GET /fapi/v1/positionSide/dual',
  'POST /fapi/v1/positionSide/dual',
  'GET /fapi/v2/account',
  'GET /fapi/v3/account',
  'GET /fapi/v2/balance',
  'GET /fapi/v3/balance',
  'GET /fapi/v2/positionRisk',
  'GET /fapi/v3/positionRisk',
  'GET /fapi/v1/leverageBracket',
]);

function pick<T extends { symbol: string }>(rows: T[], symbol: string | null): T | T[] {
  if (!symbol) return rows;
  const row = rows.find((r) => r.symbol === symbol);
  if (!row) throw errors.badSymbol();
  return row;
}

/**
 * `POST /fapi/v1/positionSide/dual` (Change Position Mode): account-wide,
 * refused when it would change nothing (-4059) and while anything is open —
 * an order or conditional order (-4067) or a position (-4068), on any symbol.
 */
function changePositionMode(book: BinanceBook, account: Account, params: URLSearchParams): { code: number; msg: string } {
  const raw = params.get('dualSidePosition');
  if (raw === null || raw === '') throw errors.mandatory('dualSidePosition');
  const wanted = raw.toLowerCase();
  if (wanted !== 'true' && wanted !== 'false') throw errors.badData('dualSidePosition');
  if ((wanted === 'true') === account.dualSide) throw errors.positionSideUnchanged();
  // The open indexes hold exactly the open orders (binance-book track()).
  if (account.openOrders.size > 0 || account.openAlgos.size > 0) throw errors.positionSideWithOrders();
  if (book.hasPosition(account)) throw errors.positionSideWithPosition();
  account.dualSide = wanted === 'true';
  return { code: 200, msg: 'success' };
}

function publicRoute(book: BinanceBook, route: string, params: URLSearchParams, now: number): unknown {
  const symbol = params.get('symbol');
  switch (route) {
    case 'GET /fapi/v1/ping':
      return {};
    case 'GET /fapi/v1/time':
      return { serverTime: now };
    case 'GET /fapi/v1/exchangeInfo':
      return exchangeInfo(now);
    // ccxt's fetchCurrencies hits this spot wallet endpoint unless disabled; an empty list is harmless.
    case 'GET /sapi/v1/capital/config/getall':
      return [];
    case 'GET /fapi/v1/premiumIndex':
      return pick(priceViews(book, now).premiumIndex, symbol);
    case 'GET /fapi/v1/ticker/price':
    case 'GET /fapi/v2/ticker/price':
      return pick(priceViews(book, now).price, symbol);
    case 'GET /fapi/v1/ticker/bookTicker':
      return pick(priceViews(book, now).bookTicker, symbol);
    default:
      return pick(priceViews(book, now).ticker24hr, symbol);
  }
}

/**
 * The exchange itself: answers one REST request with the JSON Binance would
 * send, or throws the BinanceError it would answer with.
 */
export function route(book: BinanceBook, method: string, path: string, query: string, body: string, apiKeyHeader: string | string[] | undefined, now: number): unknown {
  const params = new URLSearchParams(query);
  for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
  const key = `${method} ${path}`;
  if (PUBLIC.has(key)) return publicRoute(book, key, params, now);
  if (!PRIVATE.has(key)) throw errors.unknownPath();
  const account = authenticate(apiKeyHeader, (k) => book.account(k), query, body, params, now);
  const symbol = params.get('symbol');
  const inSymbol = (s: string) => !symbol || s === symbol;
  if (symbol && !marketOf(symbol) && key !== 'POST /fapi/v1/order' && key !== 'POST /fapi/v1/algoOrder') throw errors.badSymbol();

  switch (key) {
    case 'POST /fapi/v1/order': {
      const order = placeOrder(book, account, params, now);
      return params.get('newOrderRespType') === 'RESULT' ? newOrderView(order) : ackView(order);
    }
    case 'GET /fapi/v1/order': {
      const order = findOrder(account, 'order', params);
      if (!order) throw errors.orderNotFound();
      return orderView(order);
    }
    case 'DELETE /fapi/v1/order':
      return orderView(cancelOrder(book, account, findOrder(account, 'order', params), now));
    case 'GET /fapi/v1/openOrders':
      return [...account.openOrders.values()].filter((o) => inSymbol(o.symbol)).sort((a, b) => a.orderId - b.orderId).map(orderView);
    case 'GET /fapi/v1/allOrders': {
      if (!symbol) throw errors.mandatory('symbol');
      const limit = Math.min(Number(params.get('limit') ?? 500) || 500, 1000);
      return account.orders.filter((o) => o.kind === 'order' && o.symbol === symbol).slice(-limit).map(orderView);
    }
    case 'POST /fapi/v1/algoOrder':
      return algoView(placeAlgoOrder(book, account, params, now), book, false);
    case 'GET /fapi/v1/algoOrder': {
      const order = findOrder(account, 'algo', params);
      if (!order) throw errors.orderNotFound();
      return algoView(order, book, true);
    }
    case 'DELETE /fapi/v1/algoOrder': {
      const order = cancelOrder(book, account, findOrder(account, 'algo', params), now);
      return { algoId: order.algoId, clientAlgoId: order.clientOrderId, code: '200', msg: 'success' };
    }
    case 'GET /fapi/v1/openAlgoOrders':
      return [...account.openAlgos.values()].filter((o) => inSymbol(o.symbol)).sort((a, b) => (a.algoId ?? 0) - (b.algoId ?? 0)).map((o) => algoView(o, book, true));
    case 'POST /fapi/v1/leverage': {
      const market = book.market(symbol);
      const raw = params.get('leverage');
      if (raw === null || raw === '') throw errors.mandatory('leverage');
      const leverage = Number(raw);
      if (!Number.isInteger(leverage) || leverage < 1 || leverage > market.maxLeverage) throw errors.leverage(raw);
      book.setLeverage(account, market.symbol, leverage);
      return { leverage, maxNotionalValue: leverage > market.maxLeverage * 0.8 ? '50000' : '600000', symbol: market.symbol };
    }
    case 'POST /fapi/v1/marginType': {
      const market = book.market(symbol);
      const wanted = params.get('marginType');
      if (wanted === null || wanted === '') throw errors.mandatory('marginType');
      if (wanted !== 'ISOLATED' && wanted !== 'CROSSED') throw errors.badData('marginType');
      if ((account.marginType.get(market.symbol) ?? 'CROSSED') === wanted) throw errors.marginTypeUnchanged();
      if (book.hasPosition(account, market.symbol)) throw errors.marginTypeWithPosition();
      account.marginType.set(market.symbol, wanted);
      return { code: 200, msg: 'success' };
    }
    case 'GET /fapi/v1/positionSide/dual':
      return { dualSidePosition: account.dualSide };
    case 'POST /fapi/v1/positionSide/dual':
      return changePositionMode(book, account, params);
    case 'GET /fapi/v2/account':
    case 'GET /fapi/v3/account':
      return accountView(book, account, now, path === '/fapi/v2/account');
    case 'GET /fapi/v2/balance':
    case 'GET /fapi/v3/balance':
      return balanceView(book, account, now);
    case 'GET /fapi/v3/positionRisk':
      return positionRiskView(book, account, symbol);
    case 'GET /fapi/v2/positionRisk':
      return positionRiskV2View(book, account, symbol);
    // With a symbol Binance answers the one object, without it the list.
    case 'GET /fapi/v1/leverageBracket':
      return symbol ? leverageBracketView([symbol])[0] : leverageBracketView(SIM_MARKETS.map((m) => m.symbol));
    default:
      throw errors.unknownPath();
  }
}
