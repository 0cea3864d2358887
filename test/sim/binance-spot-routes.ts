import { authenticate } from './binance-auth.js';
import { BinanceError } from './binance-errors.js';
import { type SpotAccount, type SpotBook, type SpotOrder, isOpen, STOP_TYPES } from './binance-spot-book.js';
import { spotErrors } from './binance-spot-errors.js';
import { futuresExchangeInfo, marginPairs, ORDERS_PER_10S, ORDERS_PER_DAY, SPOT_MARKETS, spotExchangeInfo } from './binance-spot-markets.js';
import { cancelList, cancelOrder, findList, findOrder, parseLegacyOco, parseOcoList, placeOco, placeOrder, respType } from './binance-spot-orders.js';
import { accountView, cancelView, listView, newOrderView, queryView, resultView, tickerViews, tradesView, ackView, fullView } from './binance-spot-views.js';
import type { SimOperation } from './exchange-sim.js';
import type { ExchangeDialect, SimAnswer, SimRequest } from './sim-server.js';

const JSON_TYPE = 'application/json;charset=UTF-8';

type Security = 'NONE' | 'MARKET_DATA' | 'SIGNED';

interface Route {
  security: Security;
  /** Every parameter the endpoint reads; anything else sent is -1104. */
  params: readonly string[];
  /** Request weight [with symbol, without]. */
  weight: readonly [number, number];
}

const SIGNED = ['timestamp', 'recvWindow', 'signature'];
const NEW_ORDER = [
  'symbol', 'side', 'type', 'timeInForce', 'quantity', 'quoteOrderQty', 'price', 'newClientOrderId', 'strategyId', 'strategyType',
  'stopPrice', 'trailingDelta', 'icebergQty', 'newOrderRespType', 'selfTradePreventionMode', 'pegPriceType', 'pegOffsetValue', 'pegOffsetType',
];
const leg = (p: string) => ['Type', 'ClientOrderId', 'IcebergQty', 'Price', 'StopPrice', 'TrailingDelta', 'TimeInForce', 'StrategyId', 'StrategyType', 'PegPriceType', 'PegOffsetType', 'PegOffsetValue'].map((s) => p + s);
const OCO = ['symbol', 'listClientOrderId', 'side', 'quantity', ...leg('above'), ...leg('below'), 'newOrderRespType', 'selfTradePreventionMode'];
const LEGACY_OCO = [
  'symbol', 'listClientOrderId', 'side', 'quantity', 'limitClientOrderId', 'price', 'limitStrategyId', 'limitStrategyType', 'limitIcebergQty', 'trailingDelta',
  'stopClientOrderId', 'stopPrice', 'stopStrategyId', 'stopStrategyType', 'stopLimitPrice', 'stopIcebergQty', 'stopLimitTimeInForce', 'newOrderRespType', 'selfTradePreventionMode',
];

/** Spot routes with their security type, parameters and request weight (rest-api docs, 2025). */
const ROUTES: Record<string, Route> = {
  'GET /api/v3/ping': { security: 'NONE', params: [], weight: [1, 1] },
  'GET /api/v3/time': { security: 'NONE', params: [], weight: [1, 1] },
  'GET /api/v3/exchangeInfo': { security: 'NONE', params: ['symbol', 'symbols', 'permissions', 'showPermissionSets', 'symbolStatus'], weight: [20, 20] },
  'GET /api/v3/ticker/price': { security: 'NONE', params: ['symbol', 'symbols'], weight: [2, 4] },
  'GET /api/v3/ticker/bookTicker': { security: 'NONE', params: ['symbol', 'symbols'], weight: [2, 4] },
  'GET /api/v3/ticker/24hr': { security: 'NONE', params: ['symbol', 'symbols', 'type'], weight: [2, 80] },
  'GET /api/v3/avgPrice': { security: 'NONE', params: ['symbol'], weight: [2, 2] },
  'POST /api/v3/order': { security: 'SIGNED', params: NEW_ORDER, weight: [1, 1] },
  'POST /api/v3/order/test': { security: 'SIGNED', params: [...NEW_ORDER, 'computeCommissionRates'], weight: [1, 1] },
  'GET /api/v3/order': { security: 'SIGNED', params: ['symbol', 'orderId', 'origClientOrderId'], weight: [4, 4] },
  'DELETE /api/v3/order': { security: 'SIGNED', params: ['symbol', 'orderId', 'origClientOrderId', 'newClientOrderId', 'cancelRestrictions'], weight: [1, 1] },
  'DELETE /api/v3/openOrders': { security: 'SIGNED', params: ['symbol'], weight: [1, 1] },
  'GET /api/v3/openOrders': { security: 'SIGNED', params: ['symbol'], weight: [6, 80] },
  'GET /api/v3/allOrders': { security: 'SIGNED', params: ['symbol', 'orderId', 'startTime', 'endTime', 'limit'], weight: [20, 20] },
  'POST /api/v3/orderList/oco': { security: 'SIGNED', params: OCO, weight: [1, 1] },
  'POST /api/v3/order/oco': { security: 'SIGNED', params: LEGACY_OCO, weight: [1, 1] },
  'GET /api/v3/orderList': { security: 'SIGNED', params: ['orderListId', 'origClientOrderId'], weight: [4, 4] },
  'DELETE /api/v3/orderList': { security: 'SIGNED', params: ['symbol', 'orderListId', 'listClientOrderId', 'newClientOrderId'], weight: [1, 1] },
  'GET /api/v3/openOrderList': { security: 'SIGNED', params: [], weight: [6, 6] },
  'GET /api/v3/allOrderList': { security: 'SIGNED', params: ['fromId', 'startTime', 'endTime', 'limit'], weight: [20, 20] },
  'GET /api/v3/account': { security: 'SIGNED', params: ['omitZeroBalances'], weight: [20, 20] },
  'GET /api/v3/myTrades': { security: 'SIGNED', params: ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'], weight: [20, 20] },
  // The wallet (sapi) calls ccxt makes while loading markets with credentials, or fetching currencies.
  'GET /sapi/v1/margin/allPairs': { security: 'MARKET_DATA', params: ['symbol'], weight: [1, 1] },
  'GET /sapi/v1/margin/isolated/allPairs': { security: 'SIGNED', params: ['symbol'], weight: [10, 10] },
  'GET /sapi/v1/capital/config/getall': { security: 'SIGNED', params: [], weight: [10, 10] },
};

/** The market lists of the other Binance APIs that ccxt's `binance` loads by default. */
const OTHER_MARKET_LISTS: Record<string, 'fapi' | 'dapi' | 'eapi'> = {
  'GET /fapi/v1/exchangeInfo': 'fapi',
  'GET /dapi/v1/exchangeInfo': 'dapi',
  'GET /eapi/v1/exchangeInfo': 'eapi',
};
const DERIVATIVES = /^\/(fapi|dapi|eapi|papi)\//;

/** Query parameters win over body parameters of the same name (rest-api "General information on endpoints"). */
function paramsOf(request: SimRequest): URLSearchParams {
  const params = new URLSearchParams(request.body);
  for (const [k, v] of request.query) params.set(k, v);
  return params;
}

function sentNames(request: SimRequest): Set<string> {
  const names = new Set<string>();
  for (const [k] of request.query) names.add(k);
  for (const [k] of new URLSearchParams(request.body)) names.add(k);
  return names;
}

const answerOf = (error: BinanceError): SimAnswer => ({ status: error.status, body: error.body(), contentType: JSON_TYPE });
const ok = (body: unknown, headers?: Record<string, string>): SimAnswer => ({ status: 200, body, contentType: JSON_TYPE, ...(headers ? { headers } : {}) });

/** The IP's request weight in the current minute (reported, like Binance, in X-MBX-USED-WEIGHT-1M). */
class Weight {
  private minute = 0;
  private used = 0;

  add(weight: number, now: number): number {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) [this.minute, this.used] = [minute, 0];
    this.used += weight;
    return this.used;
  }
}

/**
 * Binance spot as an `ExchangeDialect`: the `/api/v3` routes, the wallet
 * calls ccxt makes, minimal market lists for the derivatives APIs ccxt's
 * `binance` loads too, and -2015 for every private derivatives call,
 * which is what Binance answers a key without futures permission.
 */
export class SpotDialect implements ExchangeDialect {
  readonly exchange = 'binance';
  private readonly weight = new Weight();
  private cancelIds = 1;

  constructor(readonly book: SpotBook) {}

  apiKeyOf(request: SimRequest): string | undefined {
    const key = request.headers['x-mbx-apikey'];
    return typeof key === 'string' && key !== '' ? key : undefined;
  }

  operationOf(request: SimRequest): SimOperation | undefined {
    const key = `${request.method} ${request.path}`;
    switch (key) {
      case 'POST /api/v3/order':
      case 'POST /api/v3/order/test':
        return STOP_TYPES.has(paramsOf(request).get('type') ?? '') ? 'place_trigger' : 'place_order';
      case 'POST /api/v3/orderList/oco':
      case 'POST /api/v3/order/oco':
        return 'place_trigger';
      case 'GET /api/v3/order':
      case 'GET /api/v3/orderList':
        return 'query_order';
      case 'DELETE /api/v3/order':
      case 'DELETE /api/v3/orderList':
      case 'DELETE /api/v3/openOrders':
        return 'cancel_order';
      case 'GET /api/v3/account':
        return 'balance';
      case 'GET /api/v3/exchangeInfo':
      case 'GET /sapi/v1/margin/allPairs':
      case 'GET /sapi/v1/margin/isolated/allPairs':
        return 'markets';
      default:
        if (key in OTHER_MARKET_LISTS) return 'markets';
        if (/\/(positionRisk|leverageBracket|account|balance)$/.test(request.path) && DERIVATIVES.test(request.path)) return 'positions';
        if (/\/(leverage|marginType)$/.test(request.path) && DERIVATIVES.test(request.path)) return 'leverage';
        return undefined;
    }
  }

  usageHeaders(request: SimRequest): Record<string, string> {
    if (!request.path.startsWith('/api/')) return {};
    const route = ROUTES[`${request.method} ${request.path}`];
    const weight = route ? (request.query.has('symbol') || new URLSearchParams(request.body).has('symbol') ? route.weight[0] : route.weight[1]) : 1;
    const used = String(this.weight.add(weight, request.now));
    return { 'x-mbx-used-weight': used, 'x-mbx-used-weight-1m': used };
  }

  rateLimited(): SimAnswer {
    return { ...answerOf(spotErrors.rateLimit()), headers: { 'retry-after': '7' } };
  }

  unknownOutcome(): SimAnswer {
    return answerOf(spotErrors.unknownOutcome());
  }

  rejected(_request: SimRequest, code: number | string | undefined, msg: string | undefined, status: number | undefined): SimAnswer {
    return answerOf(new BinanceError(status ?? 400, Number(code ?? -1000), msg ?? 'An unknown error occurred while processing the request.'));
  }

  handle(request: SimRequest): SimAnswer {
    try {
      return this.route(request);
    } catch (error) {
      if (error instanceof BinanceError) return answerOf(error);
      throw error;
    }
  }

  private route(request: SimRequest): SimAnswer {
    const key = `${request.method} ${request.path}`;
    const { now } = request;
    const other = OTHER_MARKET_LISTS[key];
    if (other) return ok(futuresExchangeInfo(other, now));
    if (key === 'GET /fapi/v1/time' || key === 'GET /dapi/v1/time') return ok({ serverTime: now });
    // A spot-only key has no futures (or options, or portfolio margin) permission.
    if (DERIVATIVES.test(request.path)) throw spotErrors.badApiKey();
    const route = ROUTES[key];
    if (!route) throw spotErrors.unknownPath();
    const params = paramsOf(request);
    let account: SpotAccount | undefined;
    if (route.security === 'SIGNED') {
      account = authenticate(request.headers['x-mbx-apikey'], (k) => this.book.account(k), request.rawQuery, request.body, params, now);
    } else if (route.security === 'MARKET_DATA') {
      const apiKey = this.apiKeyOf(request);
      if (!apiKey) throw new BinanceError(401, -2014, 'API-key format invalid.');
      if (!this.book.account(apiKey)) throw spotErrors.badApiKey();
    }
    const sent = sentNames(request);
    // ccxt signs the MARKET_DATA wallet calls too, and Binance accepts the extra signing parameters there.
    const allowed = new Set([...route.params, ...(route.security === 'NONE' ? [] : SIGNED)]);
    const unread = [...sent].filter((name) => !allowed.has(name)).length;
    if (unread > 0) throw spotErrors.unread(sent.size - unread, sent.size);
    if (account) return this.privateRoute(key, account, params, now);
    return this.publicRoute(key, params, now);
  }

  private publicRoute(key: string, params: URLSearchParams, now: number): SimAnswer {
    const symbol = params.get('symbol');
    const pick = <T extends { symbol: string }>(rows: T[]) => {
      if (!symbol) return rows;
      const row = rows.find((r) => r.symbol === symbol);
      if (!row) throw spotErrors.badSymbol();
      return row;
    };
    switch (key) {
      case 'GET /api/v3/ping':
        return ok({});
      case 'GET /api/v3/time':
        return ok({ serverTime: now });
      case 'GET /api/v3/exchangeInfo': {
        const info = spotExchangeInfo(now) as { symbols: Array<{ symbol: string }> };
        const wanted = symbol ? [symbol] : params.get('symbols') ? (JSON.parse(params.get('symbols') as string) as string[]) : undefined;
        if (wanted && wanted.some((s) => !SPOT_MARKETS.some((m) => m.symbol === s))) throw spotErrors.badSymbol();
        return ok(wanted ? { ...info, symbols: info.symbols.filter((s) => wanted.includes(s.symbol)) } : info);
      }
      case 'GET /api/v3/ticker/price':
        return ok(pick(tickerViews(this.book, now).price));
      case 'GET /api/v3/ticker/bookTicker':
        return ok(pick(tickerViews(this.book, now).bookTicker));
      case 'GET /api/v3/ticker/24hr':
        return ok(pick(tickerViews(this.book, now).ticker24hr));
      case 'GET /api/v3/avgPrice': {
        if (!symbol) throw spotErrors.mandatory('symbol');
        const { symbol: _s, ...avg } = pick(tickerViews(this.book, now).avgPrice) as { symbol: string };
        return ok(avg);
      }
      case 'GET /sapi/v1/margin/allPairs':
        return ok(marginPairs(false));
      default:
        throw spotErrors.unknownPath();
    }
  }

  /** The ORDERS limits, per account: 100 per 10 s and 200,000 per day (429 -1015, no Retry-After). */
  private placements(account: SpotAccount, count: number, now: number): () => Record<string, string> {
    account.placements = account.placements.filter((t) => now - t < 86_400_000);
    const tenSeconds = account.placements.filter((t) => now - t < 10_000).length;
    if (tenSeconds + count > ORDERS_PER_10S) throw spotErrors.tooManyOrders(ORDERS_PER_10S, '10 SECOND');
    if (account.placements.length + count > ORDERS_PER_DAY) throw spotErrors.tooManyOrders(ORDERS_PER_DAY, '1 DAY');
    return () => {
      for (let i = 0; i < count; i++) account.placements.push(now);
      return { 'x-mbx-order-count-10s': String(tenSeconds + count), 'x-mbx-order-count-1d': String(account.placements.length) };
    };
  }

  private cancelId(params: URLSearchParams): string {
    return params.get('newClientOrderId') || `simcancel${String(this.cancelIds++).padStart(13, '0')}`;
  }

  private privateRoute(key: string, account: SpotAccount, params: URLSearchParams, now: number): SimAnswer {
    const symbol = params.get('symbol');
    if (symbol && !SPOT_MARKETS.some((m) => m.symbol === symbol)) throw spotErrors.badSymbol();
    const bySymbol = (o: SpotOrder) => !symbol || o.symbol === symbol;
    switch (key) {
      case 'POST /api/v3/order': {
        const counted = this.placements(account, 1, now);
        const order = placeOrder(this.book, account, params, now) as SpotOrder;
        // MARKET and LIMIT answer FULL by default, every other type ACK.
        const fallback = order.type === 'MARKET' || order.type === 'LIMIT' ? 'FULL' : 'ACK';
        return ok(newOrderView(order, respType(params, fallback)), counted());
      }
      case 'POST /api/v3/order/test':
        placeOrder(this.book, account, params, now, true);
        return ok({});
      case 'GET /api/v3/order': {
        const order = findOrder(account, params);
        if (!order) throw spotErrors.noSuchOrder();
        return ok(queryView(order));
      }
      case 'DELETE /api/v3/order': {
        const order = cancelOrder(this.book, account, params, now);
        return ok(cancelView(order, this.cancelId(params), now));
      }
      case 'DELETE /api/v3/openOrders': {
        if (!symbol) throw spotErrors.mandatory('symbol');
        const open = [...account.open.values()].filter(bySymbol).sort((a, b) => a.orderId - b.orderId);
        if (open.length === 0) throw spotErrors.unknownOrder();
        const out: unknown[] = [];
        const listed = new Set<number>();
        for (const o of open) {
          const list = this.book.listOf(account, o);
          if (list) {
            if (listed.has(list.orderListId)) continue;
            listed.add(list.orderListId);
            cancelList(this.book, account, list, now);
            out.push(listView(list, account, (leg) => cancelView(leg, this.cancelId(new URLSearchParams()), now)));
          } else {
            if (!isOpen(o)) continue;
            cancelOrder(this.book, account, new URLSearchParams({ symbol: o.symbol, orderId: String(o.orderId) }), now);
            out.push(cancelView(o, this.cancelId(new URLSearchParams()), now));
          }
        }
        return ok(out);
      }
      case 'GET /api/v3/openOrders':
        return ok([...account.open.values()].filter(bySymbol).sort((a, b) => a.orderId - b.orderId).map(queryView));
      case 'GET /api/v3/allOrders': {
        if (!symbol) throw spotErrors.mandatory('symbol');
        const from = Number(params.get('orderId') ?? 0);
        const limit = Math.min(Number(params.get('limit') ?? 500) || 500, 1000);
        const rows = account.orders.filter((o) => o.symbol === symbol && o.orderId >= from);
        return ok((params.get('orderId') ? rows.slice(0, limit) : rows.slice(-limit)).map(queryView));
      }
      case 'POST /api/v3/orderList/oco':
      case 'POST /api/v3/order/oco': {
        const spec = key === 'POST /api/v3/order/oco' ? parseLegacyOco(params) : parseOcoList(params);
        const counted = this.placements(account, 2, now);
        const { list } = placeOco(this.book, account, spec, now);
        const resp = respType(params, 'RESULT');
        const report = resp === 'ACK' ? ackView : resp === 'RESULT' ? resultView : fullView;
        return ok(listView(list, account, report), counted());
      }
      case 'GET /api/v3/orderList': {
        const list = findList(account, params, 'origClientOrderId');
        if (!list) throw spotErrors.noSuchOrderList();
        return ok(listView(list, account));
      }
      case 'DELETE /api/v3/orderList': {
        if (!symbol) throw spotErrors.mandatory('symbol');
        const list = findList(account, params, 'listClientOrderId');
        if (!list || list.symbol !== symbol || list.listOrderStatus !== 'EXECUTING') throw spotErrors.unknownOrder();
        cancelList(this.book, account, list, now);
        return ok(listView(list, account, (leg) => cancelView(leg, this.cancelId(new URLSearchParams()), now)));
      }
      case 'GET /api/v3/openOrderList':
        return ok(account.lists.filter((l) => l.listOrderStatus === 'EXECUTING').map((l) => listView(l, account)));
      case 'GET /api/v3/allOrderList': {
        const limit = Math.min(Number(params.get('limit') ?? 500) || 500, 1000);
        return ok(account.lists.slice(-limit).map((l) => listView(l, account)));
      }
      case 'GET /api/v3/account':
        return ok(accountView(account, params.get('omitZeroBalances') === 'true'));
      case 'GET /api/v3/myTrades': {
        if (!symbol) throw spotErrors.mandatory('symbol');
        return ok(tradesView(account, symbol, params.get('orderId')));
      }
      case 'GET /sapi/v1/margin/isolated/allPairs':
        return ok(marginPairs(true));
      case 'GET /sapi/v1/capital/config/getall':
        return ok([]);
      default:
        throw spotErrors.unknownPath();
    }
  }
}
