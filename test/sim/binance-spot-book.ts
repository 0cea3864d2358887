import type { SimAccountSpec, SimOrderView, SimPositionView } from './exchange-sim.js';
import type { SimBook } from './sim-server.js';
import { spotErrors } from './binance-spot-errors.js';
import { DEFAULT_SPOT_PRICES, SPOT_ASSETS, SPOT_SYMBOLS, spotMarket, spotMarketOf, unifiedSymbol, type SpotMarket } from './binance-spot-markets.js';

export type Side = 'BUY' | 'SELL';

/** Binance VIP 0 spot commission without BNB: 0.1% maker and taker, charged in the asset received. */
export const MAKER_COMMISSION = 0.001;
export const TAKER_COMMISSION = 0.001;
export const EPS = 1e-9;

/** Binance spot books every amount to 8 decimals. */
export const r8 = (x: number) => Math.round(x * 1e8) / 1e8;
export const f8 = (x: number) => (Math.abs(x) < 5e-9 ? 0 : x).toFixed(8);

export const STOP_TYPES: ReadonlySet<string> = new Set(['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);

export interface Fill {
  price: number;
  qty: number;
  commission: number;
  commissionAsset: string;
  tradeId: number;
  time: number;
  isMaker: boolean;
}

/** Funds held in `locked` for an order (or once for a whole order list). */
export interface Lock {
  asset: string;
  amount: number;
}

export interface SpotOrder {
  account: string;
  symbol: string;
  orderId: number;
  orderListId: number;
  clientOrderId: string;
  side: Side;
  type: string;
  timeInForce: string;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  /** 0 for market types, as Binance reports it. */
  price: number;
  stopPrice: number | undefined;
  origQty: number;
  executedQty: number;
  cumQuote: number;
  origQuoteOrderQty: number;
  time: number;
  updateTime: number;
  /** When the order joined the book; -1 for a stop that has not fired. */
  workingTime: number;
  fills: Fill[];
  /** Its own lock; orders of a list share the list's. */
  lock: Lock | undefined;
  /** For OCO legs: which one it is. */
  leg: 'above' | 'below' | undefined;
}

export interface OrderList {
  orderListId: number;
  listClientOrderId: string;
  symbol: string;
  contingencyType: 'OCO';
  listStatusType: 'EXEC_STARTED' | 'ALL_DONE';
  listOrderStatus: 'EXECUTING' | 'ALL_DONE';
  transactionTime: number;
  orderIds: number[];
  lock: Lock | undefined;
}

export interface Balance {
  free: number;
  locked: number;
}

export interface SpotAccount {
  apiKey: string;
  secret: string;
  balances: Map<string, Balance>;
  /** Every order, oldest first. */
  orders: SpotOrder[];
  /** Open orders by orderId. */
  open: Map<number, SpotOrder>;
  lists: OrderList[];
  /** Placement times inside the current day, for the ORDERS limits. */
  placements: number[];
  updateTime: number;
}

export function isOpen(o: SpotOrder): boolean {
  return o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
}

/** A stop (or OCO stop leg) that has not fired yet. */
export function isDormantStop(o: SpotOrder): boolean {
  return STOP_TYPES.has(o.type) && o.workingTime === -1 && isOpen(o);
}

type MarkReaction = (book: SpotBook, symbol: string, now: number) => void;

/**
 * Accounts, balances (free / locked per asset), orders, order lists and last
 * prices of the simulated spot exchange. Pure state and balance arithmetic;
 * order rules live in binance-spot-orders.ts and the matching in
 * binance-spot-matching.ts (handed in as `react`, so the book does not import it).
 */
export class SpotBook implements SimBook {
  readonly symbols = SPOT_SYMBOLS;
  readonly accounts = new Map<string, SpotAccount>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_SPOT_PRICES));
  private all: SpotOrder[] = [];
  private nextOrderId = 31_000_001;
  private nextListId = 11_001;
  private nextTradeId = 4_100_001;

  constructor(private readonly react: MarkReaction) {}

  addAccount(spec: SimAccountSpec): void {
    const existing = this.accounts.get(spec.apiKey);
    const account: SpotAccount = existing ?? {
      apiKey: spec.apiKey,
      secret: spec.secret,
      balances: new Map(SPOT_ASSETS.map((a) => [a, { free: 0, locked: 0 }])),
      orders: [],
      open: new Map(),
      lists: [],
      placements: [],
      updateTime: 0,
    };
    account.secret = spec.secret;
    // Re-registering a key updates its secret and the balances it names, keeping its book.
    if (!existing || spec.usdt !== undefined) this.balance(account, 'USDT').free = spec.usdt ?? 10_000;
    for (const [asset, amount] of Object.entries(spec.assets ?? {})) this.balance(account, asset).free = amount;
    this.accounts.set(spec.apiKey, account);
  }

  account(apiKey: string): SpotAccount | undefined {
    return this.accounts.get(apiKey);
  }

  reset(): void {
    this.accounts.clear();
    this.all = [];
    this.marks.clear();
    for (const [symbol, price] of Object.entries(DEFAULT_SPOT_PRICES)) this.marks.set(symbol, price);
  }

  market(id: string | null | undefined): SpotMarket {
    const market = spotMarket(id);
    if (!market) throw spotErrors.badSymbol();
    return market;
  }

  /** The last traded price, which the simulator sets; market orders fill at it. */
  mark(id: string): number {
    return this.marks.get(id) ?? 0;
  }

  markPrice(symbol: string): number {
    const market = spotMarketOf(symbol);
    if (!market) throw new Error(`unknown symbol ${symbol}`);
    return this.mark(market.symbol);
  }

  setMarkPrice(symbol: string, price: number, now: number): void {
    const market = spotMarketOf(symbol);
    if (!market) throw new Error(`unknown symbol ${symbol}`);
    this.marks.set(market.symbol, price);
    this.react(this, market.symbol, now);
  }

  newOrderId(): number {
    return this.nextOrderId++;
  }

  newListId(): number {
    return this.nextListId++;
  }

  newTradeId(): number {
    return this.nextTradeId++;
  }

  record(account: SpotAccount, order: SpotOrder): void {
    account.orders.push(order);
    this.all.push(order);
    this.track(account, order);
  }

  /** Keeps the open-order index in step with an order's status. */
  track(account: SpotAccount, order: SpotOrder): void {
    if (isOpen(order)) account.open.set(order.orderId, order);
    else account.open.delete(order.orderId);
  }

  balance(account: SpotAccount, asset: string): Balance {
    let b = account.balances.get(asset);
    if (!b) {
      b = { free: 0, locked: 0 };
      account.balances.set(asset, b);
    }
    return b;
  }

  /** Moves `amount` from free to locked, or refuses like the matching engine does (-2010). */
  lock(account: SpotAccount, asset: string, amount: number, now: number): Lock {
    const b = this.balance(account, asset);
    if (b.free + EPS < amount) throw spotErrors.insufficientBalance();
    b.free = r8(b.free - amount);
    b.locked = r8(b.locked + amount);
    account.updateTime = now;
    return { asset, amount: r8(amount) };
  }

  /** Returns what is left of a lock to free. */
  release(account: SpotAccount, lock: Lock | undefined, now: number): void {
    if (!lock || lock.amount <= 0) return;
    const b = this.balance(account, lock.asset);
    b.locked = r8(Math.max(0, b.locked - lock.amount));
    b.free = r8(b.free + lock.amount);
    lock.amount = 0;
    account.updateTime = now;
  }

  /** Spends `amount` of `asset`: from the lock first, the rest from free. */
  spend(account: SpotAccount, asset: string, amount: number, lock: Lock | undefined): void {
    const b = this.balance(account, asset);
    let rest = amount;
    if (lock && lock.asset === asset && lock.amount > 0) {
      const fromLock = Math.min(lock.amount, rest);
      lock.amount = r8(lock.amount - fromLock);
      b.locked = r8(Math.max(0, b.locked - fromLock));
      rest = r8(rest - fromLock);
    }
    b.free = r8(b.free - rest);
  }

  credit(account: SpotAccount, asset: string, amount: number): void {
    const b = this.balance(account, asset);
    b.free = r8(b.free + amount);
  }

  listOf(account: SpotAccount, order: SpotOrder): OrderList | undefined {
    return order.orderListId < 0 ? undefined : account.lists.find((l) => l.orderListId === order.orderListId);
  }

  /** The lock an order draws on: its own, or its list's. */
  lockOf(account: SpotAccount, order: SpotOrder): Lock | undefined {
    return order.lock ?? this.listOf(account, order)?.lock;
  }

  orders(apiKey?: string): SimOrderView[] {
    const list = apiKey === undefined ? this.all : (this.accounts.get(apiKey)?.orders ?? []);
    return list.map((o) => view(o));
  }

  /** Spot holds assets, not positions. */
  positions(): SimPositionView[] {
    return [];
  }

  /** Spot has no leverage: 1x. */
  leverage(): number {
    return 1;
  }
}

function viewType(o: SpotOrder): SimOrderView['type'] {
  if (o.type.startsWith('STOP_LOSS')) return 'stop_loss';
  if (o.type.startsWith('TAKE_PROFIT')) return 'take_profit';
  // The LIMIT_MAKER leg of an OCO is its take-profit.
  if (o.leg !== undefined) return 'take_profit';
  return o.type === 'MARKET' ? 'market' : 'limit';
}

function viewStatus(o: SpotOrder): SimOrderView['status'] {
  switch (o.status) {
    case 'NEW':
      return STOP_TYPES.has(o.type) && o.workingTime !== -1 ? 'triggered' : 'open';
    case 'PARTIALLY_FILLED':
      return 'partially_filled';
    case 'FILLED':
      return 'filled';
    case 'REJECTED':
      return 'rejected';
    default:
      return 'canceled'; // CANCELED, and EXPIRED (an OCO sibling, an unfilled IOC)
  }
}

function view(o: SpotOrder): SimOrderView {
  const market = spotMarket(o.symbol);
  return {
    account: o.account,
    symbol: market ? unifiedSymbol(market) : o.symbol,
    id: String(o.orderId),
    clientOrderId: o.clientOrderId,
    side: o.side === 'BUY' ? 'buy' : 'sell',
    type: viewType(o),
    status: viewStatus(o),
    amount: o.origQty,
    filled: o.executedQty,
    average: o.executedQty > 0 ? r8(o.cumQuote / o.executedQty) : null,
    price: o.price > 0 ? o.price : null,
    triggerPrice: o.stopPrice ?? null,
    reduceOnly: false,
    positionSide: null,
    parentId: o.orderListId < 0 ? null : String(o.orderListId),
    createdAt: o.time,
  };
}
