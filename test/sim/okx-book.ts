import type { SimAccountSpec } from './exchange-sim.js';
import { DEFAULT_MARK_PRICES, swapOf, type OkxInstrument } from './okx-markets.js';

export type PosMode = 'net_mode' | 'long_short_mode';
export type MgnMode = 'cross' | 'isolated';
export type PosSide = 'net' | 'long' | 'short';
export type Side = 'buy' | 'sell';
export type TriggerType = 'last' | 'mark' | 'index';

/** OKX's default leverage for an instrument never set (the docs' own examples show 10). */
export const DEFAULT_LEVER = 10;
/** Regular (Lv1) perpetual fee rates. */
export const TAKER_FEE = 0.0005;
export const MAKER_FEE = 0.0002;
export const EPS = 1e-9;
/** GET /trade/order forgets an order canceled without any fill after two hours. */
export const UNFILLED_CANCEL_RETENTION_MS = 2 * 3_600_000;

export interface Position {
  posId: string;
  instId: string;
  mgnMode: MgnMode;
  posSide: PosSide;
  /** Contracts; signed in net mode, positive in long/short mode. */
  pos: number;
  avgPx: number;
  /** Isolated margin in USDT (0 for cross). */
  margin: number;
  pnl: number;
  fee: number;
  cTime: number;
  uTime: number;
  tradeId: string;
}

/** One TP/SL of `attachAlgoOrds`, waiting for its parent to fill. */
export interface Attachment {
  attachAlgoId: string;
  attachAlgoClOrdId: string;
  tp?: Leg;
  sl?: Leg;
  /** Contracts; only for a TP of split TPs. */
  sz?: number;
  /** The algo order it became once the parent filled. */
  algoId?: string;
  discarded: boolean;
  failCode: string;
  failReason: string;
}

export interface Leg {
  triggerPx: number;
  /** -1: market. */
  ordPx: number;
  type: TriggerType;
}

export interface Order {
  account: string;
  ordId: string;
  clOrdId: string;
  tag: string;
  instId: string;
  side: Side;
  posSide: PosSide;
  tdMode: MgnMode;
  ordType: string;
  /** Contracts. */
  sz: number;
  px: number | null;
  reduceOnly: boolean;
  state: 'live' | 'partially_filled' | 'filled' | 'canceled';
  accFillSz: number;
  avgPx: number;
  fee: number;
  pnl: number;
  fillPx: number;
  fillSz: number;
  fillTime: number;
  tradeId: string;
  lever: number;
  /** '' for orders placed by the user; '7' for the order a TP/SL algo placed. */
  source: string;
  algoId: string;
  algoClOrdId: string;
  attach: Attachment[];
  cancelSource: string;
  cTime: number;
  uTime: number;
}

export interface Algo {
  account: string;
  algoId: string;
  algoClOrdId: string;
  /** What the request's deprecated clOrdId was (echoed by OKX). */
  clOrdId: string;
  tag: string;
  instId: string;
  side: Side;
  posSide: PosSide;
  tdMode: MgnMode;
  ordType: 'conditional' | 'oco' | 'trigger';
  /** Contracts; null with closeFraction=1 (the whole position). */
  sz: number | null;
  closeFraction: string;
  reduceOnly: boolean;
  tp?: Leg;
  sl?: Leg;
  /** Trigger orders: fires when the price reaches triggerPx in `direction`. */
  trigger?: Leg & { direction: 'up' | 'down' };
  state: 'live' | 'effective' | 'canceled' | 'order_failed';
  actualSz: string;
  actualPx: string;
  actualSide: '' | 'tp' | 'sl';
  triggerTime: number;
  ordId: string;
  failCode: string;
  lever: number;
  /** The last price when it was placed. */
  last: number;
  /** Attached TP/SL: the regular order whose fill generated it. */
  parentOrdId: string;
  cTime: number;
  uTime: number;
}

export interface Account {
  apiKey: string;
  secret: string;
  passphrase: string;
  uid: string;
  /** USDT cash balance: deposits, realised PnL, fees. */
  cashBal: number;
  posMode: PosMode;
  /** `${instId}|${mgnMode}|${posSide}` → lever; posSide is 'net' except isolated long/short. */
  leverage: Map<string, number>;
  /** The last leverage set per instrument, for the neutral view. */
  lastLever: Map<string, number>;
  /** `${instId}|${mgnMode}|${posSide}`; a fully closed position stays with pos 0 (OKX keeps its posId 30 days). */
  positions: Map<string, Position>;
  orders: Order[];
  algos: Algo[];
}

export const fmt = (x: number, digits = 10): string => {
  if (!Number.isFinite(x)) return '';
  const s = (Math.abs(x) < 0.5 * 10 ** -digits ? 0 : x).toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
};

export const isLive = (o: Order): boolean => o.state === 'live' || o.state === 'partially_filled';

export const positionKey = (instId: string, mgnMode: MgnMode, posSide: PosSide): string => `${instId}|${mgnMode}|${posSide}`;

/**
 * Accounts, orders, algo orders, positions and mark prices. Pure state and
 * margin arithmetic in OKX's Futures-mode (single-currency USDT margin)
 * account; the order rules live in okx-orders.ts.
 */
export class OkxBook {
  readonly accounts = new Map<string, Account>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_MARK_PRICES));
  /** Every order and algo order of every account, in acceptance order. */
  readonly journal: Array<Order | Algo> = [];
  private nextId = 2_896_576_259_728_695_296n;
  private nextTrade = 900_000_001;

  addAccount(spec: SimAccountSpec): void {
    const posMode: PosMode = spec.positionMode === 'hedge' ? 'long_short_mode' : 'net_mode';
    const existing = this.accounts.get(spec.apiKey);
    if (existing) {
      // Re-registering a key updates its credentials and balance, keeps its book.
      existing.secret = spec.secret;
      existing.passphrase = spec.passphrase ?? '';
      if (spec.usdt !== undefined) existing.cashBal = spec.usdt;
      if (spec.positionMode !== undefined) existing.posMode = posMode;
      return;
    }
    this.accounts.set(spec.apiKey, {
      apiKey: spec.apiKey,
      secret: spec.secret,
      passphrase: spec.passphrase ?? '',
      uid: String(44_705_892_343_619_584n + BigInt(this.accounts.size + 1)),
      cashBal: spec.usdt ?? 10_000,
      posMode,
      leverage: new Map(),
      lastLever: new Map(),
      positions: new Map(),
      orders: [],
      algos: [],
    });
  }

  reset(): void {
    this.accounts.clear();
    this.journal.length = 0;
    this.marks.clear();
    for (const [instId, price] of Object.entries(DEFAULT_MARK_PRICES)) this.marks.set(instId, price);
  }

  /** OKX ids are 19-digit decimal strings. */
  newId(): string {
    this.nextId += 1n + BigInt(Math.floor(Math.random() * 4096));
    return String(this.nextId);
  }

  newTradeId(): string {
    return String(this.nextTrade++);
  }

  mark(instId: string): number {
    return this.marks.get(instId) ?? 0;
  }

  instrument(instId: string): OkxInstrument {
    const m = swapOf(instId);
    if (!m) throw new Error(`not a simulated swap: ${instId}`);
    return m;
  }

  leverOf(account: Account, instId: string, mgnMode: MgnMode, posSide: PosSide): number {
    const side = mgnMode === 'isolated' && account.posMode === 'long_short_mode' ? posSide : 'net';
    return account.leverage.get(positionKey(instId, mgnMode, side)) ?? DEFAULT_LEVER;
  }

  /** The side a position key uses for an order: net mode has one net position per margin mode. */
  positionSideFor(account: Account, order: { posSide: PosSide }): PosSide {
    return account.posMode === 'net_mode' ? 'net' : order.posSide;
  }

  position(account: Account, instId: string, mgnMode: MgnMode, posSide: PosSide): Position | undefined {
    const p = account.positions.get(positionKey(instId, mgnMode, posSide));
    return p && Math.abs(p.pos) > EPS ? p : undefined;
  }

  /** Signed base exposure of a position: + long, − short. */
  signedContracts(p: Position): number {
    return p.posSide === 'short' ? -p.pos : p.pos;
  }

  upl(p: Position): number {
    const m = this.instrument(p.instId);
    return (this.mark(p.instId) - p.avgPx) * this.signedContracts(p) * Number(m.ctVal);
  }

  notional(p: Position): number {
    return Math.abs(p.pos) * Number(this.instrument(p.instId).ctVal) * this.mark(p.instId);
  }

  /** Cross initial margin of a position: notional at the mark over leverage. */
  imr(account: Account, p: Position): number {
    return p.mgnMode === 'cross' ? this.notional(p) / this.leverOf(account, p.instId, 'cross', p.posSide) : 0;
  }

  mmr(p: Position): number {
    return this.notional(p) * this.instrument(p.instId).mmr;
  }

  openPositions(account: Account): Position[] {
    return [...account.positions.values()].filter((p) => Math.abs(p.pos) > EPS);
  }

  /**
   * Contracts of an order that open or add to a position (in net mode an
   * order against the position first closes it, which needs no margin).
   */
  openingSize(account: Account, instId: string, tdMode: MgnMode, side: Side, posSide: PosSide, sz: number): number {
    if (account.posMode === 'long_short_mode') {
      const opens = (side === 'buy' && posSide === 'long') || (side === 'sell' && posSide === 'short');
      return opens ? sz : 0;
    }
    const p = this.position(account, instId, tdMode, 'net');
    const held = p ? p.pos : 0;
    const against = (side === 'buy' && held < 0) || (side === 'sell' && held > 0);
    return against ? Math.max(0, sz - Math.abs(held)) : sz;
  }

  /** Margin frozen by live limit orders that would open positions. */
  ordFrozen(account: Account): number {
    let frozen = 0;
    for (const o of account.orders) {
      if (!isLive(o) || o.reduceOnly || o.px === null) continue;
      const opening = this.openingSize(account, o.instId, o.tdMode, o.side, o.posSide, o.sz - o.accFillSz);
      frozen += (opening * Number(this.instrument(o.instId).ctVal) * o.px) / this.leverOf(account, o.instId, o.tdMode, o.posSide);
    }
    return frozen;
  }

  totals(account: Account) {
    let crossUpl = 0;
    let isoUpl = 0;
    let crossImr = 0;
    let isoMargin = 0;
    let mmr = 0;
    let notional = 0;
    for (const p of this.openPositions(account)) {
      const upl = this.upl(p);
      if (p.mgnMode === 'cross') {
        crossUpl += upl;
        crossImr += this.imr(account, p);
        mmr += this.mmr(p);
      } else {
        isoUpl += upl;
        isoMargin += p.margin;
      }
      notional += this.notional(p);
    }
    const ordFrozen = this.ordFrozen(account);
    const frozen = crossImr + isoMargin + ordFrozen;
    return {
      cashBal: account.cashBal,
      upl: crossUpl + isoUpl,
      crossUpl,
      isoUpl,
      crossImr,
      isoMargin,
      ordFrozen,
      frozen,
      mmr,
      notional,
      eq: account.cashBal + crossUpl + isoUpl,
      isoEq: isoMargin + isoUpl,
      availBal: account.cashBal - frozen,
      availEq: account.cashBal + crossUpl - frozen,
    };
  }

  /**
   * Applies a fill: adds to the position at the weighted entry or closes
   * (realising PnL into cash, releasing isolated margin pro rata); charges
   * the fee on the notional. Returns the realised PnL.
   */
  fill(account: Account, order: Order, qty: number, price: number, feeRate: number, now: number): number {
    const m = this.instrument(order.instId);
    const ctVal = Number(m.ctVal);
    const posSide = this.positionSideFor(account, order);
    const key = positionKey(order.instId, order.tdMode, posSide);
    let p = account.positions.get(key);
    if (!p) {
      p = { posId: this.newId(), instId: order.instId, mgnMode: order.tdMode, posSide, pos: 0, avgPx: 0, margin: 0, pnl: 0, fee: 0, cTime: now, uTime: now, tradeId: '' };
      account.positions.set(key, p);
    }
    if (Math.abs(p.pos) < EPS) {
      // A new position after a full close: OKX starts a fresh record.
      Object.assign(p, { pos: 0, avgPx: 0, margin: 0, pnl: 0, fee: 0, cTime: now });
    }
    const lever = this.leverOf(account, order.instId, order.tdMode, posSide);
    // Signed change of the position quantity in its own convention.
    const delta = posSide === 'net' ? (order.side === 'buy' ? qty : -qty) : (order.side === 'buy') === (posSide === 'long') ? qty : -qty;
    const direction = posSide === 'short' ? -1 : 1;
    let realised = 0;
    const opening = Math.abs(p.pos) < EPS || Math.sign(p.pos) === Math.sign(delta);
    if (opening) {
      const next = p.pos + delta;
      p.avgPx = (p.avgPx * Math.abs(p.pos) + price * qty) / Math.abs(next);
      if (p.mgnMode === 'isolated') p.margin += (qty * ctVal * price) / lever;
      p.pos = next;
    } else {
      const closed = Math.min(qty, Math.abs(p.pos));
      const sign = posSide === 'net' ? Math.sign(p.pos) : direction;
      realised = closed * ctVal * (price - p.avgPx) * sign;
      if (p.mgnMode === 'isolated') p.margin -= (p.margin * closed) / Math.abs(p.pos);
      const rest = qty - closed;
      p.pos += posSide === 'net' ? -Math.sign(p.pos) * closed : -closed;
      if (Math.abs(p.pos) < EPS) p.pos = 0;
      if (rest > EPS && posSide === 'net') {
        // Net mode flips: the rest opens the other way at the fill price.
        p.pos = Math.sign(delta) * rest;
        p.avgPx = price;
        p.margin = p.mgnMode === 'isolated' ? (rest * ctVal * price) / lever : 0;
      }
      account.cashBal += realised;
      p.pnl += realised;
    }
    const fee = qty * ctVal * price * feeRate;
    account.cashBal -= fee;
    p.fee -= fee;
    p.uTime = now;
    p.tradeId = this.newTradeId();
    order.fee -= fee;
    order.pnl += realised;
    order.avgPx = (order.avgPx * order.accFillSz + price * qty) / (order.accFillSz + qty);
    order.accFillSz += qty;
    order.fillPx = price;
    order.fillSz = qty;
    order.fillTime = now;
    order.tradeId = p.tradeId;
    order.uTime = now;
    order.state = order.accFillSz >= order.sz - EPS ? 'filled' : 'partially_filled';
    return realised;
  }

  /**
   * Estimated liquidation mark of one cross position with the rest of the
   * account as it is: where equity falls to the maintenance margin.
   */
  liquidationPrice(account: Account, p: Position): number {
    const m = this.instrument(p.instId);
    const q = this.signedContracts(p) * Number(m.ctVal);
    if (Math.abs(q) < EPS) return 0;
    const mmrRate = m.mmr;
    if (p.mgnMode === 'isolated') {
      const price = q > 0 ? (p.avgPx * q - p.margin) / (q * (1 - mmrRate)) : (p.margin - p.avgPx * q) / (-q * (1 + mmrRate));
      return price > 0 ? price : 0;
    }
    const t = this.totals(account);
    const others = t.eq - this.upl(p) - (t.mmr - this.mmr(p));
    const price = q > 0 ? (p.avgPx * q - others) / (q * (1 - mmrRate)) : (others - p.avgPx * q) / (-q * (1 + mmrRate));
    return price > 0 ? price : 0;
  }
}
