import { DEFAULT_MARK_PRICES, marketOf, stepDecimals, type SimMarket } from './binance-markets.js';
import { errors } from './binance-errors.js';

/** Binance's `positionSide`: BOTH is the one-way position, LONG and SHORT the two sides of a hedge-mode account. */
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
/** Binance's `dualSidePosition` false / true. */
export type PositionMode = 'one_way' | 'hedge';

export interface SimAccountInit {
  apiKey: string;
  secret: string;
  /** USDT wallet balance; default 10,000. */
  usdt?: number;
  /** Default one_way, Binance's default for a new futures account. */
  positionMode?: PositionMode;
}

/** One order as the simulator reports it: regular (`order`) or conditional (`algo`). */
export interface SimOrder {
  account: string;
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  type: string;
  status: string;
  origQty: string;
  executedQty: string;
  avgPrice: string;
  price: string;
  /** As sent: a hedge-mode close (SELL LONG / BUY SHORT) carries no reduceOnly flag, Binance refuses one there. */
  reduceOnly: boolean;
  positionSide: PositionSide;
  kind: 'order' | 'algo';
  triggerPrice?: string;
  algoId?: number;
  updateTime: number;
  time: number;
}

/** What the book keeps beyond the public view, to answer like Binance. */
export interface BookOrder extends SimOrder {
  timeInForce: string;
  workingType: string;
  priceProtect: boolean;
  closePosition: boolean;
  /** Algo orders: the regular order a trigger created (Binance `actualOrderId`). */
  actualOrderId?: number;
}

export interface Position {
  symbol: string;
  side: PositionSide;
  /**
   * Signed, as Binance's positionAmt: > 0 long, < 0 short. A one-way (BOTH)
   * position may flip sign; a hedge side never does: LONG ≥ 0, SHORT ≤ 0,
   * because only a close may trade against it and a close never exceeds it.
   */
  amount: number;
  entry: number;
  updateTime: number;
}

export type MarginType = 'CROSSED' | 'ISOLATED';

export interface Account {
  apiKey: string;
  secret: string;
  wallet: number;
  /** Binance `dualSidePosition`: true is hedge mode. */
  dualSide: boolean;
  /** By positionKey(symbol, side). */
  positions: Map<string, Position>;
  leverage: Map<string, number>;
  marginType: Map<string, MarginType>;
  /** Open orders by client id, per kind: Binance's duplicate rule only looks at these. */
  openOrders: Map<string, BookOrder>;
  openAlgos: Map<string, BookOrder>;
  /** Every order of the account, oldest first. */
  orders: BookOrder[];
}

export const DEFAULT_LEVERAGE = 20;
export const TAKER_FEE = 0.0005;
export const MAKER_FEE = 0.0002;
/** Maintenance margin rate of the first notional bracket. */
export const MAINT_RATE = 0.004;
export const EPS = 1e-9;

export const fmt = (x: number, digits: number) => (Math.abs(x) < 0.5 * 10 ** -digits ? 0 : x).toFixed(digits);
export const fmtQty = (m: SimMarket, x: number) => fmt(x, stepDecimals(m.stepSize));
export const fmtPrice = (m: SimMarket, x: number) => fmt(x, stepDecimals(m.tickSize));

export function isOpen(order: SimOrder): boolean {
  return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
}

export const positionKey = (symbol: string, side: PositionSide) => (side === 'BOTH' ? symbol : `${symbol}:${side}`);

/** Hedge mode has no reduceOnly: an order closes when it trades against its side (SELL LONG, BUY SHORT). */
export function closesSide(side: 'BUY' | 'SELL', positionSide: PositionSide): boolean {
  return (positionSide === 'LONG' && side === 'SELL') || (positionSide === 'SHORT' && side === 'BUY');
}

/** An order that may only shrink its position: reduce-only (one-way) or a close (hedge). */
export function isClosing(order: Pick<SimOrder, 'side' | 'positionSide' | 'reduceOnly'>): boolean {
  return order.reduceOnly || closesSide(order.side, order.positionSide);
}

/**
 * Accounts, orders, cross-margin positions (one-way, or hedge mode's two
 * sides per symbol) and mark prices of the
 * simulated exchange. Pure state and margin arithmetic; order rules live in
 * binance-orders.ts and HTTP in binance-sim.ts.
 */
export class BinanceBook {
  readonly accounts = new Map<string, Account>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_MARK_PRICES));
  /** Every order of every account in acceptance order (the control API's view). */
  private all: BookOrder[] = [];
  private nextOrderId = 1_000_001;
  private nextAlgoId = 2_000_001;

  addAccount(init: SimAccountInit): void {
    const existing = this.accounts.get(init.apiKey);
    if (existing) {
      // Re-registering a key updates its secret, balance and mode (a test's setup, not Binance's switch) but keeps its book.
      existing.secret = init.secret;
      if (init.usdt !== undefined) existing.wallet = init.usdt;
      if (init.positionMode !== undefined) existing.dualSide = init.positionMode === 'hedge';
      return;
    }
    this.accounts.set(init.apiKey, {
      apiKey: init.apiKey,
      secret: init.secret,
      wallet: init.usdt ?? 10_000,
      dualSide: init.positionMode === 'hedge',
      positions: new Map(),
      leverage: new Map(),
      marginType: new Map(),
      openOrders: new Map(),
      openAlgos: new Map(),
      orders: [],
    });
  }

  account(apiKey: string): Account | undefined {
    return this.accounts.get(apiKey);
  }

  reset(): void {
    this.accounts.clear();
    this.all = [];
    this.marks.clear();
    for (const [symbol, price] of Object.entries(DEFAULT_MARK_PRICES)) this.marks.set(symbol, price);
  }

  allOrders(apiKey?: string): SimOrder[] {
    const list = apiKey === undefined ? this.all : (this.accounts.get(apiKey)?.orders ?? []);
    return list.map((o) => ({ ...o }));
  }

  market(symbol: string | null | undefined): SimMarket {
    const market = marketOf(symbol);
    if (!market) throw errors.badSymbol();
    return market;
  }

  mark(symbol: string): number {
    return this.marks.get(symbol) ?? 0;
  }

  newOrderId(): number {
    return this.nextOrderId++;
  }

  newAlgoId(): number {
    return this.nextAlgoId++;
  }

  /** Files an accepted order and indexes it while it is open. */
  record(account: Account, order: BookOrder): void {
    account.orders.push(order);
    this.all.push(order);
    this.track(account, order);
  }

  /** Keeps the open-order index in step with an order's status. */
  track(account: Account, order: BookOrder): void {
    const index = order.kind === 'algo' ? account.openAlgos : account.openOrders;
    if (isOpen(order)) index.set(order.clientOrderId, order);
    else if (index.get(order.clientOrderId) === order) index.delete(order.clientOrderId);
  }

  leverageOf(account: Account, symbol: string): number {
    return account.leverage.get(symbol) ?? DEFAULT_LEVERAGE;
  }

  /** Signed amount of one position: BOTH in one-way mode, LONG (≥ 0) or SHORT (≤ 0) in hedge mode. */
  positionAmount(account: Account, symbol: string, side: PositionSide = 'BOTH'): number {
    return account.positions.get(positionKey(symbol, side))?.amount ?? 0;
  }

  /** Any position on the symbol (any side), or on any symbol. */
  hasPosition(account: Account, symbol?: string): boolean {
    for (const p of account.positions.values()) if (!symbol || p.symbol === symbol) return true;
    return false;
  }

  unrealized(account: Account): number {
    let pnl = 0;
    for (const p of account.positions.values()) pnl += (this.mark(p.symbol) - p.entry) * p.amount;
    return pnl;
  }

  /** Binance position initial margin: |amount| × mark / leverage, summed over both sides in hedge mode. */
  positionMargin(account: Account, symbol?: string): number {
    let used = 0;
    for (const p of account.positions.values()) if (!symbol || p.symbol === symbol) used += (Math.abs(p.amount) * this.mark(p.symbol)) / this.leverageOf(account, p.symbol);
    return used;
  }

  /**
   * Margin an order needs: only the part that opens or increases the
   * position (an order against the position first closes it, which needs
   * none). In hedge mode that position is the order's side, so a close needs
   * none and an opening order all of it, whatever the other side holds.
   */
  orderMargin(account: Account, symbol: string, side: 'BUY' | 'SELL', qty: number, price: number, positionSide: PositionSide = 'BOTH'): number {
    const amount = this.positionAmount(account, symbol, positionSide);
    const against = (side === 'BUY' && amount < 0) || (side === 'SELL' && amount > 0);
    const opening = against ? Math.max(0, qty - Math.abs(amount)) : qty;
    return (opening * price) / this.leverageOf(account, symbol);
  }

  /** Initial margin held by resting (non reduce-only) regular orders. */
  openOrderMargin(account: Account, symbol?: string): number {
    let used = 0;
    for (const o of account.openOrders.values()) {
      if (isClosing(o) || (symbol && o.symbol !== symbol)) continue;
      used += this.orderMargin(account, o.symbol, o.side, Number(o.origQty) - Number(o.executedQty), Number(o.price), o.positionSide);
    }
    return used;
  }

  /** Cross margin: wallet + unrealised PnL − position and open-order initial margin. */
  available(account: Account): number {
    return account.wallet + this.unrealized(account) - this.positionMargin(account) - this.openOrderMargin(account);
  }

  /**
   * Applies a fill to the order's position (its side in hedge mode) and the
   * wallet: a fill with the position adds at the weighted average entry, a
   * fill against it realises PnL on the closed part (and, one-way only,
   * opens the rest at the fill price); the fee is charged on the notional.
   */
  fill(account: Account, symbol: string, positionSide: PositionSide, side: 'BUY' | 'SELL', qty: number, price: number, fee: number, now: number): void {
    const key = positionKey(symbol, positionSide);
    const p = account.positions.get(key) ?? { symbol, side: positionSide, amount: 0, entry: 0, updateTime: now };
    const signed = side === 'BUY' ? qty : -qty;
    const next = p.amount + signed;
    if (Math.abs(p.amount) < EPS || Math.sign(p.amount) === Math.sign(signed)) {
      p.entry = (p.entry * Math.abs(p.amount) + price * qty) / Math.abs(next);
    } else {
      const closed = Math.min(qty, Math.abs(p.amount));
      account.wallet += closed * (price - p.entry) * Math.sign(p.amount);
      if (Math.abs(next) > EPS && Math.sign(next) !== Math.sign(p.amount)) p.entry = price;
    }
    p.amount = Math.abs(next) < EPS ? 0 : next;
    p.updateTime = now;
    account.wallet -= qty * price * fee;
    if (p.amount === 0) account.positions.delete(key);
    else account.positions.set(key, p);
  }

  /**
   * Cross-margin liquidation price of a single position, as Binance derives
   * it with one position and no other open risk: the price at which margin
   * balance equals maintenance margin. '0' when there is none. (A hedged
   * pair is priced side by side, the other side's PnL frozen at the mark.)
   */
  liquidationPrice(account: Account, symbol: string, side: PositionSide = 'BOTH'): number {
    const p = account.positions.get(positionKey(symbol, side));
    if (!p) return 0;
    const others = this.unrealized(account) - (this.mark(symbol) - p.entry) * p.amount;
    const balance = account.wallet + others;
    const q = Math.abs(p.amount);
    const price = p.amount > 0 ? (q * p.entry - balance) / (q * (1 - MAINT_RATE)) : (balance + q * p.entry) / (q * (1 + MAINT_RATE));
    return price > 0 ? price : 0;
  }

  setLeverage(account: Account, symbol: string, leverage: number): void {
    account.leverage.set(symbol, leverage);
  }
}
