import {
  type Account,
  type Algo,
  type Attachment,
  EPS,
  isLive,
  type Leg,
  MAKER_FEE,
  type MgnMode,
  type OkxBook,
  type Order,
  type PosSide,
  type Side,
  TAKER_FEE,
  type TriggerType,
  UNFILLED_CANCEL_RETENTION_MS,
} from './okx-book.js';
import { errors, OkxError } from './okx-errors.js';
import { isSpot, swapOf, type OkxInstrument } from './okx-markets.js';

/** A JSON object of a request body (one order of a batch, or the whole body). */
export type Fields = Record<string, unknown>;

/** clOrdId / algoClOrdId / attachAlgoClOrdId: "case-sensitive alphanumerics, all numbers, or all letters of up to 32 characters". */
const CLIENT_ID = /^[A-Za-z0-9]{1,32}$/;
const TAG = /^[A-Za-z0-9]{1,16}$/;
const REGULAR_TYPES = new Set(['market', 'limit', 'post_only', 'fok', 'ioc', 'optimal_limit_ioc']);
const TRIGGER_TYPES = new Set<TriggerType>(['last', 'mark', 'index']);
/** Swap price limit band around the mark (the instruments' initPxLmtPct). */
const PRICE_LIMIT = 0.02;
const MAX_SPLIT_TPS = 10;

/** OKX takes numbers either as JSON strings or as JSON numbers. */
function text(fields: Fields, name: string): string | undefined {
  const v = fields[name];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function flag(fields: Fields, name: string): boolean {
  const v = fields[name];
  return v === true || v === 'true';
}

/** True when `value` is a whole multiple of `step` (lotSz / tickSz). */
export function onStep(value: number, step: string): boolean {
  const ratio = value / Number(step);
  return Math.abs(ratio - Math.round(ratio)) < 1e-7;
}

function positive(fields: Fields, name: string): number {
  const raw = text(fields, name);
  const n = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw errors.param(name);
  return n;
}

function price(m: OkxInstrument, fields: Fields, name: string): number {
  const px = positive(fields, name);
  if (!onStep(px, m.tickSz)) throw errors.param(name);
  return px;
}

/** An order price that may be -1 (market). */
function orderPrice(m: OkxInstrument, fields: Fields, name: string): number {
  const raw = text(fields, name);
  if (raw === undefined) throw errors.param(name);
  if (Number(raw) === -1) return -1;
  return price(m, fields, name);
}

/** Contracts: a positive multiple of lotSz, at least minSz. */
function contracts(m: OkxInstrument, fields: Fields, name = 'sz'): number {
  const sz = positive(fields, name);
  if (!onStep(sz, m.lotSz)) throw errors.lotSize();
  if (sz < Number(m.minSz) - EPS) throw errors.belowMinSize();
  return sz;
}

function swap(fields: Fields): OkxInstrument {
  const instId = text(fields, 'instId');
  if (instId === undefined) throw errors.param('instId');
  const m = swapOf(instId);
  // Spot pairs are listed but not traded by this simulator.
  if (!m || isSpot(instId)) throw errors.noInstrument();
  return m;
}

function side(fields: Fields): Side {
  const s = text(fields, 'side');
  if (s !== 'buy' && s !== 'sell') throw errors.param('side');
  return s;
}

function tdMode(fields: Fields): MgnMode {
  const mode = text(fields, 'tdMode');
  if (mode !== 'cross' && mode !== 'isolated') throw errors.param('tdMode');
  return mode;
}

/**
 * net mode: posSide must be `net` or absent. long/short mode: it is
 * required and must be `long` or `short` ("Omitting it ... returns error 51000").
 */
function posSide(account: Account, fields: Fields): PosSide {
  const ps = text(fields, 'posSide');
  if (account.posMode === 'net_mode') {
    if (ps !== undefined && ps !== 'net') throw errors.param('posSide');
    return 'net';
  }
  if (ps !== 'long' && ps !== 'short') throw errors.param('posSide');
  return ps;
}

function clientId(fields: Fields, name: string): string {
  const id = text(fields, name);
  if (id === undefined) return '';
  if (!CLIENT_ID.test(id)) throw errors.param(name);
  return id;
}

function tag(fields: Fields): string {
  const t = text(fields, 'tag');
  if (t === undefined) return '';
  if (!TAG.test(t)) throw errors.param('tag');
  return t;
}

function triggerType(fields: Fields, name: string): TriggerType {
  const t = text(fields, name) ?? 'last';
  if (!TRIGGER_TYPES.has(t as TriggerType)) throw errors.param(name);
  return t as TriggerType;
}

/** A TP or SL leg from `<p>TriggerPx` / `<p>OrdPx` / `<p>TriggerPxType`; undefined when neither price is sent. */
function leg(m: OkxInstrument, fields: Fields, p: 'tp' | 'sl'): Leg | undefined {
  const hasTrigger = text(fields, `${p}TriggerPx`) !== undefined;
  const hasOrdPx = text(fields, `${p}OrdPx`) !== undefined;
  if (!hasTrigger && !hasOrdPx) return undefined;
  // "If you fill in this parameter, you should fill in the ... order price as well."
  if (!hasTrigger) throw errors.param(`${p}TriggerPx`);
  if (!hasOrdPx) throw errors.param(`${p}OrdPx`);
  return { triggerPx: price(m, fields, `${p}TriggerPx`), ordPx: orderPrice(m, fields, `${p}OrdPx`), type: triggerType(fields, `${p}TriggerPxType`) };
}

/** Live regular orders own their clOrdId; a filled or canceled order's id may be used again (docs: "clOrdId"). */
function liveClOrdId(account: Account, id: string): boolean {
  return account.orders.some((o) => isLive(o) && o.clOrdId === id);
}

/** Client algo ids taken: live algo orders and attachments still waiting for their parent. */
function algoIdTaken(account: Account, id: string): 'algo' | 'attach' | undefined {
  if (account.algos.some((a) => a.state === 'live' && a.algoClOrdId === id)) return 'algo';
  for (const o of account.orders) if (isLive(o) && o.attach.some((a) => !a.discarded && !a.algoId && a.attachAlgoClOrdId === id)) return 'attach';
  return undefined;
}

/**
 * Reduce-only rules for swaps. net mode: there must be a position the
 * order reduces (51169), not one in the order's own direction (51170), and
 * the order plus the live reduce-only orders on that side may not exceed it
 * (51112: "the system does not auto-trim"). long/short mode: every closing
 * order is reduce-only by nature.
 */
function checkReduce(book: OkxBook, account: Account, m: OkxInstrument, mode: MgnMode, s: Side, ps: PosSide, sz: number): void {
  const p = book.position(account, m.instId, mode, ps);
  if (ps === 'net') {
    if (!p) throw errors.noPositionToReduce();
    if ((s === 'buy' && p.pos > 0) || (s === 'sell' && p.pos < 0)) throw errors.reduceSameDirection();
  } else if (!p) throw errors.noPositionToReduce();
  let pending = 0;
  for (const o of account.orders) {
    if (!isLive(o) || o.instId !== m.instId || o.tdMode !== mode || o.side !== s || o.posSide !== ps) continue;
    if (ps === 'net' ? o.reduceOnly : true) pending += o.sz - o.accFillSz;
  }
  if (pending + sz > Math.abs(p.pos) + EPS) throw errors.closeExceedsPosition();
}

function closes(s: Side, ps: PosSide): boolean {
  return (s === 'sell' && ps === 'long') || (s === 'buy' && ps === 'short');
}

function marketable(s: Side, px: number, mark: number): boolean {
  return s === 'buy' ? px >= mark : px <= mark;
}

/**
 * `attachAlgoOrds` of an entry order: one entry (TP, SL or both, becoming
 * a conditional or OCO algo once the order fills) or split TPs (several
 * one-way entries, TP sizes adding up to the order size, at most one SL).
 * Trigger prices must lie on the profitable / protective side of the order
 * price, or of the best bid / ask for a market order.
 */
function parseAttachments(book: OkxBook, account: Account, m: OkxInstrument, s: Side, sz: number, px: number | null, raw: unknown): Attachment[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw errors.param('attachAlgoOrds');
  const list: Attachment[] = [];
  const mark = book.mark(m.instId);
  const seen = new Set<string>();
  for (const item of raw) {
    if (!item || typeof item !== 'object') throw errors.param('attachAlgoOrds');
    const f = item as Fields;
    const id = clientId(f, 'attachAlgoClOrdId');
    const tp = leg(m, f, 'tp');
    const sl = leg(m, f, 'sl');
    if (!tp && !sl) {
      if (id) throw errors.attachNeedsPrices();
      throw errors.param('attachAlgoOrds');
    }
    const ref = px ?? mark;
    if (s === 'buy') {
      if (tp && tp.triggerPx <= ref) throw px === null ? errors.tpAboveAsk() : errors.tpAboveOrderPx();
      if (sl && sl.triggerPx >= ref) throw px === null ? errors.slBelowAsk() : errors.slBelowOrderPx();
    } else {
      if (tp && tp.triggerPx >= ref) throw px === null ? errors.tpBelowBid() : errors.tpBelowOrderPx();
      if (sl && sl.triggerPx <= ref) throw px === null ? errors.slAboveBid() : errors.slAboveOrderPx();
    }
    if (id) {
      if (seen.has(id) || algoIdTaken(account, id)) throw errors.algoIdClash(id);
      seen.add(id);
    }
    const a: Attachment = { attachAlgoId: book.newId(), attachAlgoClOrdId: id, discarded: false, failCode: '', failReason: '' };
    if (tp) a.tp = tp;
    if (sl) a.sl = sl;
    if (text(f, 'sz') !== undefined) a.sz = contracts(m, f);
    list.push(a);
  }
  if (list.length > 1) {
    if (list.some((a) => a.tp && a.sl)) throw errors.splitOneWay();
    const tps = list.filter((a) => a.tp);
    if (tps.length > MAX_SPLIT_TPS) throw errors.splitTooManyTps(MAX_SPLIT_TPS);
    if (list.length - tps.length > 1) throw errors.splitTooManySls(1);
    if (tps.some((a) => a.sz === undefined)) throw errors.splitTpNoSize();
    if (Math.abs(tps.reduce((n, a) => n + (a.sz ?? 0), 0) - sz) > EPS) throw errors.splitSizeSum();
  }
  return list;
}

/**
 * One order of `POST /api/v5/trade/order` or `/trade/batch-orders`. Throws
 * the OkxError that becomes this item's sCode; on success the order is on
 * the book (filled at the mark when it takes liquidity).
 */
export function placeOrder(book: OkxBook, account: Account, f: Fields, now: number, batchIds: Set<string>): Order {
  const m = swap(f);
  const mode = tdMode(f);
  const s = side(f);
  const ordType = text(f, 'ordType');
  if (ordType === undefined || !REGULAR_TYPES.has(ordType)) throw errors.param('ordType');
  const ps = posSide(account, f);
  const clOrdId = clientId(f, 'clOrdId');
  const t = tag(f);
  const sz = contracts(m, f);
  const isMarket = ordType === 'market' || ordType === 'optimal_limit_ioc';
  if (isMarket && sz > Number(m.maxMktSz) + EPS) throw errors.aboveMaxMarketSize();
  if (!isMarket && sz > Number(m.maxLmtSz) + EPS) throw errors.aboveMaxLimitSize();
  const mark = book.mark(m.instId);
  let px: number | null = null;
  if (!isMarket) {
    if (text(f, 'px') === undefined) throw errors.param('px');
    px = price(m, f, 'px');
    const maxBuy = mark * (1 + PRICE_LIMIT);
    const minSell = mark * (1 - PRICE_LIMIT);
    if ((s === 'buy' && px > maxBuy + EPS) || (s === 'sell' && px < minSell - EPS)) {
      const digits = m.tickSz.includes('.') ? m.tickSz.length - m.tickSz.indexOf('.') - 1 : 0;
      throw errors.priceLimit(maxBuy.toFixed(digits), minSell.toFixed(digits));
    }
  }
  // In long/short mode the reduceOnly flag has no effect: closing orders always only reduce.
  const reduceOnly = ps === 'net' ? flag(f, 'reduceOnly') : closes(s, ps);
  const attachRaw = f['attachAlgoOrds'];
  if (attachRaw !== undefined && reduceOnly) throw ps === 'net' ? errors.attachOnReduceOnly() : errors.attachOnHedgeClose();
  if (clOrdId && (liveClOrdId(account, clOrdId) || batchIds.has(clOrdId))) throw errors.duplicateClOrdId();
  const attach = parseAttachments(book, account, m, s, sz, px, attachRaw);
  if (reduceOnly) checkReduce(book, account, m, mode, s, ps, sz);
  const takes = px === null || marketable(s, px, mark);
  if (!reduceOnly) {
    const opening = book.openingSize(account, m.instId, mode, s, ps, sz);
    const need = (opening * Number(m.ctVal) * (takes ? mark : (px as number))) / book.leverOf(account, m.instId, mode, ps);
    if (need > book.totals(account).availEq + EPS) throw errors.insufficientMargin();
  }
  if (clOrdId) batchIds.add(clOrdId);

  const order: Order = {
    account: account.apiKey,
    ordId: book.newId(),
    clOrdId,
    tag: t,
    instId: m.instId,
    side: s,
    posSide: ps,
    tdMode: mode,
    ordType,
    sz,
    px,
    reduceOnly,
    state: 'live',
    accFillSz: 0,
    avgPx: 0,
    fee: 0,
    pnl: 0,
    fillPx: 0,
    fillSz: 0,
    fillTime: 0,
    tradeId: '',
    lever: book.leverOf(account, m.instId, mode, ps),
    source: '',
    algoId: '',
    algoClOrdId: '',
    attach,
    cancelSource: '',
    cTime: now,
    uTime: now,
  };
  account.orders.push(order);
  book.journal.push(order);
  if (ordType === 'post_only' && takes) {
    // A post-only order that would take is accepted and then canceled by the engine.
    cancel(book, account, order, now, '31');
  } else if (takes) {
    // The simulated book is one price deep: a taker fills entirely at the mark.
    book.fill(account, order, sz, mark, TAKER_FEE, now);
    generateAttached(book, account, order, now);
  } else if (ordType === 'ioc' || ordType === 'fok') {
    cancel(book, account, order, now, '14');
  }
  return order;
}

/**
 * `POST /api/v5/trade/order-algo` for `conditional` (one TP or SL), `oco`
 * (both) and `trigger` orders. The client id is `algoClOrdId`; a request
 * that carries only the (undocumented, deprecated) `clOrdId` — which is
 * what ccxt sends — has it taken as algoClOrdId, as the live venue does
 * (ccxt's recorded answer echoes it in both fields).
 */
export function placeAlgo(book: OkxBook, account: Account, f: Fields, now: number): Algo {
  const m = swap(f);
  const mode = tdMode(f);
  const s = side(f);
  const ordType = text(f, 'ordType');
  if (ordType !== 'conditional' && ordType !== 'oco' && ordType !== 'trigger') throw errors.param('ordType');
  const ps = posSide(account, f);
  const clOrdId = clientId(f, 'clOrdId');
  const algoClOrdId = clientId(f, 'algoClOrdId') || clOrdId;
  const t = tag(f);
  const closeFraction = text(f, 'closeFraction');
  let sz: number | null = null;
  if (closeFraction !== undefined) {
    if (text(f, 'sz') !== undefined) throw errors.bothParams('sz', 'closeFraction');
    if (closeFraction !== '1') throw errors.param('closeFraction');
    if (ordType === 'trigger') throw errors.param('closeFraction');
  } else {
    if (text(f, 'sz') === undefined) throw errors.either('sz', 'closeFraction');
    sz = contracts(m, f);
    if (sz > Number(m.maxStopSz) + EPS) throw errors.stopAboveMax();
  }
  const reduceOnly = ps === 'net' ? flag(f, 'reduceOnly') : closes(s, ps);
  if (closeFraction !== undefined && ps === 'net' && !reduceOnly) throw errors.closeFractionReduceOnly();
  const last = book.mark(m.instId);
  const algo: Algo = {
    account: account.apiKey,
    algoId: book.newId(),
    algoClOrdId,
    clOrdId,
    tag: t,
    instId: m.instId,
    side: s,
    posSide: ps,
    tdMode: mode,
    ordType,
    sz,
    closeFraction: closeFraction ?? '',
    reduceOnly,
    state: 'live',
    actualSz: '',
    actualPx: '',
    actualSide: '',
    triggerTime: 0,
    ordId: '',
    failCode: '',
    lever: book.leverOf(account, m.instId, mode, ps),
    last,
    parentOrdId: '',
    cTime: now,
    uTime: now,
  };
  if (ordType === 'trigger') {
    if (text(f, 'triggerPx') === undefined) throw errors.param('triggerPx');
    const triggerPx = price(m, f, 'triggerPx');
    const ordPx = orderPrice(m, f, 'orderPx');
    algo.trigger = { triggerPx, ordPx, type: triggerType(f, 'triggerPxType'), direction: triggerPx >= last ? 'up' : 'down' };
  } else {
    const tp = leg(m, f, 'tp');
    const sl = leg(m, f, 'sl');
    if (ordType === 'oco' && (!tp || !sl)) throw errors.param(tp ? 'slTriggerPx' : 'tpTriggerPx');
    if (!tp && !sl) throw errors.param('slTriggerPx');
    // "When placing net TP/SL order (ordType=conditional) and both take-profit and
    // stop-loss parameters are sent, only stop-loss logic will be performed."
    if (tp && (ordType === 'oco' || !sl)) algo.tp = tp;
    if (sl) algo.sl = sl;
    checkTriggerSide(s, algo.tp, algo.sl, last);
  }
  if (algoClOrdId) {
    const taken = algoIdTaken(account, algoClOrdId);
    if (taken === 'algo') throw errors.duplicateAlgoClOrdId();
    if (taken === 'attach') throw errors.algoIdClash(algoClOrdId);
  }
  if (closeFraction !== undefined) {
    const held = account.algos.some((a) => a.state === 'live' && a.closeFraction === '1' && a.instId === m.instId && a.tdMode === mode && a.posSide === ps);
    if (held) throw errors.oneClosePosition();
  }
  account.algos.push(algo);
  book.journal.push(algo);
  return algo;
}

/** A sell closes a long: its TP lies above the price, its SL below; a buy the other way round. */
function checkTriggerSide(s: Side, tp: Leg | undefined, sl: Leg | undefined, last: number): void {
  if (s === 'sell') {
    if (tp && tp.triggerPx < last) throw errors.tpNotBelow(tp.type);
    if (sl && sl.triggerPx > last) throw errors.slNotAbove(sl.type);
  } else {
    if (tp && tp.triggerPx > last) throw errors.tpNotAbove(tp.type);
    if (sl && sl.triggerPx < last) throw errors.slNotBelow(sl.type);
  }
}

/** Ends a live order; a partly filled one still gets its TP/SL for the filled part, an unfilled one's are discarded. */
export function cancel(book: OkxBook, account: Account, order: Order, now: number, source = '1'): void {
  order.state = 'canceled';
  order.cancelSource = source;
  order.uTime = now;
  if (order.accFillSz > EPS) generateAttached(book, account, order, now);
  else for (const a of order.attach) a.discarded = true;
}

/** `POST /trade/cancel-order`: only live orders can be canceled (51400 otherwise). */
export function cancelOrder(book: OkxBook, account: Account, f: Fields, now: number): Order {
  const m = swap(f);
  const ordId = text(f, 'ordId');
  const clOrdId = text(f, 'clOrdId');
  if (ordId === undefined && clOrdId === undefined) throw errors.eitherCancelId();
  const order = ordId !== undefined
    ? account.orders.find((o) => o.ordId === ordId && o.instId === m.instId)
    : account.orders.find((o) => isLive(o) && o.clOrdId === clOrdId && o.instId === m.instId);
  if (!order || !isLive(order)) throw errors.cancelFailed();
  cancel(book, account, order, now);
  return order;
}

/** `POST /trade/cancel-algos`: a triggered algo cannot be canceled (51416), an unknown or ended one fails with 51400. */
export function cancelAlgo(account: Account, f: Fields, now: number): Algo {
  const m = swap(f);
  const algoId = text(f, 'algoId');
  const algoClOrdId = text(f, 'algoClOrdId');
  if (algoId === undefined && algoClOrdId === undefined) throw errors.either('algoId', 'algoClOrdId');
  const algo = algoId !== undefined
    ? account.algos.find((a) => a.algoId === algoId && a.instId === m.instId)
    : [...account.algos].reverse().find((a) => a.algoClOrdId === algoClOrdId && a.instId === m.instId);
  if (!algo) throw errors.cancelFailed();
  if (algo.state === 'effective') throw errors.algoTriggered();
  if (algo.state !== 'live') throw errors.cancelFailed();
  algo.state = 'canceled';
  algo.uTime = now;
  return algo;
}

/**
 * `GET /trade/order`: by ordId, else the LATEST order with that clOrdId
 * ("If the clOrdId is associated with multiple orders, only the latest one
 * will be returned"). Orders canceled without a fill are forgotten after
 * two hours, like the venue's retention.
 */
export function findOrder(account: Account, query: URLSearchParams, now: number): Order | undefined {
  const instId = query.get('instId') ?? '';
  const ordId = query.get('ordId');
  const clOrdId = query.get('clOrdId');
  for (let i = account.orders.length - 1; i >= 0; i--) {
    const o = account.orders[i] as Order;
    if (o.instId !== instId) continue;
    if (ordId ? o.ordId !== ordId : o.clOrdId !== clOrdId || clOrdId === '') continue;
    if (o.state === 'canceled' && o.accFillSz < EPS && now - o.uTime > UNFILLED_CANCEL_RETENTION_MS) return undefined;
    return o;
  }
  return undefined;
}

/** `GET /trade/order-algo`: by algoId, else the latest algo with that algoClOrdId. */
export function findAlgo(account: Account, query: URLSearchParams): Algo | undefined {
  const algoId = query.get('algoId');
  const algoClOrdId = query.get('algoClOrdId');
  for (let i = account.algos.length - 1; i >= 0; i--) {
    const a = account.algos[i] as Algo;
    if (algoId ? a.algoId === algoId : a.algoClOrdId !== '' && a.algoClOrdId === algoClOrdId) return a;
  }
  return undefined;
}

/**
 * Turns the TP/SL attached to a filled (or partly filled, then canceled)
 * order into algo orders: one conditional (or OCO when both legs) for the
 * filled size, or one per split TP plus the SL for the whole size. They
 * carry attachAlgoClOrdId as their algoClOrdId.
 */
export function generateAttached(book: OkxBook, account: Account, order: Order, now: number): void {
  if (order.state !== 'filled' && order.state !== 'canceled') return;
  for (const a of order.attach) {
    if (a.discarded || a.algoId) continue;
    const algo: Algo = {
      account: account.apiKey,
      algoId: book.newId(),
      algoClOrdId: a.attachAlgoClOrdId,
      clOrdId: '',
      tag: order.tag,
      instId: order.instId,
      side: order.side === 'buy' ? 'sell' : 'buy',
      posSide: order.posSide,
      tdMode: order.tdMode,
      ordType: a.tp && a.sl ? 'oco' : 'conditional',
      sz: a.sz !== undefined && a.tp ? a.sz : order.accFillSz,
      closeFraction: '',
      reduceOnly: true,
      state: 'live',
      actualSz: '',
      actualPx: '',
      actualSide: '',
      triggerTime: 0,
      ordId: '',
      failCode: '',
      lever: order.lever,
      last: book.mark(order.instId),
      parentOrdId: order.ordId,
      cTime: now,
      uTime: now,
    };
    if (a.tp) algo.tp = a.tp;
    if (a.sl) algo.sl = a.sl;
    a.algoId = algo.algoId;
    account.algos.push(algo);
    book.journal.push(algo);
  }
}

/** Which leg of a live TP/SL the price has crossed, if any (SL first). */
function crossedLeg(algo: Algo, price: number): 'tp' | 'sl' | 'trigger' | undefined {
  if (algo.trigger) {
    const t = algo.trigger;
    return (t.direction === 'up' ? price >= t.triggerPx : price <= t.triggerPx) ? 'trigger' : undefined;
  }
  const sell = algo.side === 'sell';
  if (algo.sl && (sell ? price <= algo.sl.triggerPx : price >= algo.sl.triggerPx)) return 'sl';
  if (algo.tp && (sell ? price >= algo.tp.triggerPx : price <= algo.tp.triggerPx)) return 'tp';
  return undefined;
}

/**
 * A fired algo places its order: market when the leg's order price is -1,
 * else a limit at it. A reduce-only algo with nothing left to reduce fails
 * (state order_failed, failCode 51169); its size is trimmed to what is left.
 */
function fire(book: OkxBook, account: Account, algo: Algo, which: 'tp' | 'sl' | 'trigger', price: number, now: number): void {
  const m = book.instrument(algo.instId);
  const l = which === 'trigger' ? algo.trigger : algo[which];
  if (!l) return;
  const ps = book.positionSideFor(account, algo);
  const p = book.position(account, algo.instId, algo.tdMode, ps);
  let sz = algo.sz ?? (p ? Math.abs(p.pos) : 0);
  algo.triggerTime = now;
  algo.uTime = now;
  algo.actualSide = which === 'trigger' ? '' : which;
  if (algo.reduceOnly) {
    const reduces = p && (ps !== 'net' || (algo.side === 'sell' ? p.pos > 0 : p.pos < 0));
    if (!reduces || !p) {
      algo.state = 'order_failed';
      algo.failCode = '51169';
      return;
    }
    sz = Math.min(sz, Math.abs(p.pos));
  } else {
    const opening = book.openingSize(account, algo.instId, algo.tdMode, algo.side, algo.posSide, sz);
    const need = (opening * Number(m.ctVal) * price) / book.leverOf(account, algo.instId, algo.tdMode, algo.posSide);
    if (need > book.totals(account).availEq + EPS) {
      algo.state = 'order_failed';
      algo.failCode = '51008';
      return;
    }
  }
  const isMarket = l.ordPx === -1;
  const order: Order = {
    account: account.apiKey,
    ordId: book.newId(),
    clOrdId: '',
    tag: algo.tag,
    instId: algo.instId,
    side: algo.side,
    posSide: algo.posSide,
    tdMode: algo.tdMode,
    ordType: isMarket ? 'market' : 'limit',
    sz,
    px: isMarket ? null : l.ordPx,
    reduceOnly: algo.reduceOnly,
    state: 'live',
    accFillSz: 0,
    avgPx: 0,
    fee: 0,
    pnl: 0,
    fillPx: 0,
    fillSz: 0,
    fillTime: 0,
    tradeId: '',
    lever: book.leverOf(account, algo.instId, algo.tdMode, algo.posSide),
    source: algo.ordType === 'trigger' ? '6' : '7',
    algoId: algo.algoId,
    algoClOrdId: algo.algoClOrdId,
    attach: [],
    cancelSource: '',
    cTime: now,
    uTime: now,
  };
  account.orders.push(order);
  book.journal.push(order);
  algo.state = 'effective';
  algo.ordId = order.ordId;
  algo.actualSz = String(sz);
  algo.actualPx = isMarket ? '' : String(l.ordPx);
  if (isMarket || marketable(order.side, l.ordPx, price)) book.fill(account, order, sz, price, TAKER_FEE, now);
}

/**
 * Moves the mark (the one price the simulator has: last = mark = index) and
 * lets the venue react: crossed resting limits fill as makers at their
 * price (generating their attached TP/SL), then crossed TP/SL and trigger
 * orders fire.
 */
export function setMarkPrice(book: OkxBook, instId: string, price: number, now: number): void {
  book.marks.set(instId, price);
  for (const account of book.accounts.values()) {
    for (const o of [...account.orders]) {
      if (!isLive(o) || o.instId !== instId || o.px === null || !marketable(o.side, o.px, price)) continue;
      if (o.reduceOnly) {
        const ps = book.positionSideFor(account, o);
        const p = book.position(account, o.instId, o.tdMode, ps);
        const left = p ? Math.abs(p.pos) : 0;
        if (left < EPS) {
          cancel(book, account, o, now, '2');
          continue;
        }
        o.sz = Math.min(o.sz, o.accFillSz + left);
      }
      book.fill(account, o, o.sz - o.accFillSz, o.px, MAKER_FEE, now);
      generateAttached(book, account, o, now);
    }
    for (const a of [...account.algos]) {
      if (a.state !== 'live' || a.instId !== instId) continue;
      const which = crossedLeg(a, price);
      if (which) fire(book, account, a, which, price, now);
    }
  }
}

export { OkxError };
