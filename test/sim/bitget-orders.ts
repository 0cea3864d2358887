import {
  type Account,
  type BitgetBook,
  EPS,
  type HoldSide,
  isLive,
  LOSS_TYPES,
  type MarginMode,
  type PlanOrder,
  type RegularOrder,
  type Side,
  TPSL_TYPES,
} from './bitget-book.js';
import { errors } from './bitget-errors.js';
import { type BitgetContract, fmtPrice, MAKER_FEE, TAKER_FEE, tickOf } from './bitget-markets.js';

/** Request parameters: the JSON body of a POST or the query of a GET, values as strings. */
export type Params = Record<string, unknown>;

export const str = (p: Params, name: string): string | undefined => {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
};
const required = (p: Params, name: string): string => {
  const v = str(p, name);
  if (v === undefined) throw errors.empty(name);
  return v;
};
const lower = (p: Params, name: string) => str(p, name)?.toLowerCase();

function decimalsOf(raw: string): number {
  const dot = raw.indexOf('.');
  return dot < 0 ? 0 : raw.replace(/0+$/, '').length - dot - 1;
}

function onStep(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-6;
}

/** productType and marginCoin, which every USDT-M call carries; Bitget accepts either case. */
export function checkProduct(p: Params, needsMarginCoin: boolean): void {
  const productType = required(p, 'productType').toUpperCase();
  if (productType !== 'USDT-FUTURES') throw errors.paramError('productType');
  if (needsMarginCoin && required(p, 'marginCoin').toUpperCase() !== 'USDT') throw errors.paramError('marginCoin');
}

/** Base-coin size: volumePlace decimals, a multiple of sizeMultiplier, at least minTradeNum. */
function parseSize(c: BitgetContract, raw: string, isMarket: boolean): number {
  const size = Number(raw);
  if (!Number.isFinite(size) || size <= 0) throw errors.paramError('size');
  if (decimalsOf(raw) > c.volumePlace) throw errors.sizeScale(raw, c.volumePlace);
  if (!onStep(size, Number(c.sizeMultiplier))) throw errors.sizeMultiple(raw, c.sizeMultiplier);
  if (size < Number(c.minTradeNum) - EPS) throw errors.sizeBelowMin(c.minTradeNum);
  const max = Number(isMarket ? c.maxMarketOrderQty : c.maxOrderQty);
  if (size > max + EPS) throw errors.sizeAboveMax(isMarket ? c.maxMarketOrderQty : c.maxOrderQty);
  return size;
}

function parsePrice(c: BitgetContract, raw: string, name: string): number {
  const price = Number(raw);
  if (!Number.isFinite(price) || price <= 0) throw errors.paramError(name);
  if (decimalsOf(raw) > c.pricePlace || !onStep(price, tickOf(c))) throw errors.priceScale();
  return price;
}

function parseSide(p: Params): Side {
  const side = required(p, 'side').toLowerCase();
  if (side !== 'buy' && side !== 'sell') throw errors.paramError('side');
  return side;
}

function parseMarginMode(book: BitgetBook, account: Account, c: BitgetContract, p: Params): MarginMode {
  const mode = required(p, 'marginMode').toLowerCase();
  if (mode !== 'crossed' && mode !== 'isolated') throw errors.paramError('marginMode');
  // An order's margin mode must be the one the symbol is set to (set-margin-mode).
  const configured = book.marginModeOf(account, c.symbol);
  if (mode !== configured) throw errors.marginModeMismatch(configured);
  return mode;
}

/**
 * One-way accounts must not send tradeSide; hedge accounts must (Bitget
 * 40774 both ways). Bitget's place-order page says one-way "ignores"
 * tradeSide; the real exchange refuses it (ccxt #20729).
 */
function parseTradeSide(account: Account, p: Params): 'open' | 'close' | null {
  const tradeSide = lower(p, 'tradeSide');
  if (account.posMode === 'one_way_mode') {
    if (tradeSide !== undefined) throw errors.positionModeMismatch();
    return null;
  }
  if (tradeSide !== 'open' && tradeSide !== 'close') throw errors.positionModeMismatch();
  return tradeSide;
}

function checkClientOid(existing: Iterable<{ clientOid: string }>, clientOid: string | undefined): void {
  if (clientOid === undefined) return;
  if (clientOid.length > 50) throw errors.clientOidLength();
  // Bitget refuses a clientOid used before by the same account, whatever became of that order.
  for (const o of existing) if (o.clientOid === clientOid) throw errors.duplicateClientOid();
}

/** A limit may not stray more than the contract's ratio from the mark (buy above, sell below). */
function checkLimitBand(c: BitgetContract, side: Side, price: number, mark: number): void {
  const ratio = Number(c.limitPriceRatio);
  if (side === 'buy' && price > mark * (1 + ratio) + EPS) throw errors.priceAboveLimit();
  if (side === 'sell' && price < mark * (1 - ratio) - EPS) throw errors.priceBelowLimit();
}

/** Trigger-price rules of TP/SL: a long's stop below the mark and its take-profit above; a short's the other way. */
export function checkTpslSide(holdSide: HoldSide, isLoss: boolean, trigger: number, mark: number, c: BitgetContract): void {
  const m = fmtPrice(c, mark);
  if (holdSide === 'long') {
    if (isLoss && trigger >= mark) throw errors.longStopLoss(m);
    if (!isLoss && trigger <= mark) throw errors.longTakeProfit();
  } else {
    if (isLoss && trigger <= mark) throw errors.shortStopLoss(m);
    if (!isLoss && trigger >= mark) throw errors.shortTakeProfit();
  }
}

interface Intent {
  holdSide: HoldSide;
  /** Quantity that opens or adds (needs margin). */
  opening: number;
}

/** Which position an order acts on, and the reduce / close rules of each position mode. */
function intentOf(book: BitgetBook, account: Account, c: BitgetContract, side: Side, tradeSide: 'open' | 'close' | null, reduceOnly: boolean, size: number, now: number): Intent {
  if (account.posMode === 'hedge_mode') {
    const holdSide: HoldSide = side === 'buy' ? 'long' : 'short';
    if (tradeSide === 'open') return { holdSide, opening: size };
    const p = book.position(account, c.symbol, holdSide);
    if (!p) throw errors.noPositionToClose();
    if (size > p.size - book.lockedSize(account, c.symbol, holdSide) + EPS) throw errors.notEnoughPosition();
    return { holdSide, opening: 0 };
  }
  const against: HoldSide = side === 'buy' ? 'short' : 'long';
  const p = book.position(account, c.symbol, against);
  if (!reduceOnly) return { holdSide: side === 'buy' ? 'long' : 'short', opening: Math.max(0, size - (p?.size ?? 0)) };
  if (!p) throw errors.noPositionToClose();
  if (size > p.size + EPS) throw errors.notEnoughPosition();
  // One-way: when reduce-only orders together exceed the position, Bitget
  // cancels the older ones, oldest first, until the new one fits.
  let locked = book.lockedSize(account, c.symbol, against);
  for (const o of account.orders) {
    if (locked + size <= p.size + EPS) break;
    if (!isLive(o) || o.symbol !== c.symbol || !o.reduceOnly || o.holdSide !== against) continue;
    locked -= o.size - o.filled;
    o.state = 'canceled';
    o.uTime = now;
  }
  return { holdSide: against, opening: 0 };
}

function marketable(side: Side, limit: number, mark: number): boolean {
  return side === 'buy' ? limit >= mark : limit <= mark;
}

/** `POST /api/v2/mix/order/place-order`. */
export function placeOrder(book: BitgetBook, account: Account, p: Params, now: number): RegularOrder {
  checkProduct(p, true);
  const c = book.market(required(p, 'symbol'));
  const orderType = required(p, 'orderType').toLowerCase();
  if (orderType !== 'market' && orderType !== 'limit') throw errors.paramError('orderType');
  const side = parseSide(p);
  const marginMode = parseMarginMode(book, account, c, p);
  const tradeSide = parseTradeSide(account, p);
  const size = parseSize(c, required(p, 'size'), orderType === 'market');
  const mark = book.mark(c.symbol);
  const force = (lower(p, 'force') ?? 'gtc').replace('-', '_');
  let limit: number | null = null;
  if (orderType === 'limit') {
    limit = parsePrice(c, required(p, 'price'), 'price');
    checkLimitBand(c, tradeSide === 'close' ? (side === 'buy' ? 'sell' : 'buy') : side, limit, mark);
  }
  // Bitget: reduceOnly applies to one-way mode only; hedge closes are tradeSide=close.
  const reduceOnly = account.posMode === 'one_way_mode' ? lower(p, 'reduceOnly') === 'yes' : tradeSide === 'close';
  const clientOid = str(p, 'clientOid');
  checkClientOid(account.orders, clientOid);
  const presetSl = str(p, 'presetStopLossPrice');
  const presetTp = str(p, 'presetStopSurplusPrice');

  const intent = intentOf(book, account, c, side, tradeSide, reduceOnly && account.posMode === 'one_way_mode', size, now);
  const direction: Side = tradeSide === 'close' ? (side === 'buy' ? 'sell' : 'buy') : side;
  const takes = limit === null || marketable(direction, limit, mark);
  const refPrice = takes ? mark : (limit as number);
  if (intent.opening > EPS) {
    if (size * refPrice < Number(c.minTradeUSDT) - EPS) throw errors.notionalBelowMin(c.minTradeUSDT);
    const needed = (intent.opening * refPrice) / book.leverageOf(account, c.symbol) + size * refPrice * TAKER_FEE;
    if (needed > book.available(account) + EPS) throw errors.insufficientBalance();
  }
  if (presetSl !== undefined) checkTpslSide(intent.holdSide, true, parsePrice(c, presetSl, 'presetStopLossPrice'), mark, c);
  if (presetTp !== undefined) checkTpslSide(intent.holdSide, false, parsePrice(c, presetTp, 'presetStopSurplusPrice'), mark, c);

  const orderId = book.newId();
  const order: RegularOrder = {
    kind: 'order',
    account: account.apiKey,
    orderId,
    clientOid: clientOid ?? book.newId(),
    symbol: c.symbol,
    side,
    tradeSide,
    holdSide: intent.holdSide,
    orderType,
    price: limit,
    size,
    filled: 0,
    priceAvg: null,
    fee: 0,
    profit: 0,
    state: 'live',
    reduceOnly,
    force,
    marginMode,
    leverage: book.leverageOf(account, c.symbol),
    posMode: account.posMode,
    presetStopLossPrice: presetSl ?? '',
    presetStopSurplusPrice: presetTp ?? '',
    orderSource: orderType === 'market' ? 'market' : 'normal',
    planId: null,
    cTime: now,
    uTime: now,
  };
  book.record(account, order);
  // The simulated book is one price deep: a taker fills entirely at the mark.
  if (takes && force !== 'post_only') execute(book, account, order, mark, TAKER_FEE, now);
  else if (force === 'ioc' || force === 'fok' || (takes && force === 'post_only')) order.state = 'canceled';
  return order;
}

/** Fills what is left of an order at `price`; an entry's preset TP/SL become plans on the position. */
function execute(book: BitgetBook, account: Account, order: RegularOrder, price: number, feeRate: number, now: number): void {
  let qty = order.size - order.filled;
  if (order.reduceOnly) {
    const p = book.position(account, order.symbol, order.holdSide);
    qty = Math.min(qty, p?.size ?? 0);
    if (qty < EPS) {
      order.state = 'canceled';
      order.uTime = now;
      return;
    }
  }
  book.fill(account, order, qty, price, feeRate, now);
  for (const [field, planType] of [
    ['presetStopLossPrice', 'loss_plan'],
    ['presetStopSurplusPrice', 'profit_plan'],
  ] as const) {
    const trigger = order[field];
    if (trigger === '' || order.reduceOnly) continue;
    addPlan(book, account, {
      symbol: order.symbol,
      planType,
      triggerPrice: Number(trigger),
      triggerType: 'mark_price',
      executePrice: null,
      size: qty,
      holdSide: order.holdSide,
      clientOid: book.newId(),
      parentId: order.orderId,
      now,
    });
  }
}

interface NewTpsl {
  symbol: string;
  planType: string;
  triggerPrice: number;
  triggerType: string;
  executePrice: number | null;
  size: number | null;
  holdSide: HoldSide;
  clientOid: string;
  parentId: string | null;
  now: number;
}

function addPlan(book: BitgetBook, account: Account, n: NewTpsl): PlanOrder {
  const hedge = account.posMode === 'hedge_mode';
  const plan: PlanOrder = {
    kind: 'plan',
    account: account.apiKey,
    orderId: book.newId(),
    clientOid: n.clientOid,
    symbol: n.symbol,
    planType: n.planType,
    triggerPrice: n.triggerPrice,
    triggerType: n.triggerType,
    executePrice: n.executePrice,
    size: n.size,
    holdSide: n.holdSide,
    // Hedge mode names the position's direction (close long = buy + close); one-way the closing trade.
    side: hedge ? (n.holdSide === 'long' ? 'buy' : 'sell') : n.holdSide === 'long' ? 'sell' : 'buy',
    tradeSide: hedge ? 'close' : null,
    reduceOnly: true,
    direction: 'down',
    planStatus: 'live',
    executeOrderId: '',
    posMode: account.posMode,
    marginMode: book.marginModeOf(account, n.symbol),
    parentId: n.parentId,
    cTime: n.now,
    uTime: n.now,
  };
  book.record(account, plan);
  return plan;
}

/** `POST /api/v2/mix/order/place-plan-order` (normal_plan). */
export function placePlanOrder(book: BitgetBook, account: Account, p: Params, now: number): PlanOrder {
  checkProduct(p, true);
  const planType = required(p, 'planType');
  if (planType !== 'normal_plan') throw errors.paramError('planType');
  const c = book.market(required(p, 'symbol'));
  const orderType = required(p, 'orderType').toLowerCase();
  if (orderType !== 'market' && orderType !== 'limit') throw errors.paramError('orderType');
  const side = parseSide(p);
  const marginMode = parseMarginMode(book, account, c, p);
  const tradeSide = parseTradeSide(account, p);
  const size = parseSize(c, required(p, 'size'), orderType === 'market');
  const triggerPrice = parsePrice(c, required(p, 'triggerPrice'), 'triggerPrice');
  const triggerType = required(p, 'triggerType');
  if (triggerType !== 'mark_price' && triggerType !== 'fill_price') throw errors.paramError('triggerType');
  const executePrice = orderType === 'limit' ? parsePrice(c, str(p, 'executePrice') ?? required(p, 'price'), 'price') : null;
  const clientOid = str(p, 'clientOid');
  checkClientOid(account.plans, clientOid);
  const hedge = account.posMode === 'hedge_mode';
  const holdSide: HoldSide = hedge ? (side === 'buy' ? 'long' : 'short') : tradeSide === 'close' || lower(p, 'reduceOnly') === 'yes' ? (side === 'buy' ? 'short' : 'long') : side === 'buy' ? 'long' : 'short';
  const plan: PlanOrder = {
    kind: 'plan',
    account: account.apiKey,
    orderId: book.newId(),
    clientOid: clientOid ?? book.newId(),
    symbol: c.symbol,
    planType,
    triggerPrice,
    triggerType,
    executePrice,
    size,
    holdSide,
    side,
    tradeSide,
    reduceOnly: hedge ? tradeSide === 'close' : lower(p, 'reduceOnly') === 'yes',
    direction: triggerPrice >= book.mark(c.symbol) ? 'up' : 'down',
    planStatus: 'live',
    executeOrderId: '',
    posMode: account.posMode,
    marginMode,
    parentId: null,
    cTime: now,
    uTime: now,
  };
  book.record(account, plan);
  return plan;
}

/**
 * `POST /api/v2/mix/order/place-tpsl-order`: profit_plan / loss_plan (a
 * size of the position) or pos_profit / pos_loss (the WHOLE position, size
 * ignored; one of each per position).
 */
export function placeTpslOrder(book: BitgetBook, account: Account, p: Params, now: number): PlanOrder {
  checkProduct(p, true);
  const c = book.market(required(p, 'symbol'));
  const planType = required(p, 'planType');
  if (!TPSL_TYPES.has(planType) || planType === 'moving_plan') throw errors.paramError('planType');
  const rawHold = required(p, 'holdSide').toLowerCase();
  // holdSide is long/short in hedge mode and buy/sell (the position's direction) in one-way mode.
  const hedge = account.posMode === 'hedge_mode';
  if (hedge ? rawHold !== 'long' && rawHold !== 'short' : rawHold !== 'buy' && rawHold !== 'sell') throw errors.positionModeMismatch();
  const holdSide: HoldSide = rawHold === 'long' || rawHold === 'buy' ? 'long' : 'short';
  const triggerPrice = parsePrice(c, required(p, 'triggerPrice'), 'triggerPrice');
  const triggerType = str(p, 'triggerType') ?? 'fill_price';
  if (triggerType !== 'mark_price' && triggerType !== 'fill_price') throw errors.paramError('triggerType');
  const rawExecute = str(p, 'executePrice');
  const executePrice = rawExecute === undefined || Number(rawExecute) === 0 ? null : parsePrice(c, rawExecute, 'executePrice');
  const whole = planType === 'pos_profit' || planType === 'pos_loss';
  const size = whole ? null : parseSize(c, required(p, 'size'), executePrice === null);
  const clientOid = str(p, 'clientOid');
  checkClientOid(account.plans, clientOid);
  const position = book.position(account, c.symbol, holdSide);
  if (!position) throw errors.noPositionForTpsl();
  if (size !== null && size > position.size + EPS) throw errors.insufficientPositionForTpsl();
  const isLoss = LOSS_TYPES.has(planType);
  checkTpslSide(holdSide, isLoss, triggerPrice, book.mark(c.symbol), c);
  if (whole && account.plans.some((x) => x.planStatus === 'live' && x.symbol === c.symbol && x.holdSide === holdSide && x.planType === planType)) {
    throw isLoss ? errors.stopLossExists() : errors.takeProfitExists();
  }
  return addPlan(book, account, { symbol: c.symbol, planType, triggerPrice, triggerType, executePrice, size, holdSide, clientOid: clientOid ?? book.newId(), parentId: null, now });
}

/** `GET /api/v2/mix/order/detail`: REGULAR orders only, by orderId or clientOid. */
export function findOrder(account: Account, p: Params): RegularOrder | undefined {
  const orderId = str(p, 'orderId');
  const clientOid = str(p, 'clientOid');
  if (orderId === undefined && clientOid === undefined) throw errors.orderIdOrClientOid();
  const symbol = str(p, 'symbol')?.toUpperCase();
  return account.orders.find((o) => o.symbol === symbol && (orderId !== undefined ? o.orderId === orderId : o.clientOid === clientOid));
}

/** `POST /api/v2/mix/order/cancel-order`. */
export function cancelOrder(book: BitgetBook, account: Account, p: Params, now: number): RegularOrder {
  checkProduct(p, false);
  book.market(required(p, 'symbol'));
  const order = findOrder(account, p);
  if (!order || !isLive(order)) throw errors.cancelNotFound();
  order.state = 'canceled';
  order.uTime = now;
  return order;
}

/**
 * `POST /api/v2/mix/order/cancel-plan-order`: the listed plans (or all of a
 * symbol) of ONE planType, normal_plan unless another is named. A listed
 * order that is not a live plan of that type lands in failureList.
 */
export function cancelPlanOrders(book: BitgetBook, account: Account, p: Params, now: number) {
  checkProduct(p, false);
  const planType = str(p, 'planType') ?? 'normal_plan';
  const symbol = str(p, 'symbol');
  const c = symbol === undefined ? undefined : book.market(symbol);
  const list = p['orderIdList'];
  const live = (x: PlanOrder) => x.planStatus === 'live' && x.planType === planType && (!c || x.symbol === c.symbol);
  const successList: Array<{ orderId: string; clientOid: string }> = [];
  const failureList: Array<{ orderId: string; clientOid: string; errorMsg: string }> = [];
  const cancel = (x: PlanOrder) => {
    x.planStatus = 'cancelled';
    x.uTime = now;
    successList.push({ orderId: x.orderId, clientOid: x.clientOid });
  };
  if (Array.isArray(list) && list.length > 0) {
    if (!c) throw errors.empty('symbol');
    for (const entry of list as Params[]) {
      const orderId = str(entry, 'orderId');
      const clientOid = str(entry, 'clientOid');
      const plan = account.plans.find((x) => live(x) && (orderId !== undefined ? x.orderId === orderId : x.clientOid === clientOid));
      if (plan) cancel(plan);
      else failureList.push({ orderId: orderId ?? '', clientOid: clientOid ?? '', errorMsg: 'notExistend' });
    }
  } else {
    for (const x of account.plans) if (live(x)) cancel(x);
  }
  return { successList, failureList };
}

/** Whether a plan's trigger is reached at `price`. */
function reached(plan: PlanOrder, price: number): boolean {
  if (plan.planType === 'normal_plan') return plan.direction === 'up' ? price >= plan.triggerPrice : price <= plan.triggerPrice;
  const isLoss = LOSS_TYPES.has(plan.planType);
  const long = plan.holdSide === 'long';
  return isLoss === long ? price <= plan.triggerPrice : price >= plan.triggerPrice;
}

const SOURCES: Record<string, string> = { loss_plan: 'loss', profit_plan: 'profit', pos_loss: 'pos_loss', pos_profit: 'pos_profit', normal_plan: 'plan' };

/** A triggered plan places its order: market at the mark, or a limit at its execute price. */
function fire(book: BitgetBook, account: Account, plan: PlanOrder, price: number, now: number): void {
  const tpsl = TPSL_TYPES.has(plan.planType);
  const position = book.position(account, plan.symbol, plan.holdSide);
  // pos_loss / pos_profit close whatever the position holds when they fire.
  const size = tpsl ? Math.min(plan.size ?? Number.POSITIVE_INFINITY, position?.size ?? 0) : (plan.size as number);
  plan.uTime = now;
  if (size < EPS) {
    plan.planStatus = 'fail_execute';
    return;
  }
  const isMarket = plan.executePrice === null;
  const order: RegularOrder = {
    kind: 'order',
    account: account.apiKey,
    orderId: book.newId(),
    clientOid: book.newId(),
    symbol: plan.symbol,
    side: plan.side,
    tradeSide: plan.tradeSide,
    holdSide: plan.holdSide,
    orderType: isMarket ? 'market' : 'limit',
    price: plan.executePrice,
    size,
    filled: 0,
    priceAvg: null,
    fee: 0,
    profit: 0,
    state: 'live',
    reduceOnly: plan.reduceOnly,
    force: 'gtc',
    marginMode: plan.marginMode,
    leverage: book.leverageOf(account, plan.symbol),
    posMode: plan.posMode,
    presetStopLossPrice: '',
    presetStopSurplusPrice: '',
    orderSource: `${SOURCES[plan.planType] ?? 'plan'}_${isMarket ? 'market' : 'limit'}`,
    planId: plan.orderId,
    cTime: now,
    uTime: now,
  };
  plan.planStatus = 'executed';
  plan.executeOrderId = order.orderId;
  book.record(account, order);
  if (isMarket || marketable(tradeDirection(order), plan.executePrice as number, price)) {
    execute(book, account, order, price, TAKER_FEE, now);
  }
}

/**
 * Moves the mark and lets the book react as Bitget would: crossed resting
 * limits fill (maker), then reached plans fire in the order they were
 * placed. A position that closes cancels its remaining TP/SL plans.
 */
export function setMarkPrice(book: BitgetBook, symbol: string, price: number, now: number): void {
  const c = book.market(symbol);
  book.marks.set(c.symbol, price);
  for (const account of book.accounts.values()) {
    for (const o of account.orders) {
      if (!isLive(o) || o.symbol !== c.symbol || o.price === null || !marketable(tradeDirection(o), o.price, price)) continue;
      execute(book, account, o, o.price, MAKER_FEE, now);
    }
    for (const plan of [...account.plans]) {
      if (plan.planStatus !== 'live' || plan.symbol !== c.symbol || !reached(plan, price)) continue;
      fire(book, account, plan, price, now);
    }
  }
}

/** The direction an order trades in: a hedge-mode close trades against its position. */
function tradeDirection(o: RegularOrder): Side {
  if (o.posMode === 'hedge_mode' && o.tradeSide === 'close') return o.holdSide === 'long' ? 'sell' : 'buy';
  return o.side;
}
