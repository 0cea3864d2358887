import { authenticate } from './bitget-auth.js';
import { type Account, type BitgetBook, isLive, type PlanOrder, TPSL_TYPES } from './bitget-book.js';
import { errors } from './bitget-errors.js';
import { contractsView, PRODUCT_TYPES, spotSymbolsView } from './bitget-markets.js';
import { cancelOrder, cancelPlanOrders, checkProduct, findOrder, type Params, placeOrder, placePlanOrder, placeTpslOrder, str } from './bitget-orders.js';
import { accountsView, accountView, orderView, planView, positionView, spotAssetsView } from './bitget-views.js';
import type { SimOperation } from './exchange-sim.js';
import type { SimRequest } from './sim-server.js';

/** Routes by exchange-neutral operation, for faults and counts. */
export const OPERATIONS: Readonly<Record<string, SimOperation>> = {
  'GET /api/v2/mix/market/contracts': 'markets',
  'GET /api/v2/spot/public/symbols': 'markets',
  'GET /api/v2/margin/currencies': 'markets',
  'POST /api/v2/mix/order/place-order': 'place_order',
  'POST /api/v2/mix/order/place-plan-order': 'place_trigger',
  'POST /api/v2/mix/order/place-tpsl-order': 'place_trigger',
  'GET /api/v2/mix/order/detail': 'query_order',
  'GET /api/v2/mix/order/orders-pending': 'query_order',
  'GET /api/v2/mix/order/orders-history': 'query_order',
  'GET /api/v2/mix/order/orders-plan-pending': 'query_order',
  'GET /api/v2/mix/order/orders-plan-history': 'query_order',
  'POST /api/v2/mix/order/cancel-order': 'cancel_order',
  'POST /api/v2/mix/order/cancel-plan-order': 'cancel_order',
  'GET /api/v2/mix/account/accounts': 'balance',
  'GET /api/v2/mix/account/account': 'balance',
  'GET /api/v2/spot/account/assets': 'balance',
  'GET /api/v2/mix/position/all-position': 'positions',
  'GET /api/v2/mix/position/single-position': 'positions',
  'POST /api/v2/mix/account/set-leverage': 'leverage',
};

const PUBLIC = new Set(['GET /api/v2/public/time', 'GET /api/v2/mix/market/contracts', 'GET /api/v2/spot/public/symbols', 'GET /api/v2/margin/currencies', 'GET /api/v2/spot/public/coins']);

const PRIVATE = new Set([
  'GET /api/v3/account/settings',
  ...Object.keys(OPERATIONS).filter((k) => !PUBLIC.has(k)),
  'POST /api/v2/mix/account/set-margin-mode',
  'POST /api/v2/mix/account/set-position-mode',
]);

export const isKnownRoute = (key: string) => PUBLIC.has(key) || PRIVATE.has(key);

function paramsOf(request: SimRequest): Params {
  if (request.method !== 'POST') return Object.fromEntries(request.query);
  if (request.body === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    throw errors.verification();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw errors.verification();
  return parsed as Params;
}

function publicRoute(key: string, p: Params, now: number): unknown {
  switch (key) {
    case 'GET /api/v2/public/time':
      return { serverTime: String(now) };
    case 'GET /api/v2/mix/market/contracts': {
      const productType = (str(p, 'productType') ?? '').toUpperCase();
      if (!productType) throw errors.empty('productType');
      if (!PRODUCT_TYPES.has(productType)) throw errors.paramError('productType');
      const all = contractsView(productType) as Array<{ symbol: string }>;
      const symbol = str(p, 'symbol')?.toUpperCase();
      return symbol ? all.filter((c) => c.symbol === symbol) : all;
    }
    case 'GET /api/v2/spot/public/symbols':
      return spotSymbolsView();
    // Margin and coin lists are asked for by ccxt's fetchMarkets / fetchCurrencies; the simulator has none.
    default:
      return [];
  }
}

const newestFirst = <T extends { cTime: number }>(list: T[]) => [...list].sort((a, b) => b.cTime - a.cTime);
// Bitget answers an empty page with entrustedList null; endId is the last (oldest) id, for idLessThan paging.
const page = (list: Array<Record<string, unknown>>) => ({ entrustedList: list.length > 0 ? list : null, endId: String(list.at(-1)?.['orderId'] ?? '') });

function plansOfType(account: Account, planType: string | undefined): PlanOrder[] {
  if (!planType) throw errors.empty('planType');
  if (planType === 'profit_loss') return account.plans.filter((x) => TPSL_TYPES.has(x.planType));
  if (planType !== 'normal_plan' && planType !== 'track_plan') throw errors.paramError('planType');
  return account.plans.filter((x) => x.planType === planType);
}

function filterOrders<T extends { symbol: string; orderId: string; clientOid: string }>(list: T[], p: Params): T[] {
  const symbol = str(p, 'symbol')?.toUpperCase();
  const orderId = str(p, 'orderId');
  const clientOid = str(p, 'clientOid');
  return list.filter((o) => (!symbol || o.symbol === symbol) && (!orderId || o.orderId === orderId) && (orderId || !clientOid || o.clientOid === clientOid));
}

function privateRoute(book: BitgetBook, account: Account, key: string, p: Params, now: number): unknown {
  switch (key) {
    case 'GET /api/v3/account/settings':
      // Every simulated account is a Classic account.
      throw errors.classicAccount();
    case 'POST /api/v2/mix/order/place-order': {
      const o = placeOrder(book, account, p, now);
      return { clientOid: o.clientOid, orderId: o.orderId };
    }
    case 'POST /api/v2/mix/order/place-plan-order':
    case 'POST /api/v2/mix/order/place-tpsl-order': {
      const plan = key.endsWith('place-plan-order') ? placePlanOrder(book, account, p, now) : placeTpslOrder(book, account, p, now);
      return { orderId: plan.orderId, clientOid: plan.clientOid };
    }
    case 'GET /api/v2/mix/order/detail': {
      checkProduct(p, false);
      book.market(str(p, 'symbol'));
      // Plan orders live in a separate book: an id of one is "not found" here (unknown params such as trigger=true are ignored).
      const order = findOrder(account, p);
      if (!order) throw errors.orderNotFound();
      return orderView(order);
    }
    case 'GET /api/v2/mix/order/orders-pending':
      checkProduct(p, false);
      return page(filterOrders(newestFirst(account.orders.filter(isLive)), p).map(orderView));
    case 'GET /api/v2/mix/order/orders-history':
      checkProduct(p, false);
      return page(filterOrders(newestFirst(account.orders.filter((o) => !isLive(o))), p).map(orderView));
    case 'GET /api/v2/mix/order/orders-plan-pending':
      checkProduct(p, false);
      return page(filterOrders(newestFirst(plansOfType(account, str(p, 'planType')).filter((x) => x.planStatus === 'live')), p).map((x) => planView(x, book, false)));
    case 'GET /api/v2/mix/order/orders-plan-history': {
      checkProduct(p, false);
      const status = str(p, 'planStatus');
      const done = plansOfType(account, str(p, 'planType')).filter((x) => x.planStatus !== 'live' && (!status || x.planStatus === status));
      return page(filterOrders(newestFirst(done), p).map((x) => planView(x, book, true)));
    }
    case 'POST /api/v2/mix/order/cancel-order': {
      const o = cancelOrder(book, account, p, now);
      return { orderId: o.orderId, clientOid: o.clientOid };
    }
    case 'POST /api/v2/mix/order/cancel-plan-order':
      return cancelPlanOrders(book, account, p, now);
    case 'POST /api/v2/mix/account/set-leverage': {
      checkProduct(p, true);
      const c = book.market(str(p, 'symbol'));
      const raw = str(p, 'leverage') ?? str(p, 'longLeverage');
      if (raw === undefined) throw errors.empty('leverage');
      const leverage = Number(raw);
      if (!Number.isInteger(leverage) || leverage < 1) throw errors.paramError('leverage');
      if (leverage > c.maxLever) throw errors.leverageTooHigh();
      // Setting the value already in force succeeds like any other.
      account.leverage.set(c.symbol, leverage);
      return { symbol: c.symbol, marginCoin: 'USDT', longLeverage: String(leverage), shortLeverage: String(leverage), crossMarginLeverage: String(leverage), marginMode: book.marginModeOf(account, c.symbol) };
    }
    case 'POST /api/v2/mix/account/set-margin-mode': {
      checkProduct(p, true);
      const c = book.market(str(p, 'symbol'));
      const mode = str(p, 'marginMode')?.toLowerCase();
      if (mode === undefined) throw errors.empty('marginMode');
      if (mode !== 'crossed' && mode !== 'isolated') throw errors.paramError('marginMode');
      const busy = [...account.positions.values()].some((x) => x.symbol === c.symbol) || account.orders.some((o) => isLive(o) && o.symbol === c.symbol);
      if (busy && mode !== book.marginModeOf(account, c.symbol)) throw errors.marginModeLocked();
      account.marginMode.set(c.symbol, mode);
      const leverage = String(book.leverageOf(account, c.symbol));
      return { symbol: c.symbol, marginCoin: 'USDT', longLeverage: leverage, shortLeverage: leverage, marginMode: mode };
    }
    case 'POST /api/v2/mix/account/set-position-mode': {
      checkProduct(p, false);
      const mode = str(p, 'posMode');
      if (mode === undefined) throw errors.empty('posMode');
      if (mode !== 'one_way_mode' && mode !== 'hedge_mode') throw errors.paramError('posMode');
      const busy = account.positions.size > 0 || account.orders.some(isLive) || account.plans.some((x) => x.planStatus === 'live');
      if (busy && mode !== account.posMode) throw errors.positionModeLocked();
      account.posMode = mode;
      return { posMode: mode };
    }
    case 'GET /api/v2/mix/account/account': {
      checkProduct(p, true);
      return accountView(book, account, book.market(str(p, 'symbol')).symbol);
    }
    case 'GET /api/v2/mix/account/accounts':
      checkProduct(p, false);
      return accountsView(book, account);
    case 'GET /api/v2/mix/position/all-position':
      checkProduct(p, false);
      return [...account.positions.values()].sort((a, b) => b.cTime - a.cTime).map((x) => positionView(book, account, x));
    case 'GET /api/v2/mix/position/single-position': {
      checkProduct(p, true);
      const c = book.market(str(p, 'symbol'));
      return [...account.positions.values()].filter((x) => x.symbol === c.symbol).map((x) => positionView(book, account, x));
    }
    case 'GET /api/v2/spot/account/assets':
      return spotAssetsView(account, now);
    default:
      throw errors.notFound();
  }
}

/** Answers one request with Bitget's envelope, or throws the BitgetError it would answer with. */
export function route(book: BitgetBook, request: SimRequest): unknown {
  const key = `${request.method} ${request.path}`;
  if (!isKnownRoute(key)) throw errors.notFound();
  if (PUBLIC.has(key)) return publicRoute(key, paramsOf(request), request.now);
  const account = authenticate(request.headers, (k) => book.accounts.get(k), request.method, request.path, request.rawQuery, request.body, request.now);
  if (request.method === 'POST' && !String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw errors.contentType();
  return privateRoute(book, account, key, paramsOf(request), request.now);
}

