import {
  type Lock,
  type OrderList,
  type Side,
  type SpotAccount,
  type SpotBook,
  type SpotOrder,
  EPS,
  isDormantStop,
  isOpen,
  r8,
  STOP_TYPES,
} from './binance-spot-book.js';
import { spotErrors } from './binance-spot-errors.js';
import { fill, finish, marketable, stopReached } from './binance-spot-matching.js';
import type { SpotMarket } from './binance-spot-markets.js';

/** Binance spot's decimal syntax and client id range, as its -1100 answers quote them. */
const DECIMAL = /^([0-9]{1,20})(\.[0-9]{1,20})?$/;
const DECIMAL_RANGE = '^([0-9]{1,20})(\\.[0-9]{1,20})?$';
const CLIENT_ID = /^[a-zA-Z0-9-_]{1,36}$/;
const CLIENT_ID_RANGE = '^[a-zA-Z0-9-_]{1,36}$';
const ORDER_TYPES = new Set(['LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT', 'LIMIT_MAKER']);
const TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK']);
const RESP_TYPES = new Set(['ACK', 'RESULT', 'FULL']);
/** Types that trade at the market when they execute (MARKET_LOT_SIZE applies, no price). */
const MARKET_LIKE = new Set(['MARKET', 'STOP_LOSS', 'TAKE_PROFIT']);

export type RespType = 'ACK' | 'RESULT' | 'FULL';

function decimalsOf(raw: string): number {
  const dot = raw.indexOf('.');
  return dot < 0 ? 0 : raw.replace(/0+$/, '').length - dot - 1;
}

function onStep(value: number, step: string): boolean {
  const s = Number(step);
  if (s === 0) return true;
  const ratio = value / s;
  return Math.abs(ratio - Math.round(ratio)) < 1e-6;
}

/** A DECIMAL parameter: -1102 when mandatory and missing, -1100 when malformed, -1111 beyond 8 decimals. */
export function decimal(params: URLSearchParams, name: string, required: boolean): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') {
    if (required) throw spotErrors.mandatory(name);
    return undefined;
  }
  if (!DECIMAL.test(raw)) throw spotErrors.illegalChars(name, DECIMAL_RANGE);
  if (decimalsOf(raw) > 8) throw spotErrors.precision(name);
  return Number(raw);
}

export function clientId(params: URLSearchParams, name: string): string | undefined {
  const id = params.get(name);
  if (id === null || id === '') return undefined;
  if (!CLIENT_ID.test(id)) throw spotErrors.illegalChars(name, CLIENT_ID_RANGE);
  return id;
}

export function respType(params: URLSearchParams, fallback: RespType): RespType {
  const raw = params.get('newOrderRespType');
  if (raw === null || raw === '') return fallback;
  if (!RESP_TYPES.has(raw)) throw spotErrors.badData('newOrderRespType');
  return raw as RespType;
}

function parseSide(raw: string | null): Side {
  if (raw === null || raw === '') throw spotErrors.mandatory('side');
  if (raw !== 'BUY' && raw !== 'SELL') throw spotErrors.badSide();
  return raw;
}

function parseTimeInForce(raw: string | null | undefined, name: string, required: boolean): string | undefined {
  if (raw === null || raw === undefined || raw === '') {
    if (required) throw spotErrors.mandatory(name);
    return undefined;
  }
  if (!TIME_IN_FORCE.has(raw)) throw spotErrors.badTimeInForce();
  return raw;
}

/* ---------- filters (-1013), checked by the API before the matching engine ---------- */

function priceFilter(m: SpotMarket, price: number): void {
  if (price < Number(m.minPrice) - EPS || price > Number(m.maxPrice) + EPS || !onStep(price, m.tickSize)) throw spotErrors.priceFilter();
}

/** PERCENT_PRICE_BY_SIDE: a BUY price within bid multipliers, a SELL within ask multipliers, of the average price. */
function percentPriceBySide(m: SpotMarket, side: Side, price: number, avg: number): void {
  const [up, down] = side === 'BUY' ? [m.bidMultiplierUp, m.bidMultiplierDown] : [m.askMultiplierUp, m.askMultiplierDown];
  if (price > avg * Number(up) + EPS || price < avg * Number(down) - EPS) throw spotErrors.percentPriceBySide();
}

function lotSize(m: SpotMarket, qty: number): void {
  if (qty < Number(m.minQty) - EPS || qty > Number(m.maxQty) + EPS || !onStep(qty, m.stepSize)) throw spotErrors.lotSize();
}

function marketLotSize(m: SpotMarket, qty: number): void {
  if (qty > Number(m.marketMaxQty) + EPS) throw spotErrors.marketLotSize();
}

/** NOTIONAL: minNotional applies to market orders too (applyMinToMarket), maxNotional only to limits. */
function notional(m: SpotMarket, value: number, isMarket: boolean): void {
  if (value < Number(m.minNotional) - EPS) throw spotErrors.notional();
  if (!isMarket && value > Number(m.maxNotional) + EPS) throw spotErrors.notional();
}

function countFilters(account: SpotAccount, m: SpotMarket, orders: number, algos: number): void {
  let open = 0;
  let dormant = 0;
  for (const o of account.open.values()) {
    if (o.symbol !== m.symbol) continue;
    open++;
    if (isDormantStop(o)) dormant++;
  }
  if (open + orders > m.maxNumOrders) throw spotErrors.maxNumOrders();
  if (algos > 0 && dormant + algos > m.maxNumAlgoOrders) throw spotErrors.maxNumAlgoOrders();
}

/* ---------- the order itself ---------- */

interface OrderSpec {
  market: SpotMarket;
  side: Side;
  type: string;
  timeInForce: string | undefined;
  qty: number;
  quoteOrderQty: number | undefined;
  price: number | undefined;
  stopPrice: number | undefined;
  clientOrderId: string | undefined;
}

/**
 * What an order locks while it rests: a SELL its base quantity, a BUY its
 * quote value at its limit price (at its stop price for a stop that becomes
 * a market order — the simulator's reading, Binance does not document it).
 */
function lockNeed(spec: { market: SpotMarket; side: Side; type: string; qty: number; price: number | undefined; stopPrice: number | undefined }): Lock {
  if (spec.side === 'SELL') return { asset: spec.market.base, amount: spec.qty };
  const at = MARKET_LIKE.has(spec.type) ? (spec.stopPrice ?? 0) : (spec.price ?? 0);
  return { asset: spec.market.quote, amount: r8(spec.qty * at) };
}

function newOrder(book: SpotBook, account: SpotAccount, spec: OrderSpec, listId: number, leg: SpotOrder['leg'], now: number): SpotOrder {
  const orderId = book.newOrderId();
  return {
    account: account.apiKey,
    symbol: spec.market.symbol,
    orderId,
    orderListId: listId,
    // Binance generates 22 characters when none is sent.
    clientOrderId: spec.clientOrderId ?? `sim${String(orderId).padStart(19, '0')}`,
    side: spec.side,
    type: spec.type,
    timeInForce: spec.timeInForce ?? 'GTC',
    status: 'NEW',
    price: spec.price ?? 0,
    stopPrice: spec.stopPrice,
    origQty: spec.qty,
    executedQty: 0,
    cumQuote: 0,
    origQuoteOrderQty: spec.quoteOrderQty ?? 0,
    time: now,
    updateTime: now,
    workingTime: STOP_TYPES.has(spec.type) ? -1 : now,
    fills: [],
    lock: undefined,
    leg,
  };
}

function openWithClientId(account: SpotAccount, id: string): SpotOrder | undefined {
  for (const o of account.open.values()) if (o.clientOrderId === id) return o;
  return undefined;
}

/**
 * `POST /api/v3/order` (and `/api/v3/order/test` with `dryRun`, which runs
 * the API's checks but never reaches the matching engine). The checks run
 * in Binance's order: parameters (-11xx), filters (-1013), then the
 * matching engine's own refusals (-2010: duplicate client id, a stop that
 * would trigger immediately, a post-only that would take, the balance).
 */
export function placeOrder(book: SpotBook, account: SpotAccount, params: URLSearchParams, now: number, dryRun = false): SpotOrder | undefined {
  const market = book.market(params.get('symbol') || undefined);
  const side = parseSide(params.get('side'));
  const type = params.get('type');
  if (type === null || type === '') throw spotErrors.mandatory('type');
  if (!ORDER_TYPES.has(type)) throw spotErrors.badType();
  const clientOrderId = clientId(params, 'newClientOrderId');
  respType(params, 'FULL');

  const limitLike = type === 'LIMIT' || type === 'LIMIT_MAKER' || type.endsWith('_LIMIT');
  const needsTif = type === 'LIMIT' || type.endsWith('_LIMIT');
  const timeInForce = needsTif ? parseTimeInForce(params.get('timeInForce'), 'timeInForce', true) : undefined;
  if (!needsTif && params.get('timeInForce')) throw spotErrors.tifNotRequired();
  const price = limitLike ? decimal(params, 'price', true) : undefined;
  if (!limitLike && params.get('price')) throw spotErrors.notRequired('price');
  const stops = STOP_TYPES.has(type);
  if (stops && !params.get('stopPrice') && !params.get('trailingDelta')) throw spotErrors.mandatory('stopPrice');
  const stopPrice = stops ? decimal(params, 'stopPrice', false) : undefined;
  if (!stops && params.get('stopPrice')) throw spotErrors.notRequired('stopPrice');

  const last = book.mark(market.symbol);
  let qty: number;
  let quoteOrderQty: number | undefined;
  if (type === 'MARKET') {
    const rawQty = decimal(params, 'quantity', false);
    quoteOrderQty = decimal(params, 'quoteOrderQty', false);
    if (rawQty === undefined && quoteOrderQty === undefined) throw spotErrors.eitherParam('quantity', 'quoteOrderQty');
    if (rawQty !== undefined && quoteOrderQty !== undefined) throw spotErrors.notRequired('quoteOrderQty');
    // quoteOrderQty buys (or sells) as much base as it covers, rounded down to the lot step.
    qty = rawQty ?? r8(Math.floor(r8((quoteOrderQty as number) / last / Number(market.stepSize)) + 1e-9) * Number(market.stepSize));
  } else {
    qty = decimal(params, 'quantity', true) as number;
    if (params.get('quoteOrderQty')) throw spotErrors.notRequired('quoteOrderQty');
  }

  if (price !== undefined) priceFilter(market, price);
  if (stopPrice !== undefined) priceFilter(market, stopPrice);
  if (price !== undefined) percentPriceBySide(market, side, price, last);
  lotSize(market, qty);
  if (MARKET_LIKE.has(type)) marketLotSize(market, qty);
  const reference = quoteOrderQty ?? qty * (price ?? stopPrice ?? last);
  notional(market, reference, MARKET_LIKE.has(type));
  countFilters(account, market, 1, stops ? 1 : 0);
  if (dryRun) return undefined;

  if (clientOrderId !== undefined && openWithClientId(account, clientOrderId)) throw spotErrors.duplicate();
  if (stops && stopPrice !== undefined && stopReached(type, side, stopPrice, last)) throw spotErrors.wouldTrigger();
  if (type === 'LIMIT_MAKER' && marketable(side, price as number, last)) throw spotErrors.wouldTake();

  const spec: OrderSpec = { market, side, type, timeInForce, qty, quoteOrderQty, price, stopPrice, clientOrderId };
  if (type === 'MARKET') {
    // A taker spends from free balance directly; nothing rests, nothing is locked.
    const need = side === 'BUY' ? { asset: market.quote, amount: r8(qty * last) } : { asset: market.base, amount: qty };
    if (book.balance(account, need.asset).free + EPS < need.amount) throw spotErrors.insufficientBalance();
    const order = newOrder(book, account, spec, -1, undefined, now);
    book.record(account, order);
    fill(book, account, order, qty, last, false, now);
    return order;
  }
  const need = lockNeed(spec);
  const lock = book.lock(account, need.asset, need.amount, now);
  const order = newOrder(book, account, spec, -1, undefined, now);
  order.lock = lock;
  book.record(account, order);
  if (type === 'LIMIT' && marketable(side, price as number, last)) fill(book, account, order, qty, last, false, now);
  else if (type === 'LIMIT' && timeInForce !== 'GTC') expire(book, account, order, now);
  return order;
}

function expire(book: SpotBook, account: SpotAccount, order: SpotOrder, now: number): void {
  order.status = 'EXPIRED';
  order.updateTime = now;
  book.track(account, order);
  finish(book, account, order, now);
}

/* ---------- OCO ---------- */

export interface LegSpec {
  type: string;
  price: number | undefined;
  stopPrice: number | undefined;
  timeInForce: string | undefined;
  clientOrderId: string | undefined;
}

export interface OcoSpec {
  symbol: string | null;
  side: string | null;
  quantity: number;
  listClientOrderId: string | undefined;
  above: LegSpec;
  below: LegSpec;
}

const OCO_TYPES = new Set(['STOP_LOSS_LIMIT', 'STOP_LOSS', 'LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);

function parseLeg(params: URLSearchParams, prefix: 'above' | 'below'): LegSpec {
  const type = params.get(`${prefix}Type`);
  if (type === null || type === '') throw spotErrors.mandatory(`${prefix}Type`);
  if (!OCO_TYPES.has(type)) throw spotErrors.ocoType();
  const limitLike = type === 'LIMIT_MAKER' || type.endsWith('_LIMIT');
  const stops = STOP_TYPES.has(type);
  if (stops && !params.get(`${prefix}StopPrice`) && !params.get(`${prefix}TrailingDelta`)) throw spotErrors.mandatory(`${prefix}StopPrice`);
  return {
    type,
    price: limitLike ? decimal(params, `${prefix}Price`, true) : undefined,
    stopPrice: stops ? decimal(params, `${prefix}StopPrice`, false) : undefined,
    timeInForce: type.endsWith('_LIMIT') ? parseTimeInForce(params.get(`${prefix}TimeInForce`), `${prefix}TimeInForce`, true) : undefined,
    clientOrderId: clientId(params, `${prefix}ClientOrderId`),
  };
}

/** `POST /api/v3/orderList/oco` parameters. */
export function parseOcoList(params: URLSearchParams): OcoSpec {
  return {
    symbol: params.get('symbol'),
    side: params.get('side'),
    quantity: decimal(params, 'quantity', true) as number,
    listClientOrderId: clientId(params, 'listClientOrderId'),
    above: parseLeg(params, 'above'),
    below: parseLeg(params, 'below'),
  };
}

/**
 * The deprecated `POST /api/v3/order/oco`: a LIMIT_MAKER at `price` and a
 * STOP_LOSS (STOP_LOSS_LIMIT with `stopLimitPrice`) at `stopPrice`; on a
 * SELL the limit is the above leg, on a BUY the below one.
 */
export function parseLegacyOco(params: URLSearchParams): OcoSpec {
  const side = params.get('side');
  const stopLimitPrice = decimal(params, 'stopLimitPrice', false);
  const stopTif = parseTimeInForce(params.get('stopLimitTimeInForce'), 'stopLimitTimeInForce', stopLimitPrice !== undefined);
  const limit: LegSpec = { type: 'LIMIT_MAKER', price: decimal(params, 'price', true), stopPrice: undefined, timeInForce: undefined, clientOrderId: clientId(params, 'limitClientOrderId') };
  const stop: LegSpec = {
    type: stopLimitPrice === undefined ? 'STOP_LOSS' : 'STOP_LOSS_LIMIT',
    price: stopLimitPrice,
    stopPrice: decimal(params, 'stopPrice', true),
    timeInForce: stopTif,
    clientOrderId: clientId(params, 'stopClientOrderId'),
  };
  return {
    symbol: params.get('symbol'),
    side,
    quantity: decimal(params, 'quantity', true) as number,
    listClientOrderId: clientId(params, 'listClientOrderId'),
    above: side === 'BUY' ? stop : limit,
    below: side === 'BUY' ? limit : stop,
  };
}

/** Which leg types may sit above / below on each side, with Binance's codes for the wrong ones. */
function checkLegPlaces(side: Side, above: LegSpec, below: LegSpec): void {
  const kind = (t: string) => (t === 'LIMIT_MAKER' ? 'limit' : t.startsWith('STOP_LOSS') ? 'stop' : 'tp');
  const a = kind(above.type);
  const b = kind(below.type);
  if (a === 'limit' && b === 'limit') throw spotErrors.bothLimit();
  if (side === 'SELL') {
    if (a === 'stop') throw spotErrors.sellStopBelow();
    if (b === 'limit') throw spotErrors.sellLimitAbove();
    if (b === 'tp') throw spotErrors.sellTakeProfitAbove();
  } else {
    if (a === 'limit') throw spotErrors.buyLimitBelow();
    if (a === 'tp') throw spotErrors.buyTakeProfitBelow();
    if (b === 'stop') throw spotErrors.buyStopAbove();
  }
}

/** The price a leg is compared with the last price by: a limit's price, a trigger's stop price. */
const legRef = (leg: LegSpec) => (leg.type === 'LIMIT_MAKER' ? (leg.price as number) : (leg.stopPrice ?? (leg.price as number)));

/**
 * An OCO: both legs go on the book (the stop dormant), one lock covers both
 * (a SELL locks its quantity once, not twice), and whichever leg activates
 * first expires the other.
 */
export function placeOco(book: SpotBook, account: SpotAccount, spec: OcoSpec, now: number): { list: OrderList; orders: SpotOrder[] } {
  const market = book.market(spec.symbol || undefined);
  const side = parseSide(spec.side);
  const { above, below, quantity: qty } = spec;
  checkLegPlaces(side, above, below);
  const last = book.mark(market.symbol);
  for (const leg of [above, below]) {
    if (leg.price !== undefined) priceFilter(market, leg.price);
    if (leg.stopPrice !== undefined) priceFilter(market, leg.stopPrice);
    if (leg.price !== undefined) percentPriceBySide(market, side, leg.price, last);
  }
  lotSize(market, qty);
  for (const leg of [above, below]) {
    if (MARKET_LIKE.has(leg.type)) marketLotSize(market, qty);
    notional(market, qty * legRef(leg), MARKET_LIKE.has(leg.type));
  }
  countFilters(account, market, 2, [above, below].filter((l) => STOP_TYPES.has(l.type)).length);

  if (spec.listClientOrderId !== undefined && account.lists.some((l) => l.listOrderStatus === 'EXECUTING' && l.listClientOrderId === spec.listClientOrderId)) {
    throw spotErrors.duplicate();
  }
  for (const leg of [above, below]) if (leg.clientOrderId !== undefined && openWithClientId(account, leg.clientOrderId)) throw spotErrors.duplicate();
  if (above.clientOrderId !== undefined && above.clientOrderId === below.clientOrderId) throw spotErrors.duplicate();
  const [hi, lo] = [legRef(above), legRef(below)];
  if (!(hi > last + EPS && lo < last - EPS)) throw spotErrors.ocoPrices();

  const need = side === 'SELL' ? { asset: market.base, amount: qty } : { asset: market.quote, amount: r8(qty * Math.max(hi, above.price ?? 0)) };
  const lock = book.lock(account, need.asset, need.amount, now);
  const orderListId = book.newListId();
  const list: OrderList = {
    orderListId,
    listClientOrderId: spec.listClientOrderId ?? `simlist${String(orderListId).padStart(15, '0')}`,
    symbol: market.symbol,
    contingencyType: 'OCO',
    listStatusType: 'EXEC_STARTED',
    listOrderStatus: 'EXECUTING',
    transactionTime: now,
    orderIds: [],
    lock,
  };
  account.lists.push(list);
  // Binance files the stop-loss leg first (the lower orderId), as its examples show.
  const legs: Array<['above' | 'below', LegSpec]> = [
    ['above', above],
    ['below', below],
  ];
  legs.sort(([, a], [, b]) => Number(!a.type.startsWith('STOP_LOSS')) - Number(!b.type.startsWith('STOP_LOSS')));
  const orders = legs.map(([place, leg]) => {
    const order = newOrder(book, account, { market, side, type: leg.type, timeInForce: leg.timeInForce, qty, quoteOrderQty: undefined, price: leg.price, stopPrice: leg.stopPrice, clientOrderId: leg.clientOrderId }, list.orderListId, place, now);
    list.orderIds.push(order.orderId);
    book.record(account, order);
    return order;
  });
  return { list, orders };
}

/* ---------- lookups and cancels ---------- */

/** `GET /api/v3/order`: by orderId (checked against origClientOrderId when both are sent) or by client id. */
export function findOrder(account: SpotAccount, params: URLSearchParams): SpotOrder | undefined {
  const symbol = params.get('symbol');
  if (!symbol) throw spotErrors.mandatory('symbol');
  const id = params.get('orderId');
  const clientOrderId = params.get('origClientOrderId');
  if (!id && !clientOrderId) throw spotErrors.eitherParam('origClientOrderId', 'orderId');
  if (id) {
    const order = account.orders.find((o) => o.symbol === symbol && String(o.orderId) === id);
    if (order && clientOrderId && order.clientOrderId !== clientOrderId) return undefined;
    return order;
  }
  // An open order owns its client id; otherwise the newest order that used it.
  const open = [...account.open.values()].find((o) => o.symbol === symbol && o.clientOrderId === clientOrderId);
  if (open) return open;
  for (let i = account.orders.length - 1; i >= 0; i--) {
    const o = account.orders[i] as SpotOrder;
    if (o.symbol === symbol && o.clientOrderId === clientOrderId) return o;
  }
  return undefined;
}

function cancelOne(book: SpotBook, account: SpotAccount, order: SpotOrder, now: number): void {
  order.status = 'CANCELED';
  order.updateTime = now;
  book.track(account, order);
}

/** Cancels an order list's open legs and returns its lock. */
export function cancelList(book: SpotBook, account: SpotAccount, list: OrderList, now: number): SpotOrder[] {
  const legs = list.orderIds.map((id) => account.orders.find((o) => o.orderId === id) as SpotOrder);
  for (const leg of legs) if (isOpen(leg)) cancelOne(book, account, leg, now);
  list.listStatusType = 'ALL_DONE';
  list.listOrderStatus = 'ALL_DONE';
  list.transactionTime = now;
  book.release(account, list.lock, now);
  return legs;
}

/**
 * `DELETE /api/v3/order`. Cancelling anything not open is -2011 "Unknown
 * order sent."; cancelling one leg of an order list cancels the whole list.
 */
export function cancelOrder(book: SpotBook, account: SpotAccount, params: URLSearchParams, now: number): SpotOrder {
  const order = findOrder(account, params);
  if (!order || !isOpen(order)) throw spotErrors.unknownOrder();
  const list = book.listOf(account, order);
  if (list) cancelList(book, account, list, now);
  else {
    cancelOne(book, account, order, now);
    book.release(account, order.lock, now);
  }
  return order;
}

export function findList(account: SpotAccount, params: URLSearchParams, clientName: 'origClientOrderId' | 'listClientOrderId'): OrderList | undefined {
  const id = params.get('orderListId');
  const clientId = params.get(clientName);
  if (!id && !clientId) throw spotErrors.eitherParam('orderListId', clientName);
  for (let i = account.lists.length - 1; i >= 0; i--) {
    const l = account.lists[i] as OrderList;
    if (id ? String(l.orderListId) === id : l.listClientOrderId === clientId) return l;
  }
  return undefined;
}
