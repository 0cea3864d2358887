import { randomUUID } from 'node:crypto';
import {
  type Account,
  type Attached,
  type BookOrder,
  type BybitBook,
  EPS,
  isOpen,
  MAKER_FEE,
  type Side,
  type StopOrderType,
  TAKER_FEE,
} from './bybit-book.js';
import { errors } from './bybit-errors.js';
import { linearMarket, type LinearMarket } from './bybit-markets.js';

/** A JSON body or query as Bybit reads it: strings, numbers and booleans by name. */
export type Params = Record<string, unknown>;

/** Bybit's orderLinkId alphabet: letters, digits, dashes and underscores, at most 36. */
const LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const TRIGGER_BY = new Set(['LastPrice', 'IndexPrice', 'MarkPrice']);
const TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK', 'PostOnly']);
/** How many closed orders /v5/order/realtime keeps per account and category. */
export const RECENT_CLOSED = 500;

export function str(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** Bybit takes JSON booleans, and (like most of its parsers) the strings "true"/"false". */
function bool(params: Params, name: string): boolean {
  const v = params[name];
  return v === true || v === 'true';
}

function num(params: Params, name: string): number | undefined {
  const raw = str(params, name);
  if (raw === undefined) return undefined;
  const x = Number(raw);
  if (!Number.isFinite(x)) throw errors.param(`params error: ${name} invalid`);
  return x;
}

function onStep(value: number, step: string): boolean {
  const ratio = value / Number(step);
  return Math.abs(ratio - Math.round(ratio)) < 1e-6;
}

export function requireLinear(params: Params): void {
  const category = str(params, 'category');
  if (category === undefined) throw errors.missing('category');
  if (category === 'spot' || category === 'inverse' || category === 'option') throw errors.notSimulated(`category ${category}`);
  if (category !== 'linear') throw errors.badCategory();
}

export function requireMarket(params: Params): LinearMarket {
  const id = str(params, 'symbol');
  if (id === undefined) throw errors.missing('symbol');
  const market = linearMarket(id);
  if (!market) throw errors.symbolInvalid();
  return market;
}

function parsePrice(market: LinearMarket, raw: number, name: string): number {
  if (raw <= 0 || raw < Number(market.minPrice) - EPS || raw > Number(market.maxPrice) + EPS) throw errors.priceRange();
  if (!onStep(raw, market.tickSize)) throw name === 'price' ? errors.priceTick() : errors.param(`params error: ${name} invalid`);
  return raw;
}

/** positionIdx against the symbol's position mode: 0 in one-way, 1 (long) or 2 (short) in hedge mode. */
function positionIdxOf(book: BybitBook, account: Account, symbol: string, params: Params): 0 | 1 | 2 {
  const raw = str(params, 'positionIdx') ?? '0';
  const hedge = book.mode(account, symbol) === 'hedge';
  if (raw === '0' && !hedge) return 0;
  if ((raw === '1' || raw === '2') && hedge) return raw === '1' ? 1 : 2;
  throw errors.positionIdx();
}

/**
 * Whether an order on `idx` reduces: reduce-only ones do, and in hedge mode
 * a Sell on the long side (1) or a Buy on the short side (2) can only close.
 */
function reducing(side: Side, idx: number, reduceOnly: boolean): boolean {
  return reduceOnly || (idx === 1 && side === 'Sell') || (idx === 2 && side === 'Buy');
}

/** What a reducing order may close: the position on its idx, if the side is opposite. 110017 otherwise. */
function closable(book: BybitBook, account: Account, symbol: string, side: Side, idx: number): number {
  const amount = book.positionAmount(account, symbol, idx);
  if (Math.abs(amount) < EPS) throw errors.reduceOnlyZero();
  if ((side === 'Buy' && amount > 0) || (side === 'Sell' && amount < 0)) throw errors.reduceOnlySide();
  return Math.abs(amount);
}

function marketable(side: Side, limit: number, mark: number): boolean {
  return side === 'Buy' ? limit >= mark : limit <= mark;
}

function attachedOf(market: LinearMarket, params: Params, side: Side, base: number): Attached | null {
  const tp = num(params, 'takeProfit');
  const sl = num(params, 'stopLoss');
  if ((tp === undefined || tp === 0) && (sl === undefined || sl === 0)) return null;
  const tpTriggerBy = str(params, 'tpTriggerBy') ?? 'LastPrice';
  const slTriggerBy = str(params, 'slTriggerBy') ?? 'LastPrice';
  if (!TRIGGER_BY.has(tpTriggerBy) || !TRIGGER_BY.has(slTriggerBy)) throw errors.param('params error: TriggerBy invalid');
  // A long's take-profit is above the price it opens at and its stop below; a short's the other way round.
  if (tp) {
    parsePrice(market, tp, 'takeProfit');
    if (side === 'Buy' ? tp <= base : tp >= base) throw errors.takeProfitSide(tp, base, side, tpTriggerBy);
  }
  if (sl) {
    parsePrice(market, sl, 'stopLoss');
    if (side === 'Buy' ? sl >= base : sl <= base) throw errors.stopLossSide(sl, base, side, slTriggerBy);
  }
  const mode = str(params, 'tpslMode') ?? 'Full';
  if (mode !== 'Full' && mode !== 'Partial') throw errors.param('params error: tpslMode invalid');
  const tpOrderType = str(params, 'tpOrderType') === 'Limit' ? 'Limit' : 'Market';
  const slOrderType = str(params, 'slOrderType') === 'Limit' ? 'Limit' : 'Market';
  // Full mode closes the whole position at market; limit TP/SL need Partial.
  if (mode === 'Full' && (tpOrderType === 'Limit' || slOrderType === 'Limit')) throw errors.param('params error: tpslMode Full only supports Market tp/sl order type');
  const tpLimit = num(params, 'tpLimitPrice');
  const slLimit = num(params, 'slLimitPrice');
  return {
    takeProfit: tp ? tp : null,
    stopLoss: sl ? sl : null,
    tpslMode: mode,
    tpTriggerBy,
    slTriggerBy,
    tpOrderType,
    slOrderType,
    tpLimitPrice: tpOrderType === 'Limit' && tpLimit !== undefined ? parsePrice(market, tpLimit, 'tpLimitPrice') : null,
    slLimitPrice: slOrderType === 'Limit' && slLimit !== undefined ? parsePrice(market, slLimit, 'slLimitPrice') : null,
  };
}

function newOrder(account: Account, market: LinearMarket, fields: Partial<BookOrder> & Pick<BookOrder, 'side' | 'orderType' | 'qty' | 'positionIdx'>, now: number, mark: number): BookOrder {
  return {
    account: account.apiKey,
    orderId: randomUUID(),
    orderLinkId: '',
    symbol: market.id,
    price: null,
    cumExecQty: 0,
    cumExecValue: 0,
    cumExecFee: 0,
    status: 'New',
    timeInForce: fields.orderType === 'Market' ? 'IOC' : 'GTC',
    reduceOnly: false,
    closeOnTrigger: false,
    triggerPrice: null,
    triggerDirection: 0,
    triggerBy: 'UNKNOWN',
    stopOrderType: '',
    attached: null,
    parentId: null,
    parentOrderLinkId: '',
    createType: 'CreateByUser',
    rejectReason: 'EC_NoError',
    lastPriceOnCreated: mark,
    createdTime: now,
    updatedTime: now,
    ...fields,
  };
}

/**
 * `POST /v5/order/create` for category=linear: market and limit orders,
 * conditional orders (triggerPrice + triggerDirection), attached TP/SL
 * (takeProfit / stopLoss), reduce-only, hedge-mode positionIdx. Returns the
 * accepted order; the HTTP answer carries only its ids, as Bybit's does.
 */
export function placeOrder(book: BybitBook, account: Account, params: Params, now: number): BookOrder {
  requireLinear(params);
  const market = requireMarket(params);
  const side = str(params, 'side');
  if (side === undefined) throw errors.missing('side');
  if (side !== 'Buy' && side !== 'Sell') throw errors.param('params error: side invalid');
  const orderType = str(params, 'orderType');
  if (orderType === undefined) throw errors.missing('orderType');
  if (orderType !== 'Market' && orderType !== 'Limit') throw errors.param('params error: orderType invalid');
  const rawQty = str(params, 'qty');
  if (rawQty === undefined) throw errors.missing('qty');
  const qtyIn = Number(rawQty);
  if (!Number.isFinite(qtyIn) || qtyIn < 0) throw errors.param('params error: qty invalid');
  const reduceOnly = bool(params, 'reduceOnly');
  const closeOnTrigger = bool(params, 'closeOnTrigger');
  // qty "0" with reduceOnly and closeOnTrigger closes the whole position (docs: "qty").
  const closeAll = qtyIn === 0 && reduceOnly && closeOnTrigger;
  if (!closeAll) {
    if (qtyIn < Number(market.minOrderQty) - EPS) throw errors.qtyTooSmall(qtyIn, Number(market.minOrderQty));
    const max = Number(orderType === 'Market' ? market.maxMktOrderQty : market.maxOrderQty);
    if (qtyIn > max + EPS) throw errors.qtyTooLarge(qtyIn, max);
    if (!onStep(qtyIn, market.qtyStep)) throw errors.qtyStep();
  }
  const mark = book.mark(market.id);
  let price: number | null = null;
  let timeInForce = orderType === 'Market' ? 'IOC' : (str(params, 'timeInForce') ?? 'GTC');
  if (orderType === 'Limit') {
    if (!TIME_IN_FORCE.has(timeInForce)) throw errors.param('params error: timeInForce invalid');
    const p = num(params, 'price');
    if (p === undefined) throw errors.missing('price');
    price = parsePrice(market, p, 'price');
  } else timeInForce = 'IOC';
  const orderLinkId = str(params, 'orderLinkId') ?? '';
  if (orderLinkId !== '' && !LINK_ID.test(orderLinkId)) throw errors.linkIdInvalid();
  const positionIdx = positionIdxOf(book, account, market.id, params);

  const trigger = num(params, 'triggerPrice');
  const conditional = trigger !== undefined && trigger > 0;
  let triggerDirection: 0 | 1 | 2 = 0;
  let triggerBy = 'UNKNOWN';
  if (conditional) {
    parsePrice(market, trigger, 'triggerPrice');
    const dir = str(params, 'triggerDirection');
    if (dir !== '1' && dir !== '2') throw errors.triggerDirection();
    triggerDirection = dir === '1' ? 1 : 2;
    triggerBy = str(params, 'triggerBy') ?? 'LastPrice';
    if (!TRIGGER_BY.has(triggerBy)) throw errors.param('params error: triggerBy invalid');
    // The sim's last, index and mark prices are one price.
    if (triggerDirection === 1 && trigger <= mark) throw errors.expectRising(trigger, mark, triggerBy);
    if (triggerDirection === 2 && trigger >= mark) throw errors.expectFalling(trigger, mark, triggerBy);
  }
  const attached = reduceOnly ? null : attachedOf(market, params, side, price ?? mark);

  // Bybit keeps orderLinkIds unique per account for good, not only while an order is open.
  if (orderLinkId !== '' && account.linkIds.has(orderLinkId)) throw errors.duplicateLinkId();

  let qty = qtyIn;
  const reduces = reducing(side, positionIdx, reduceOnly);
  if (reduces) {
    const room = closable(book, account, market.id, side, positionIdx);
    // Bybit "fixes" a reduce-only quantity to the position; conditional ones are fixed when they fire.
    if (!conditional && (closeAll || qty > room)) qty = room;
  } else if (!conditional) {
    const refPrice = price !== null && !marketable(side, price, mark) ? price : mark;
    if (qty * refPrice < Number(market.minNotionalValue) - EPS) throw errors.minNotional(market.minNotionalValue);
    const opening = book.openingQty(account, market.id, side, positionIdx, qty);
    const needed = (opening * refPrice) / book.leverageOf(account, market.id, positionIdx) + opening * refPrice * TAKER_FEE;
    if (needed > book.available(account) + EPS) throw errors.insufficientAvailable();
  }

  const order = newOrder(
    account,
    market,
    {
      orderLinkId,
      side,
      orderType,
      price,
      qty,
      timeInForce,
      positionIdx,
      reduceOnly: reduces && reduceOnly,
      closeOnTrigger,
      status: conditional ? 'Untriggered' : 'New',
      ...(conditional ? { triggerPrice: trigger, triggerDirection, triggerBy, stopOrderType: 'Stop' as const } : {}),
      attached,
    },
    now,
    mark,
  );
  book.record(account, order);
  if (!conditional) work(book, account, order, mark, now);
  return order;
}

/**
 * A live regular order meets the one-price-deep book: a market order or a
 * marketable limit fills at the mark as taker; PostOnly that would take,
 * and IOC/FOK that cannot fill, are cancelled; other limits rest.
 */
function work(book: BybitBook, account: Account, order: BookOrder, mark: number, now: number): void {
  const takes = order.price === null || marketable(order.side, order.price, mark);
  if (takes && order.timeInForce === 'PostOnly') return finish(order, 'Cancelled', now, 'EC_PostOnlyWillTakeLiquidity');
  if (takes) return execute(book, account, order, order.qty - order.cumExecQty, mark, TAKER_FEE, now);
  if (order.timeInForce === 'IOC' || order.timeInForce === 'FOK') finish(order, 'Cancelled', now, 'EC_NoImmediateQtyToFill');
}

function finish(order: BookOrder, status: BookOrder['status'], now: number, reason = 'EC_NoError'): void {
  order.status = status;
  order.rejectReason = reason;
  order.updatedTime = now;
}

/** Fills (the rest of) an order at `price`, moves position and wallet, and attaches or drops TP/SL. */
function execute(book: BybitBook, account: Account, order: BookOrder, qty: number, price: number, feeRate: number, now: number): void {
  const fee = book.fill(account, order.symbol, order.positionIdx, order.side, qty, price, feeRate, now);
  order.cumExecQty += qty;
  order.cumExecValue += qty * price;
  order.cumExecFee += fee;
  finish(order, 'Filled', now);
  if (order.attached) attachTpsl(book, account, order, now);
  if (book.positionAmount(account, order.symbol, order.positionIdx) === 0) dropPositionTpsl(account, order.symbol, order.positionIdx, now);
}

const isPositionTpsl = (t: StopOrderType) => t === 'TakeProfit' || t === 'StopLoss' || t === 'PartialTakeProfit' || t === 'PartialStopLoss';

/** "The system will cancel these orders if the position is closed" (set trading stop). */
function dropPositionTpsl(account: Account, symbol: string, idx: number, now: number): void {
  for (const o of account.orders) {
    if (o.symbol === symbol && o.positionIdx === idx && isOpen(o) && isPositionTpsl(o.stopOrderType)) finish(o, 'Deactivated', now);
  }
}

/**
 * The TP/SL orders Bybit makes for a position: the opposite side, reduce-only
 * and close-on-trigger, triggered upward for a long's take-profit and a
 * short's stop. Full mode: one pair per position, whole position (qty 0),
 * replacing the previous pair. Partial mode: sized, added.
 */
function makeTpsl(
  book: BybitBook,
  account: Account,
  symbol: string,
  idx: 0 | 1 | 2,
  long: boolean,
  leg: { kind: 'tp' | 'sl'; trigger: number; triggerBy: string; orderType: 'Market' | 'Limit'; limit: number | null; size: number | null; parent: BookOrder | null },
  now: number,
): BookOrder {
  const market = linearMarket(symbol) as LinearMarket;
  const partial = leg.size !== null;
  const tp = leg.kind === 'tp';
  if (!partial) {
    for (const o of account.orders) {
      if (o.symbol === symbol && o.positionIdx === idx && isOpen(o) && o.stopOrderType === (tp ? 'TakeProfit' : 'StopLoss')) finish(o, 'Deactivated', now);
    }
    const p = book.position(account, symbol, idx);
    if (p) p[tp ? 'takeProfit' : 'stopLoss'] = leg.trigger;
  }
  const order = newOrder(
    account,
    market,
    {
      side: long ? 'Sell' : 'Buy',
      orderType: leg.orderType,
      price: leg.limit,
      qty: leg.size ?? 0,
      timeInForce: leg.orderType === 'Market' ? 'IOC' : 'GTC',
      positionIdx: idx,
      reduceOnly: true,
      closeOnTrigger: true,
      status: 'Untriggered',
      triggerPrice: leg.trigger,
      triggerDirection: tp === long ? 1 : 2,
      triggerBy: leg.triggerBy,
      stopOrderType: partial ? (tp ? 'PartialTakeProfit' : 'PartialStopLoss') : tp ? 'TakeProfit' : 'StopLoss',
      parentId: leg.parent?.orderId ?? null,
      parentOrderLinkId: leg.parent?.orderLinkId ?? '',
      createType: `CreateBy${partial ? 'Partial' : ''}${tp ? 'TakeProfit' : 'StopLoss'}`,
    },
    now,
    book.mark(symbol),
  );
  book.record(account, order);
  return order;
}

function attachTpsl(book: BybitBook, account: Account, entry: BookOrder, now: number): void {
  const a = entry.attached as Attached;
  // TP/SL attach to what the entry opened: a Buy opens (or adds to) a long.
  const long = entry.side === 'Buy';
  const size = a.tpslMode === 'Partial' ? entry.cumExecQty : null;
  if (a.takeProfit !== null) makeTpsl(book, account, entry.symbol, entry.positionIdx, long, { kind: 'tp', trigger: a.takeProfit, triggerBy: a.tpTriggerBy, orderType: a.tpOrderType, limit: a.tpLimitPrice, size, parent: entry }, now);
  if (a.stopLoss !== null) makeTpsl(book, account, entry.symbol, entry.positionIdx, long, { kind: 'sl', trigger: a.stopLoss, triggerBy: a.slTriggerBy, orderType: a.slOrderType, limit: a.slLimitPrice, size, parent: entry }, now);
}

/**
 * `POST /v5/position/trading-stop`: TP/SL for a held position. Full mode sets
 * (or with "0" cancels) the position's pair; Partial adds sized orders, with
 * tpSize equal to slSize when both are given. Trailing stops are not simulated.
 */
export function tradingStop(book: BybitBook, account: Account, params: Params, now: number): void {
  requireLinear(params);
  const market = requireMarket(params);
  const mode = str(params, 'tpslMode');
  if (mode === undefined) throw errors.missing('tpslMode');
  if (mode !== 'Full' && mode !== 'Partial') throw errors.param('params error: tpslMode invalid');
  // The docs mark positionIdx required; Bybit takes one-way's 0 when it is left out (ccxt leaves it out).
  const idx = positionIdxOf(book, account, market.id, params);
  if (str(params, 'trailingStop') !== undefined && str(params, 'trailingStop') !== '0') throw errors.notSimulated('trailingStop');
  const p = book.position(account, market.id, idx);
  if (!p) throw errors.zeroPositionTpsl();
  const long = p.amount > 0;
  const mark = book.mark(market.id);
  const side: Side = long ? 'Buy' : 'Sell';
  const tp = num(params, 'takeProfit');
  const sl = num(params, 'stopLoss');
  const tpTriggerBy = str(params, 'tpTriggerBy') ?? 'LastPrice';
  const slTriggerBy = str(params, 'slTriggerBy') ?? 'LastPrice';
  if (tp) {
    parsePrice(market, tp, 'takeProfit');
    if (long ? tp <= mark : tp >= mark) throw errors.takeProfitSide(tp, mark, side, tpTriggerBy);
  }
  if (sl) {
    parsePrice(market, sl, 'stopLoss');
    if (long ? sl >= mark : sl <= mark) throw errors.stopLossSide(sl, mark, side, slTriggerBy);
  }
  let size: number | null = null;
  if (mode === 'Partial') {
    const tpSize = num(params, 'tpSize');
    const slSize = num(params, 'slSize');
    if (tp && sl && tpSize !== slSize) throw errors.tpslSizeMismatch();
    size = Math.min(tpSize ?? slSize ?? Math.abs(p.amount), Math.abs(p.amount));
    if (!onStep(size, market.qtyStep) || size <= 0) throw errors.qtyStep();
  }
  const leg = (kind: 'tp' | 'sl', trigger: number, triggerBy: string, typeName: string, limitName: string) => {
    const orderType = str(params, typeName) === 'Limit' && mode === 'Partial' ? 'Limit' : 'Market';
    const limit = orderType === 'Limit' ? num(params, limitName) : undefined;
    makeTpsl(book, account, market.id, idx, long, { kind, trigger, triggerBy, orderType, limit: limit === undefined ? null : parsePrice(market, limit, limitName), size, parent: null }, now);
  };
  if (tp) leg('tp', tp, tpTriggerBy, 'tpOrderType', 'tpLimitPrice');
  if (sl) leg('sl', sl, slTriggerBy, 'slOrderType', 'slLimitPrice');
  // "0 means cancel" the Full-mode leg.
  if (mode === 'Full') {
    for (const [given, type, field] of [[tp, 'TakeProfit', 'takeProfit'], [sl, 'StopLoss', 'stopLoss']] as const) {
      if (given !== 0) continue;
      p[field] = 0;
      for (const o of account.orders) if (o.symbol === market.id && o.positionIdx === idx && isOpen(o) && o.stopOrderType === type) finish(o, 'Deactivated', now);
    }
  }
}

/** Orders that have left the book, newest first, as many as /v5/order/realtime still answers for. */
export function recentClosed(account: Account): BookOrder[] {
  return account.orders
    .filter((o) => !isOpen(o))
    .sort((a, b) => b.updatedTime - a.updatedTime)
    .slice(0, RECENT_CLOSED);
}

/** orderFilter: Order = plain orders, StopOrder = conditional and TP/SL orders; all kinds when absent. */
export function matchesFilter(o: BookOrder, filter: string | undefined): boolean {
  if (filter === undefined) return true;
  if (filter === 'Order') return o.stopOrderType === '';
  if (filter === 'StopOrder') return o.stopOrderType !== '';
  return false;
}

/** `POST /v5/order/cancel`: an open order by orderId (first) or orderLinkId. */
export function cancelOrder(account: Account, params: Params, now: number): BookOrder {
  requireLinear(params);
  const market = requireMarket(params);
  const orderId = str(params, 'orderId');
  const orderLinkId = str(params, 'orderLinkId');
  if (orderId === undefined && orderLinkId === undefined) throw errors.eitherId();
  const order = account.orders.find((o) => o.symbol === market.id && (orderId !== undefined ? o.orderId === orderId : o.orderLinkId === orderLinkId));
  if (!order || !isOpen(order)) throw errors.orderNotExists();
  finish(order, order.status === 'Untriggered' ? 'Deactivated' : 'Cancelled', now, 'EC_PerCancelRequest');
  return order;
}

/** Crossed upward (1) or downward (2). */
function crossed(o: BookOrder, price: number): boolean {
  const trigger = o.triggerPrice as number;
  return o.triggerDirection === 1 ? price >= trigger : price <= trigger;
}

/**
 * Moves the mark price (the sim's last and index price too) and lets the
 * book react: resting limits it crosses fill as maker, then untriggered
 * conditional and TP/SL orders it crosses fire, keeping their orderId
 * (UTA): Untriggered → Triggered → the order works as a market or limit order.
 */
export function setMarkPrice(book: BybitBook, symbol: string, price: number, now: number): void {
  book.marks.set(symbol, price);
  for (const account of book.accounts.values()) {
    for (const o of [...account.orders]) {
      if (o.symbol !== symbol || (o.status !== 'New' && o.status !== 'PartiallyFilled') || o.price === null || !marketable(o.side, o.price, price)) continue;
      fillResting(book, account, o, o.price, MAKER_FEE, now);
    }
    for (const o of [...account.orders]) {
      if (o.symbol !== symbol || o.status !== 'Untriggered' || !crossed(o, price)) continue;
      fire(book, account, o, price, now);
    }
  }
}

function fillResting(book: BybitBook, account: Account, order: BookOrder, price: number, feeRate: number, now: number): void {
  let qty = order.qty - order.cumExecQty;
  if (order.reduceOnly || reducing(order.side, order.positionIdx, false)) {
    const amount = book.positionAmount(account, order.symbol, order.positionIdx);
    const room = (order.side === 'Buy' ? amount < 0 : amount > 0) ? Math.abs(amount) : 0;
    qty = Math.min(qty, room);
    if (qty <= EPS) return finish(order, 'Deactivated', now, 'EC_ReduceOnlySetButNotReducing');
  }
  execute(book, account, order, qty, price, feeRate, now);
}

function fire(book: BybitBook, account: Account, order: BookOrder, price: number, now: number): void {
  order.status = 'Triggered';
  order.updatedTime = now;
  const reduces = order.reduceOnly || reducing(order.side, order.positionIdx, false);
  if (reduces) {
    const amount = book.positionAmount(account, order.symbol, order.positionIdx);
    const room = (order.side === 'Buy' ? amount < 0 : amount > 0) ? Math.abs(amount) : 0;
    if (room <= EPS) return finish(order, 'Deactivated', now, 'EC_ReduceOnlySetButNotReducing');
    // Full TP/SL (qty 0) and close-on-trigger orders take the whole position; others at most their qty.
    order.qty = order.qty === 0 ? room : Math.min(order.qty, room);
  } else {
    const ref = order.price ?? price;
    const opening = book.openingQty(account, order.symbol, order.side, order.positionIdx, order.qty);
    // "If the margin is insufficient after the conditional order is triggered, the order will be cancelled."
    if ((opening * ref) / book.leverageOf(account, order.symbol, order.positionIdx) > book.available(account) + EPS) {
      return finish(order, 'Cancelled', now, 'EC_InsufficientMargin');
    }
  }
  order.status = 'New';
  work(book, account, order, price, now);
}

