import type { PositionMode, SimAccountSpec } from './exchange-sim.js';
import { DEFAULT_MARK_PRICES, decimalsOf, type LinearMarket } from './bybit-markets.js';

export type Side = 'Buy' | 'Sell';
export type OrderStatus = 'New' | 'PartiallyFilled' | 'Untriggered' | 'Triggered' | 'Filled' | 'Cancelled' | 'Deactivated' | 'Rejected';
/** '' for plain orders; 'Stop' for a conditional order; the rest are TP/SL orders the system makes for a position. */
export type StopOrderType = '' | 'Stop' | 'TakeProfit' | 'StopLoss' | 'PartialTakeProfit' | 'PartialStopLoss';
export type MarginMode = 'REGULAR_MARGIN' | 'ISOLATED_MARGIN';

/** Attached TP/SL as sent on /v5/order/create, kept until the entry fills. */
export interface Attached {
  takeProfit: number | null;
  stopLoss: number | null;
  tpslMode: 'Full' | 'Partial';
  tpTriggerBy: string;
  slTriggerBy: string;
  tpOrderType: 'Market' | 'Limit';
  slOrderType: 'Market' | 'Limit';
  tpLimitPrice: number | null;
  slLimitPrice: number | null;
}

export interface BookOrder {
  account: string;
  orderId: string;
  orderLinkId: string;
  symbol: string;
  side: Side;
  orderType: 'Market' | 'Limit';
  /** null for market orders. */
  price: number | null;
  /** Base-coin quantity; 0 for a whole-position (Full) TP/SL. */
  qty: number;
  cumExecQty: number;
  cumExecValue: number;
  cumExecFee: number;
  status: OrderStatus;
  timeInForce: string;
  positionIdx: 0 | 1 | 2;
  reduceOnly: boolean;
  closeOnTrigger: boolean;
  triggerPrice: number | null;
  triggerDirection: 0 | 1 | 2;
  triggerBy: string;
  stopOrderType: StopOrderType;
  attached: Attached | null;
  /** For system TP/SL orders: the entry they came from. */
  parentId: string | null;
  parentOrderLinkId: string;
  createType: string;
  rejectReason: string;
  lastPriceOnCreated: number;
  createdTime: number;
  updatedTime: number;
}

export interface Position {
  /** Signed base-coin size: > 0 long, < 0 short. Hedge mode keeps idx 1 ≥ 0 and idx 2 ≤ 0. */
  amount: number;
  entry: number;
  /** Realised PnL (fees included) since the position opened, Bybit's curRealisedPnl. */
  realised: number;
  createdTime: number;
  updatedTime: number;
  /** Full-mode TP/SL set on the position (0 = none). */
  takeProfit: number;
  stopLoss: number;
}

export interface Account {
  apiKey: string;
  secret: string;
  /** USDT wallet balance. */
  wallet: number;
  cumRealised: number;
  /** Unified account margin mode (account level on UTA 2.0). */
  marginMode: MarginMode;
  /** Per symbol: [buyLeverage, sellLeverage]. */
  leverage: Map<string, [number, number]>;
  /** Symbols switched one by one, then the USDT-coin default. */
  symbolMode: Map<string, PositionMode>;
  coinMode: PositionMode;
  /** Keyed `${symbol}:${positionIdx}`. */
  positions: Map<string, Position>;
  orders: BookOrder[];
  /** Every orderLinkId ever accepted: Bybit keeps them unique per account forever. */
  linkIds: Set<string>;
}

/** Bybit's default leverage for a symbol never set (UTA linear). */
export const DEFAULT_LEVERAGE = 10;
/** Non-VIP derivatives fees (Bybit fee schedule): taker 0.055 %, maker 0.02 %. */
export const TAKER_FEE = 0.00055;
export const MAKER_FEE = 0.0002;
/** Maintenance margin rate of the first risk-limit tier of the big perpetuals. */
export const MAINT_RATE = 0.005;
export const EPS = 1e-9;

export const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set(['New', 'PartiallyFilled', 'Untriggered', 'Triggered']);
export const isOpen = (o: BookOrder) => OPEN_STATUSES.has(o.status);

export const fmt = (x: number, digits: number) => (Math.abs(x) < 0.5 * 10 ** -digits ? 0 : x).toFixed(digits);
export const fmtQty = (m: LinearMarket, x: number) => fmt(x, decimalsOf(m.qtyStep));
export const fmtPrice = (m: LinearMarket, x: number) => fmt(x, m.priceScale);

export const positionKey = (symbol: string, idx: number) => `${symbol}:${idx}`;

/**
 * Accounts, orders, positions and mark prices of the simulated exchange:
 * state and margin arithmetic only; order rules live in bybit-orders.ts.
 */
export class BybitBook {
  readonly accounts = new Map<string, Account>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_MARK_PRICES));
  /** Every order of every account in acceptance order. */
  all: BookOrder[] = [];
  /** `/v5/user/query-api` needs a stable user id per key. */
  private nextUid = 100_000_001;
  readonly uids = new Map<string, number>();

  addAccount(spec: SimAccountSpec): void {
    const existing = this.accounts.get(spec.apiKey);
    if (existing) {
      // Re-registering a key updates its secret, balance and mode but keeps its book.
      existing.secret = spec.secret;
      if (spec.usdt !== undefined) existing.wallet = spec.usdt;
      if (spec.positionMode) existing.coinMode = spec.positionMode;
      return;
    }
    this.uids.set(spec.apiKey, this.nextUid++);
    this.accounts.set(spec.apiKey, {
      apiKey: spec.apiKey,
      secret: spec.secret,
      wallet: spec.usdt ?? 10_000,
      cumRealised: 0,
      marginMode: 'REGULAR_MARGIN',
      leverage: new Map(),
      symbolMode: new Map(),
      coinMode: spec.positionMode ?? 'one_way',
      positions: new Map(),
      orders: [],
      linkIds: new Set(),
    });
  }

  reset(): void {
    this.accounts.clear();
    this.uids.clear();
    this.all = [];
    this.marks.clear();
    for (const [symbol, price] of Object.entries(DEFAULT_MARK_PRICES)) this.marks.set(symbol, price);
  }

  mark(symbol: string): number {
    return this.marks.get(symbol) ?? 0;
  }

  mode(account: Account, symbol: string): PositionMode {
    return account.symbolMode.get(symbol) ?? account.coinMode;
  }

  leverageOf(account: Account, symbol: string, idx: number): number {
    const [buy, sell] = account.leverage.get(symbol) ?? [DEFAULT_LEVERAGE, DEFAULT_LEVERAGE];
    return idx === 2 ? sell : buy;
  }

  record(account: Account, order: BookOrder): void {
    account.orders.push(order);
    this.all.push(order);
    if (order.orderLinkId !== '') account.linkIds.add(order.orderLinkId);
  }

  position(account: Account, symbol: string, idx: number): Position | undefined {
    return account.positions.get(positionKey(symbol, idx));
  }

  positionAmount(account: Account, symbol: string, idx: number): number {
    return this.position(account, symbol, idx)?.amount ?? 0;
  }

  unrealized(account: Account): number {
    let pnl = 0;
    for (const [key, p] of account.positions) pnl += (this.mark(symbolOfKey(key)) - p.entry) * p.amount;
    return pnl;
  }

  /** Position initial margin: |size| × mark / leverage (UTA values positions at the mark). */
  positionIM(account: Account, key?: string): number {
    let im = 0;
    for (const [k, p] of account.positions) {
      if (key && k !== key) continue;
      const [symbol, idx] = splitKey(k);
      im += (Math.abs(p.amount) * this.mark(symbol)) / this.leverageOf(account, symbol, idx);
    }
    return im;
  }

  positionMM(account: Account): number {
    let mm = 0;
    for (const [k, p] of account.positions) mm += Math.abs(p.amount) * this.mark(symbolOfKey(k)) * MAINT_RATE;
    return mm;
  }

  /** The part of an order that opens or grows a position needs margin; the part that closes one does not. */
  openingQty(account: Account, symbol: string, side: Side, idx: number, qty: number): number {
    const amount = this.positionAmount(account, symbol, idx);
    const against = (side === 'Buy' && amount < 0) || (side === 'Sell' && amount > 0);
    return against ? Math.max(0, qty - Math.abs(amount)) : qty;
  }

  /** Initial margin held by resting, non reduce-only, regular orders. */
  orderIM(account: Account): number {
    let im = 0;
    for (const o of account.orders) {
      if (!isOpen(o) || o.reduceOnly || o.stopOrderType !== '' || o.price === null) continue;
      const left = this.openingQty(account, o.symbol, o.side, o.positionIdx, o.qty - o.cumExecQty);
      im += (left * o.price) / this.leverageOf(account, o.symbol, o.positionIdx);
    }
    return im;
  }

  /** totalAvailableBalance: margin balance (wallet + uPnL) minus position and order initial margin. */
  available(account: Account): number {
    return account.wallet + this.unrealized(account) - this.positionIM(account) - this.orderIM(account);
  }

  /**
   * Applies a fill to a position and the wallet: with the position it adds
   * at the weighted average entry, against it realises PnL on the closed
   * part (opening the rest at the fill price in one-way mode); the fee is
   * charged in USDT on the notional.
   */
  fill(account: Account, symbol: string, idx: number, side: Side, qty: number, price: number, feeRate: number, now: number): number {
    const key = positionKey(symbol, idx);
    const p = account.positions.get(key) ?? { amount: 0, entry: 0, realised: 0, createdTime: now, updatedTime: now, takeProfit: 0, stopLoss: 0 };
    const signed = side === 'Buy' ? qty : -qty;
    const next = p.amount + signed;
    const fee = qty * price * feeRate;
    let realised = 0;
    if (Math.abs(p.amount) < EPS || Math.sign(p.amount) === Math.sign(signed)) {
      p.entry = (p.entry * Math.abs(p.amount) + price * qty) / Math.abs(next);
    } else {
      const closed = Math.min(qty, Math.abs(p.amount));
      realised = closed * (price - p.entry) * Math.sign(p.amount);
      if (Math.abs(next) > EPS && Math.sign(next) !== Math.sign(p.amount)) p.entry = price;
    }
    account.wallet += realised - fee;
    account.cumRealised += realised - fee;
    p.realised += realised - fee;
    p.amount = Math.abs(next) < EPS ? 0 : next;
    p.updatedTime = now;
    if (p.amount === 0) account.positions.delete(key);
    else account.positions.set(key, p);
    return fee;
  }

  /**
   * Estimated cross-margin liquidation price of one position when it is the
   * only risk: where margin balance meets maintenance margin. 0 when none.
   */
  liquidationPrice(account: Account, key: string): number {
    const p = account.positions.get(key);
    if (!p) return 0;
    const symbol = symbolOfKey(key);
    const others = this.unrealized(account) - (this.mark(symbol) - p.entry) * p.amount;
    const balance = account.wallet + others;
    const q = Math.abs(p.amount);
    const price = p.amount > 0 ? (q * p.entry - balance) / (q * (1 - MAINT_RATE)) : (balance + q * p.entry) / (q * (1 + MAINT_RATE));
    return price > 0 ? price : 0;
  }
}

export function symbolOfKey(key: string): string {
  return key.slice(0, key.lastIndexOf(':'));
}

export function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
