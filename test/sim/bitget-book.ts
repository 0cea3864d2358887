import type { SimAccountSpec } from './exchange-sim.js';
import { type BitgetContract, contractOf, DEFAULT_LEVERAGE, DEFAULT_MARK_PRICES } from './bitget-markets.js';
import { errors } from './bitget-errors.js';

export type Side = 'buy' | 'sell';
export type HoldSide = 'long' | 'short';
export type PosMode = 'one_way_mode' | 'hedge_mode';
export type MarginMode = 'crossed' | 'isolated';

export interface Position {
  symbol: string;
  holdSide: HoldSide;
  /** Base coin, > 0. */
  size: number;
  entry: number;
  achievedProfits: number;
  fees: number;
  cTime: number;
  uTime: number;
}

/** A regular (limit / market) order. */
export interface RegularOrder {
  kind: 'order';
  account: string;
  orderId: string;
  clientOid: string;
  symbol: string;
  /** As sent: in hedge mode the position direction (a close-long is side=buy, tradeSide=close). */
  side: Side;
  tradeSide: 'open' | 'close' | null;
  /** The position the order opens or closes. */
  holdSide: HoldSide;
  orderType: 'market' | 'limit';
  price: number | null;
  size: number;
  filled: number;
  priceAvg: number | null;
  /** Fees paid, positive. */
  fee: number;
  profit: number;
  state: 'live' | 'partially_filled' | 'filled' | 'canceled';
  reduceOnly: boolean;
  force: string;
  marginMode: MarginMode;
  leverage: number;
  posMode: PosMode;
  presetStopLossPrice: string;
  presetStopSurplusPrice: string;
  orderSource: string;
  /** A triggered plan's id, for orders a plan placed. */
  planId: string | null;
  cTime: number;
  uTime: number;
}

export const TPSL_TYPES = new Set(['profit_plan', 'loss_plan', 'pos_profit', 'pos_loss', 'moving_plan']);
export const LOSS_TYPES = new Set(['loss_plan', 'pos_loss']);

/** A plan (trigger) order: a normal_plan, or one of Bitget's take-profit / stop-loss kinds. */
export interface PlanOrder {
  kind: 'plan';
  account: string;
  orderId: string;
  clientOid: string;
  symbol: string;
  planType: string;
  triggerPrice: number;
  triggerType: string;
  /** null: executes at market. */
  executePrice: number | null;
  /** Base coin; null for pos_profit / pos_loss, which act on the whole position. */
  size: number | null;
  holdSide: HoldSide;
  side: Side;
  tradeSide: 'open' | 'close' | null;
  reduceOnly: boolean;
  /** normal_plan: fires when the mark reaches the trigger from below ('up') or above ('down'). */
  direction: 'up' | 'down';
  planStatus: 'live' | 'executed' | 'cancelled' | 'fail_execute';
  executeOrderId: string;
  posMode: PosMode;
  marginMode: MarginMode;
  /** Attached (preset) TP/SL: the entry order that created it. */
  parentId: string | null;
  cTime: number;
  uTime: number;
}

export interface Account {
  apiKey: string;
  secret: string;
  passphrase: string;
  /** USDT futures wallet: deposits + realised PnL − fees. */
  wallet: number;
  /** Spot wallet, separate from futures (Bitget Classic accounts). */
  spot: Map<string, number>;
  posMode: PosMode;
  leverage: Map<string, number>;
  marginMode: Map<string, MarginMode>;
  positions: Map<string, Position>;
  orders: RegularOrder[];
  plans: PlanOrder[];
}

export const EPS = 1e-9;
export const posKey = (symbol: string, holdSide: HoldSide) => `${symbol}:${holdSide}`;
export const isLive = (o: RegularOrder) => o.state === 'live' || o.state === 'partially_filled';

/**
 * Accounts, orders, plan orders, positions and mark prices of the simulated
 * Bitget. Pure state and margin arithmetic (cross margin, one price level);
 * order rules live in bitget-orders.ts.
 */
export class BitgetBook {
  readonly accounts = new Map<string, Account>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_MARK_PRICES));
  /** Every order and plan of every account in acceptance order. */
  all: Array<RegularOrder | PlanOrder> = [];
  private nextId = 1_300_000_000_000_000_000n;

  addAccount(spec: SimAccountSpec): void {
    const existing = this.accounts.get(spec.apiKey);
    if (existing) {
      // Re-registering a key updates its secrets and balances but keeps its book.
      existing.secret = spec.secret;
      existing.passphrase = spec.passphrase ?? existing.passphrase;
      if (spec.usdt !== undefined) existing.wallet = spec.usdt;
      if (spec.assets) existing.spot = new Map(Object.entries(spec.assets));
      if (spec.positionMode) existing.posMode = spec.positionMode === 'hedge' ? 'hedge_mode' : 'one_way_mode';
      return;
    }
    this.accounts.set(spec.apiKey, {
      apiKey: spec.apiKey,
      secret: spec.secret,
      passphrase: spec.passphrase ?? '',
      wallet: spec.usdt ?? 10_000,
      spot: new Map(Object.entries(spec.assets ?? {})),
      posMode: spec.positionMode === 'hedge' ? 'hedge_mode' : 'one_way_mode',
      leverage: new Map(),
      marginMode: new Map(),
      positions: new Map(),
      orders: [],
      plans: [],
    });
  }

  reset(): void {
    this.accounts.clear();
    this.all = [];
    this.marks.clear();
    for (const [symbol, price] of Object.entries(DEFAULT_MARK_PRICES)) this.marks.set(symbol, price);
  }

  /** Bitget order ids are 19-digit numbers sent as strings. */
  newId(): string {
    this.nextId += 1n + BigInt(Math.floor(Math.random() * 1000));
    return this.nextId.toString();
  }

  market(symbol: string | null | undefined): BitgetContract {
    const c = contractOf(symbol);
    if (!c) throw symbol ? errors.badSymbol() : errors.empty('symbol');
    return c;
  }

  mark(symbol: string): number {
    return this.marks.get(symbol) ?? 0;
  }

  leverageOf(account: Account, symbol: string): number {
    return account.leverage.get(symbol) ?? DEFAULT_LEVERAGE;
  }

  marginModeOf(account: Account, symbol: string): MarginMode {
    return account.marginMode.get(symbol) ?? 'crossed';
  }

  position(account: Account, symbol: string, holdSide: HoldSide): Position | undefined {
    return account.positions.get(posKey(symbol, holdSide));
  }

  /** One-way mode: the single position of a symbol, whichever side it is. */
  netPosition(account: Account, symbol: string): Position | undefined {
    return this.position(account, symbol, 'long') ?? this.position(account, symbol, 'short');
  }

  unrealizedOf(p: Position): number {
    return (this.mark(p.symbol) - p.entry) * p.size * (p.holdSide === 'long' ? 1 : -1);
  }

  unrealized(account: Account): number {
    let pnl = 0;
    for (const p of account.positions.values()) pnl += this.unrealizedOf(p);
    return pnl;
  }

  /** Bitget position margin: entry notional / leverage. */
  positionMargin(account: Account): number {
    let used = 0;
    for (const p of account.positions.values()) used += (p.entry * p.size) / this.leverageOf(account, p.symbol);
    return used;
  }

  /** Margin frozen by resting orders that open (not reduce) a position. */
  orderMargin(account: Account): number {
    let used = 0;
    for (const o of account.orders) {
      if (!isLive(o) || o.reduceOnly || o.tradeSide === 'close' || o.price === null) continue;
      used += (o.price * (o.size - o.filled)) / this.leverageOf(account, o.symbol);
    }
    return used;
  }

  /** Cross margin: what a new order may still use. */
  available(account: Account): number {
    return account.wallet + this.unrealized(account) - this.positionMargin(account) - this.orderMargin(account);
  }

  /** Size of a position already promised to resting close orders. */
  lockedSize(account: Account, symbol: string, holdSide: HoldSide, except?: RegularOrder): number {
    let locked = 0;
    for (const o of account.orders) {
      if (o === except || !isLive(o) || o.symbol !== symbol || o.holdSide !== holdSide) continue;
      if (o.reduceOnly || o.tradeSide === 'close') locked += o.size - o.filled;
    }
    return locked;
  }

  record(account: Account, order: RegularOrder | PlanOrder): void {
    if (order.kind === 'order') account.orders.push(order);
    else account.plans.push(order);
    this.all.push(order);
  }

  /**
   * Applies a fill: the closing part realises PnL into the wallet, the
   * opening part adds to the position at the weighted entry; the fee is
   * charged on the notional. A position that closes takes its TP/SL plans
   * with it, as on Bitget.
   */
  fill(account: Account, order: RegularOrder, qty: number, price: number, feeRate: number, now: number): void {
    const { symbol } = order;
    let open = qty;
    const closing: HoldSide | null =
      order.posMode === 'hedge_mode' ? (order.tradeSide === 'close' ? order.holdSide : null) : order.side === 'buy' ? 'short' : 'long';
    if (closing) {
      const p = this.position(account, symbol, closing);
      const closed = p ? Math.min(qty, p.size) : 0;
      if (p && closed > 0) {
        const pnl = closed * (price - p.entry) * (closing === 'long' ? 1 : -1);
        account.wallet += pnl;
        order.profit += pnl;
        p.achievedProfits += pnl;
        p.size -= closed;
        p.uTime = now;
        if (p.size < EPS) this.closePosition(account, p, now);
      }
      open = order.posMode === 'hedge_mode' || order.reduceOnly ? 0 : qty - closed;
    }
    if (open > EPS) {
      const holdSide: HoldSide = order.posMode === 'hedge_mode' ? order.holdSide : order.side === 'buy' ? 'long' : 'short';
      const key = posKey(symbol, holdSide);
      const p = account.positions.get(key) ?? { symbol, holdSide, size: 0, entry: 0, achievedProfits: 0, fees: 0, cTime: now, uTime: now };
      p.entry = (p.entry * p.size + price * open) / (p.size + open);
      p.size += open;
      p.uTime = now;
      p.fees += open * price * feeRate;
      account.positions.set(key, p);
    }
    const fee = qty * price * feeRate;
    account.wallet -= fee;
    order.fee += fee;
    order.priceAvg = order.filled > 0 && order.priceAvg !== null ? (order.priceAvg * order.filled + price * qty) / (order.filled + qty) : price;
    order.filled += qty;
    order.state = order.size - order.filled < EPS ? 'filled' : 'partially_filled';
    order.uTime = now;
  }

  private closePosition(account: Account, p: Position, now: number): void {
    account.positions.delete(posKey(p.symbol, p.holdSide));
    for (const plan of account.plans) {
      if (plan.planStatus !== 'live' || plan.symbol !== p.symbol || plan.holdSide !== p.holdSide || !TPSL_TYPES.has(plan.planType)) continue;
      plan.planStatus = 'cancelled';
      plan.uTime = now;
    }
  }
}
