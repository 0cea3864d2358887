import { type Account, type BinanceBook, type BookOrder, closesSide, EPS, fmtPrice, fmtQty, isClosing, isOpen, MAKER_FEE, type PositionSide, TAKER_FEE } from './binance-book.js';
import { errors } from './binance-errors.js';
import { stepDecimals, type SimMarket } from './binance-markets.js';

/** Binance's legal range for newClientOrderId / clientAlgoId. */
const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK', 'GTX', 'GTD']);
/** Conditional types that Binance moved to the algo service (2025-12): /fapi/v1/order answers -4120 for them. */
const ALGO_TYPES = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET']);

type Side = 'BUY' | 'SELL';

function decimalsOf(raw: string): number {
  const dot = raw.indexOf('.');
  return dot < 0 ? 0 : raw.replace(/0+$/, '').length - dot - 1;
}

/** True when `value` is a whole multiple of `step` (LOT_SIZE stepSize / PRICE_FILTER tickSize). */
function onStep(value: number, step: string): boolean {
  const ratio = value / Number(step);
  return Math.abs(ratio - Math.round(ratio)) < 1e-6;
}

function parseSide(params: URLSearchParams): Side {
  const side = params.get('side');
  if (side === null || side === '') throw errors.mandatory('side');
  if (side !== 'BUY' && side !== 'SELL') throw errors.badSide();
  return side;
}

/** LOT_SIZE (or MARKET_LOT_SIZE for market orders) and quantityPrecision. */
function parseQuantity(market: SimMarket, raw: string | null, isMarket: boolean): number {
  if (raw === null || raw === '') throw errors.mandatory('quantity');
  const qty = Number(raw);
  if (!Number.isFinite(qty)) throw errors.badData('quantity');
  if (qty <= 0) throw errors.qtyNotPositive();
  if (decimalsOf(raw) > market.quantityPrecision) throw errors.precision();
  if (!onStep(qty, market.stepSize)) throw errors.qtyStep();
  if (qty < Number(isMarket ? market.marketMinQty : market.minQty) - EPS) throw errors.qtyBelowMin();
  if (qty > Number(isMarket ? market.marketMaxQty : market.maxQty) + EPS) throw errors.qtyAboveMax();
  return qty;
}

/** PRICE_FILTER and pricePrecision. */
function parsePrice(market: SimMarket, raw: string | null, name: string): number {
  if (raw === null || raw === '') throw errors.mandatory(name);
  const price = Number(raw);
  if (!Number.isFinite(price)) throw errors.badData(name);
  if (price <= 0) throw errors.priceNotPositive();
  if (decimalsOf(raw) > market.pricePrecision) throw errors.precision();
  if (price < Number(market.minPrice) - EPS) throw errors.priceBelowMin();
  if (price > Number(market.maxPrice) + EPS) throw errors.priceAboveMax();
  if (!onStep(price, market.tickSize)) throw errors.priceTick();
  return price;
}

/** PERCENT_PRICE, per side as Binance documents it: BUY ≤ mark × up, SELL ≥ mark × down. */
function checkPercentPrice(market: SimMarket, side: Side, price: number, mark: number): void {
  const digits = stepDecimals(market.tickSize);
  if (side === 'BUY' && price > mark * Number(market.multiplierUp) + EPS) throw errors.limitTooHigh((mark * Number(market.multiplierUp)).toFixed(digits));
  if (side === 'SELL' && price < mark * Number(market.multiplierDown) - EPS) throw errors.limitTooLow((mark * Number(market.multiplierDown)).toFixed(digits));
}

function parseClientId(params: URLSearchParams, name: string): string | undefined {
  const id = params.get(name);
  if (id === null || id === '') return undefined;
  if (!CLIENT_ID.test(id)) throw errors.illegalChars(name);
  return id;
}

/** Binance accepts "true"/"false" in any case for boolean strings. */
const flag = (params: URLSearchParams, name: string) => params.get(name)?.toLowerCase() === 'true';

/**
 * Binance's positionSide rule (New Order, New Algo Order): a one-way
 * account takes BOTH, the default, only; a hedge account must name LONG or
 * SHORT (absent or BOTH → -4061, Binance's POSITION_SIDE_NOT_MATCH), and
 * may not send reduceOnly at all, not even "false" (-1106): side and
 * positionSide already say whether the order opens or closes.
 */
function parsePositionSide(account: Account, params: URLSearchParams): PositionSide {
  const raw = params.get('positionSide');
  if (raw !== null && raw !== '' && raw !== 'BOTH' && raw !== 'LONG' && raw !== 'SHORT') throw errors.badPositionSide();
  const positionSide: PositionSide = raw === null || raw === '' ? 'BOTH' : raw;
  if (account.dualSide !== (positionSide !== 'BOTH')) throw errors.positionSideMismatch();
  if (account.dualSide && params.has('reduceOnly')) throw errors.reduceOnlyInHedgeMode();
  return positionSide;
}

/** How much an order on `positionSide` may close: what that position holds against its side, else nothing. */
function closable(book: BinanceBook, account: Account, symbol: string, side: Side, positionSide: PositionSide): number {
  const amount = book.positionAmount(account, symbol, positionSide);
  return (side === 'BUY' ? amount < 0 : amount > 0) ? Math.abs(amount) : 0;
}

/**
 * A closing order (reduce-only, or a hedge-mode close) must shrink its
 * position: none, the wrong side or more than the position → -2022 (what
 * Binance answers a hedge close beyond the side too, ccxt #8304); together
 * with the other open closing orders on that position it may not exceed it
 * either (-4118).
 */
function checkClosing(book: BinanceBook, account: Account, symbol: string, side: Side, positionSide: PositionSide, qty: number, countOpen: boolean): void {
  const held = closable(book, account, symbol, side, positionSide);
  if (held <= EPS || qty > held + EPS) throw errors.reduceOnlyRejected();
  if (!countOpen) return;
  let pending = 0;
  for (const o of account.openOrders.values()) {
    if (isClosing(o) && o.symbol === symbol && o.side === side && o.positionSide === positionSide) pending += Number(o.origQty) - Number(o.executedQty);
  }
  if (pending + qty > held + EPS) throw errors.reduceOnlyMargin();
}

function marketable(side: Side, limit: number, mark: number): boolean {
  return side === 'BUY' ? limit >= mark : limit <= mark;
}

/** Fills `qty` more of an order at `price` (all that is left, unless a counterparty took part) and moves position and wallet. */
function execute(book: BinanceBook, account: Account, order: BookOrder, qty: number, price: number, fee: number, now: number): void {
  const market = book.market(order.symbol);
  book.fill(account, order.symbol, order.positionSide, order.side, qty, price, fee, now);
  const before = Number(order.executedQty);
  const executed = before + qty;
  order.avgPrice = fmtPrice(market, (Number(order.avgPrice) * before + price * qty) / executed);
  order.executedQty = fmtQty(market, executed);
  order.status = executed >= Number(order.origQty) - EPS ? 'FILLED' : 'PARTIALLY_FILLED';
  order.updateTime = now;
  book.track(account, order);
}

/**
 * A counterparty takes `qty` of a resting LIMIT order at its price (maker):
 * the order becomes PARTIALLY_FILLED, or FILLED once nothing is left, as
 * the exchange's own book would do it.
 */
export function fillPart(book: BinanceBook, apiKey: string, clientOrderId: string, qty: number, now: number): void {
  const account = book.accounts.get(apiKey);
  const order = account?.openOrders.get(clientOrderId);
  if (!account || !order || order.type !== 'LIMIT') throw new Error(`no resting LIMIT order ${clientOrderId} for that account`);
  const left = Number(order.origQty) - Number(order.executedQty);
  execute(book, account, order, Math.min(qty, left), Number(order.price), MAKER_FEE, now);
}

/** `POST /fapi/v1/order`: MARKET and LIMIT (conditional types belong to the algo endpoint). */
export function placeOrder(book: BinanceBook, account: Account, params: URLSearchParams, now: number): BookOrder {
  const market = book.market(params.get('symbol'));
  const side = parseSide(params);
  const type = params.get('type');
  if (type === null || type === '') throw errors.mandatory('type');
  if (ALGO_TYPES.has(type)) throw errors.useAlgoEndpoint();
  if (type !== 'MARKET' && type !== 'LIMIT') throw errors.badType();
  const positionSide = parsePositionSide(account, params);
  const clientOrderId = parseClientId(params, 'newClientOrderId');
  const qty = parseQuantity(market, params.get('quantity'), type === 'MARKET');
  const mark = book.mark(market.symbol);
  let timeInForce = 'GTC';
  let limit: number | undefined;
  if (type === 'LIMIT') {
    const tif = params.get('timeInForce');
    if (tif === null || tif === '') throw errors.mandatory('timeInForce');
    if (!TIME_IN_FORCE.has(tif)) throw errors.badTimeInForce();
    timeInForce = tif;
    limit = parsePrice(market, params.get('price'), 'price');
    checkPercentPrice(market, side, limit, mark);
  }
  const reduceOnly = flag(params, 'reduceOnly');
  const closing = reduceOnly || closesSide(side, positionSide);
  // Binance: newClientOrderId must be unique among the account's OPEN orders
  // only; the id of a filled, cancelled or expired order may be sent again.
  if (clientOrderId !== undefined && account.openOrders.has(clientOrderId)) throw errors.duplicateClientId();

  const takes = limit === undefined || marketable(side, limit, mark);
  if (timeInForce === 'GTX' && takes) throw errors.postOnlyRejected();
  if (closing) checkClosing(book, account, market.symbol, side, positionSide, qty, true);
  else {
    const refPrice = takes ? mark : (limit as number);
    if (qty * refPrice < Number(market.minNotional) - EPS) throw errors.minNotional(market.minNotional);
    if (book.orderMargin(account, market.symbol, side, qty, refPrice, positionSide) > book.available(account) + EPS) throw errors.insufficientMargin();
  }

  const orderId = book.newOrderId();
  const order: BookOrder = {
    account: account.apiKey,
    symbol: market.symbol,
    orderId,
    clientOrderId: clientOrderId ?? `sim-${orderId}`,
    side,
    type,
    status: 'NEW',
    origQty: fmtQty(market, qty),
    executedQty: fmtQty(market, 0),
    avgPrice: '0.00',
    price: limit === undefined ? '0' : fmtPrice(market, limit),
    reduceOnly,
    positionSide,
    kind: 'order',
    updateTime: now,
    time: now,
    timeInForce,
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    closePosition: false,
  };
  book.record(account, order);
  // The simulator's book is one price deep: a taker fills entirely at the mark.
  if (takes) execute(book, account, order, qty, mark, TAKER_FEE, now);
  else if (timeInForce === 'IOC' || timeInForce === 'FOK') {
    order.status = 'EXPIRED';
    book.track(account, order);
  }
  return order;
}

/** `POST /fapi/v1/algoOrder` with algoType=CONDITIONAL. */
export function placeAlgoOrder(book: BinanceBook, account: Account, params: URLSearchParams, now: number): BookOrder {
  const algoType = params.get('algoType');
  if (algoType === null || algoType === '') throw errors.mandatory('algoType');
  if (algoType !== 'CONDITIONAL') throw errors.badData('algoType');
  const market = book.market(params.get('symbol'));
  const side = parseSide(params);
  const type = params.get('type');
  if (type === null || type === '') throw errors.mandatory('type');
  if (!ALGO_TYPES.has(type)) throw errors.badType();
  const positionSide = parsePositionSide(account, params);
  const clientAlgoId = parseClientId(params, 'clientAlgoId');
  const closePosition = flag(params, 'closePosition');
  if (closePosition && params.get('quantity') !== null) throw errors.notRequired('quantity');
  if (closePosition && flag(params, 'reduceOnly')) throw errors.notRequired('reduceOnly');
  // Binance's New Order doc: in hedge mode closePosition only goes with a close (SELL LONG, BUY SHORT).
  // The doc names no code; -2022 is the simulator's choice (not -4061, which would say the mode is wrong).
  if (closePosition && account.dualSide && !closesSide(side, positionSide)) throw errors.reduceOnlyRejected();
  const qty = closePosition ? 0 : parseQuantity(market, params.get('quantity'), type.endsWith('_MARKET'));
  const trailing = type === 'TRAILING_STOP_MARKET';
  const trigger = trailing ? undefined : parsePrice(market, params.get('triggerPrice'), 'triggerPrice');
  if (trailing && !params.get('callbackRate')) throw errors.mandatory('callbackRate');
  const limit = type === 'STOP' || type === 'TAKE_PROFIT' ? parsePrice(market, params.get('price'), 'price') : undefined;
  const reduceOnly = flag(params, 'reduceOnly') || closePosition;
  if (clientAlgoId !== undefined && account.openAlgos.has(clientAlgoId)) throw errors.duplicateClientId();
  if ((reduceOnly || closesSide(side, positionSide)) && !closePosition) checkClosing(book, account, market.symbol, side, positionSide, qty, false);
  if (trigger !== undefined && crossed(type, side, trigger, book.mark(market.symbol))) throw errors.immediateTrigger();

  const algoId = book.newAlgoId();
  const order: BookOrder = {
    account: account.apiKey,
    symbol: market.symbol,
    orderId: 0,
    algoId,
    clientOrderId: clientAlgoId ?? `sim-algo-${algoId}`,
    side,
    type,
    status: 'NEW',
    origQty: fmtQty(market, qty),
    executedQty: fmtQty(market, 0),
    avgPrice: '0.00',
    price: limit === undefined ? '0' : fmtPrice(market, limit),
    reduceOnly,
    positionSide,
    kind: 'algo',
    ...(trigger === undefined ? {} : { triggerPrice: fmtPrice(market, trigger) }),
    updateTime: now,
    time: now,
    timeInForce: params.get('timeInForce') ?? 'GTC',
    workingType: params.get('workingType') ?? 'CONTRACT_PRICE',
    priceProtect: flag(params, 'priceProtect'),
    closePosition,
  };
  book.record(account, order);
  return order;
}

/**
 * Binance trigger rule: STOP / STOP_MARKET fire when the price reaches the
 * trigger from below for a BUY (≥) and from above for a SELL (≤);
 * TAKE_PROFIT / TAKE_PROFIT_MARKET the other way round.
 */
function crossed(type: string, side: Side, trigger: number, price: number): boolean {
  const stopLike = type.startsWith('STOP');
  return side === 'BUY' ? (stopLike ? price >= trigger : price <= trigger) : stopLike ? price <= trigger : price >= trigger;
}

/** `GET/DELETE /fapi/v1/order` by orderId or origClientOrderId; `…/algoOrder` by algoId or clientAlgoId. */
export function findOrder(account: Account, kind: 'order' | 'algo', params: URLSearchParams): BookOrder | undefined {
  const [idName, clientName] = kind === 'algo' ? ['algoId', 'clientAlgoId'] : ['orderId', 'origClientOrderId'];
  const id = params.get(idName);
  const clientId = params.get(clientName);
  if (!id && !clientId) throw errors.eitherParam(idName, clientName);
  if (kind === 'order') {
    if (!params.get('symbol')) throw errors.mandatory('symbol');
    if (clientId && !id) {
      // An open order owns its client id; otherwise the newest order that used it.
      const open = account.openOrders.get(clientId);
      if (open && open.symbol === params.get('symbol')) return open;
    }
  }
  const symbol = params.get('symbol');
  for (let i = account.orders.length - 1; i >= 0; i--) {
    const o = account.orders[i] as BookOrder;
    if (o.kind !== kind || (kind === 'order' && o.symbol !== symbol)) continue;
    if (id ? String(kind === 'algo' ? o.algoId : o.orderId) === id : o.clientOrderId === clientId) return o;
  }
  return undefined;
}

/** Cancelling anything that is not open (or does not exist) is Binance's -2011 "Unknown order sent.". */
export function cancelOrder(book: BinanceBook, account: Account, order: BookOrder | undefined, now: number): BookOrder {
  if (!order || !isOpen(order)) throw errors.unknownOrderSent();
  order.status = 'CANCELED';
  order.updateTime = now;
  book.track(account, order);
  return order;
}

/**
 * Moves the mark price and lets the book react as the exchange would:
 * resting limits the price crosses fill (maker), then conditional orders it
 * crosses fire — their algo status becomes FINISHED with `actualOrderId`
 * pointing at the regular order they created (MARKET for *_MARKET types,
 * LIMIT for STOP / TAKE_PROFIT). A closing order (reduce-only, or in hedge
 * mode a close of its side) that finds nothing to close expires.
 */
export function setMarkPrice(book: BinanceBook, symbol: string, price: number, now: number): void {
  book.market(symbol);
  book.marks.set(symbol, price);
  for (const account of book.accounts.values()) {
    for (const o of [...account.openOrders.values()]) {
      if (o.symbol !== symbol || o.type !== 'LIMIT' || !marketable(o.side, Number(o.price), price)) continue;
      fillResting(book, account, o, Number(o.price), MAKER_FEE, now);
    }
    for (const o of [...account.openAlgos.values()]) {
      if (o.symbol !== symbol || o.triggerPrice === undefined || !crossed(o.type, o.side, Number(o.triggerPrice), price)) continue;
      trigger(book, account, o, price, now);
    }
  }
}

function fillResting(book: BinanceBook, account: Account, order: BookOrder, price: number, fee: number, now: number): void {
  let qty = Number(order.origQty) - Number(order.executedQty);
  if (isClosing(order)) {
    qty = Math.min(qty, closable(book, account, order.symbol, order.side, order.positionSide));
    if (qty <= EPS) {
      order.status = 'EXPIRED';
      order.updateTime = now;
      book.track(account, order);
      return;
    }
  }
  execute(book, account, order, qty, price, fee, now);
}

function trigger(book: BinanceBook, account: Account, algo: BookOrder, price: number, now: number): void {
  const market = book.market(algo.symbol);
  // A hedge-mode trigger closes the side its positionSide names, never the other.
  const qty = algo.closePosition ? Math.abs(book.positionAmount(account, algo.symbol, algo.positionSide)) : Number(algo.origQty);
  const isMarket = algo.type.endsWith('_MARKET');
  const order: BookOrder = {
    account: account.apiKey,
    symbol: algo.symbol,
    orderId: book.newOrderId(),
    clientOrderId: algo.clientOrderId,
    side: algo.side,
    type: isMarket ? 'MARKET' : 'LIMIT',
    status: 'NEW',
    origQty: fmtQty(market, qty),
    executedQty: fmtQty(market, 0),
    avgPrice: '0.00',
    price: isMarket ? '0' : algo.price,
    reduceOnly: algo.reduceOnly,
    positionSide: algo.positionSide,
    kind: 'order',
    updateTime: now,
    time: now,
    timeInForce: isMarket ? 'GTC' : algo.timeInForce,
    workingType: algo.workingType,
    priceProtect: algo.priceProtect,
    closePosition: algo.closePosition,
  };
  algo.status = 'FINISHED';
  algo.updateTime = now;
  algo.actualOrderId = order.orderId;
  // Triggered: no longer an open algo order, so its client id is free again.
  book.track(account, algo);
  // The triggered order carries the algo's client id, so Binance's
  // duplicate rule applies to it like to any new order.
  if (account.openOrders.has(order.clientOrderId)) {
    order.status = 'REJECTED';
    book.record(account, order);
    return;
  }
  book.record(account, order);
  if (isMarket || marketable(order.side, Number(order.price), price)) fillResting(book, account, order, price, TAKER_FEE, now);
  // A STOP / TAKE_PROFIT whose limit order now rests is TRIGGERED; FINISHED once that order is done.
  if (isOpen(order)) algo.status = 'TRIGGERED';
}
