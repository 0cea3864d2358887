import { errors } from './binance-errors.js';
import { DEFAULT_MARK_PRICES, marketOf, type SimMarket } from './binance-markets.js';

export interface SimAccountInit {
  apiKey: string;
  secret: string;
  /** USDT wallet balance; default 10,000. */
  usdt?: number;
}

/** One order as the simulator keeps it: regular (`order`) or conditional (`algo`). */
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
  reduceOnly: boolean;
  kind: 'order' | 'algo';
  triggerPrice?: string;
  algoId?: number;
  updateTime: number;
  time: number;
}

interface Position {
  amount: number;
  entry: number;
}

interface Account {
  apiKey: string;
  secret: string;
  wallet: number;
  positions: Map<string, Position>;
  leverage: Map<string, number>;
  orders: SimOrder[];
}

const DEFAULT_LEVERAGE = 20;
const TAKER_FEE = 0.0005;
const EPS = 1e-12;

function decimals(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.length - dot - 1;
}

/** True when `value` is a whole multiple of `step` (Binance LOT_SIZE / PRICE_FILTER). */
function onStep(value: number, step: string): boolean {
  const ratio = value / Number(step);
  return Math.abs(ratio - Math.round(ratio)) < 1e-8;
}

export const fmt = (x: number, digits: number) => x.toFixed(digits);

/**
 * Accounts, orders and one-way positions of the simulated exchange. Pure
 * state and Binance's rules; no HTTP here.
 */
export class BinanceBook {
  readonly accounts = new Map<string, Account>();
  readonly marks = new Map<string, number>(Object.entries(DEFAULT_MARK_PRICES));
  private nextOrderId = 1_000_001;
  private nextAlgoId = 2_000_001;

  addAccount(init: SimAccountInit): void {
    this.accounts.set(init.apiKey, {
      apiKey: init.apiKey,
      secret: init.secret,
      wallet: init.usdt ?? 10_000,
      positions: new Map(),
      leverage: new Map(),
      orders: [],
    });
  }

  account(apiKey: string | undefined): Account | undefined {
    return apiKey === undefined ? undefined : this.accounts.get(apiKey);
  }

  allOrders(apiKey?: string): SimOrder[] {
    const lists = apiKey ? [this.accounts.get(apiKey)?.orders ?? []] : [...this.accounts.values()].map((a) => a.orders);
    return lists.flat().sort((a, b) => a.time - b.time || (a.algoId ?? a.orderId) - (b.algoId ?? b.orderId)).map((o) => ({ ...o }));
  }

  private market(symbol: string | undefined): SimMarket {
    const market = marketOf(symbol);
    if (!market) throw errors.badSymbol();
    return market;
  }

  private leverageOf(account: Account, symbol: string): number {
    return account.leverage.get(symbol) ?? DEFAULT_LEVERAGE;
  }

  private usedMargin(account: Account): number {
    let used = 0;
    for (const [symbol, p] of account.positions) used += (Math.abs(p.amount) * p.entry) / this.leverageOf(account, symbol);
    return used;
  }

  unrealized(account: Account): number {
    let pnl = 0;
    for (const [symbol, p] of account.positions) pnl += (this.marks.get(symbol) ?? p.entry) * p.amount - p.entry * p.amount;
    return pnl;
  }

  available(account: Account): number {
    return account.wallet + this.unrealized(account) - this.usedMargin(account);
  }

  private checkQuantity(market: SimMarket, raw: string | undefined, isMarket: boolean): number {
    if (raw === undefined || raw === '') throw errors.mandatory('quantity');
    const qty = Number(raw);
    if (!Number.isFinite(qty) || qty <= 0) throw errors.qtyTooSmall();
    if (!onStep(qty, market.stepSize)) throw errors.precision();
    if (qty < Number(isMarket ? market.marketMinQty : market.minQty) - EPS) throw errors.qtyTooSmall();
    return qty;
  }

  private checkPrice(market: SimMarket, raw: string | undefined, name: string): number {
    if (raw === undefined || raw === '') throw errors.mandatory(name);
    const price = Number(raw);
    if (!Number.isFinite(price) || price <= 0 || !onStep(price, market.tickSize)) throw errors.precision();
    return price;
  }

  private checkClientId(params: URLSearchParams, name: string): string | undefined {
    const id = params.get(name) ?? undefined;
    if (id !== undefined && !/^[.A-Z:/a-z0-9_-]{1,36}$/.test(id)) throw errors.illegalChars(name);
    return id;
  }

  private isOpen(order: SimOrder): boolean {
    return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
  }

  /** Applies a fill to the one-way position and the wallet (fee, realised PnL). */
  private fill(account: Account, symbol: string, side: 'BUY' | 'SELL', qty: number, price: number): void {
    const p = account.positions.get(symbol) ?? { amount: 0, entry: 0 };
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
    account.wallet -= qty * price * TAKER_FEE;
    if (p.amount === 0) account.positions.delete(symbol);
    else account.positions.set(symbol, p);
  }

  private checkReduceOnly(account: Account, symbol: string, side: 'BUY' | 'SELL', qty: number): void {
    const amount = account.positions.get(symbol)?.amount ?? 0;
    const reduces = side === 'BUY' ? amount < 0 : amount > 0;
    if (!reduces || qty > Math.abs(amount) + EPS) throw errors.reduceOnlyRejected();
  }

  /** `POST /fapi/v1/order` */
  newOrder(account: Account, params: URLSearchParams, now: number): SimOrder {
    const market = this.market(params.get('symbol') ?? undefined);
    const side = params.get('side');
    if (side !== 'BUY' && side !== 'SELL') throw errors.badSide();
    const type = params.get('type');
    if (type !== 'MARKET' && type !== 'LIMIT') throw errors.badType();
    const clientOrderId = this.checkClientId(params, 'newClientOrderId') ?? `sim${this.nextOrderId}`;
    const qty = this.checkQuantity(market, params.get('quantity') ?? undefined, type === 'MARKET');
    const limit = type === 'LIMIT' ? this.checkPrice(market, params.get('price') ?? undefined, 'price') : undefined;
    const reduceOnly = params.get('reduceOnly') === 'true';
    // Binance: newClientOrderId must be unique among the account's OPEN orders
    // only; the id of a filled or cancelled order may be sent again.
    if (account.orders.some((o) => o.kind === 'order' && o.clientOrderId === clientOrderId && this.isOpen(o))) throw errors.duplicateClientId();

    const mark = this.marks.get(market.symbol) ?? 0;
    const fillPrice = type === 'MARKET' ? mark : limit !== undefined && ((side === 'BUY' && limit >= mark) || (side === 'SELL' && limit <= mark)) ? mark : undefined;
    if (reduceOnly) this.checkReduceOnly(account, market.symbol, side, qty);
    else {
      const refPrice = fillPrice ?? limit ?? mark;
      if (qty * refPrice < Number(market.minNotional) - EPS) throw errors.minNotional(market.minNotional);
      const margin = (qty * refPrice) / this.leverageOf(account, market.symbol);
      if (margin > this.available(account) + EPS) throw errors.insufficientMargin();
    }

    const order: SimOrder = {
      account: account.apiKey,
      symbol: market.symbol,
      orderId: this.nextOrderId++,
      clientOrderId,
      side,
      type,
      status: 'NEW',
      origQty: fmt(qty, decimals(market.stepSize)),
      executedQty: fmt(0, decimals(market.stepSize)),
      avgPrice: '0.00',
      price: limit === undefined ? '0' : fmt(limit, decimals(market.tickSize)),
      reduceOnly,
      kind: 'order',
      updateTime: now,
      time: now,
    };
    if (fillPrice !== undefined) {
      this.fill(account, market.symbol, side, qty, fillPrice);
      order.status = 'FILLED';
      order.executedQty = order.origQty;
      order.avgPrice = fmt(fillPrice, decimals(market.tickSize));
    }
    account.orders.push(order);
    return order;
  }

  /** `POST /fapi/v1/algoOrder` (CONDITIONAL: STOP_MARKET, TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT). */
  newAlgoOrder(account: Account, params: URLSearchParams, now: number): SimOrder {
    const market = this.market(params.get('symbol') ?? undefined);
    if (params.get('algoType') !== 'CONDITIONAL') throw errors.mandatory('algoType');
    const side = params.get('side');
    if (side !== 'BUY' && side !== 'SELL') throw errors.badSide();
    const type = params.get('type') ?? '';
    if (!['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT'].includes(type)) throw errors.badType();
    const clientAlgoId = this.checkClientId(params, 'clientAlgoId') ?? `simalgo${this.nextAlgoId}`;
    const closePosition = params.get('closePosition') === 'true';
    const qty = closePosition ? 0 : this.checkQuantity(market, params.get('quantity') ?? undefined, true);
    const trigger = this.checkPrice(market, params.get('triggerPrice') ?? undefined, 'triggerPrice');
    const reduceOnly = params.get('reduceOnly') === 'true' || closePosition;
    if (account.orders.some((o) => o.kind === 'algo' && o.clientOrderId === clientAlgoId && this.isOpen(o))) throw errors.duplicateClientId();
    if (reduceOnly && !closePosition) this.checkReduceOnly(account, market.symbol, side, qty);
    const mark = this.marks.get(market.symbol) ?? 0;
    // A stop that the current price has already crossed would fire at once.
    const stopLike = type.startsWith('STOP');
    const fires = side === 'SELL' ? (stopLike ? mark <= trigger : mark >= trigger) : stopLike ? mark >= trigger : mark <= trigger;
    if (fires) throw errors.immediateTrigger();
    const order: SimOrder = {
      account: account.apiKey,
      symbol: market.symbol,
      orderId: 0,
      algoId: this.nextAlgoId++,
      clientOrderId: clientAlgoId,
      side,
      type,
      status: 'NEW',
      origQty: fmt(qty, decimals(market.stepSize)),
      executedQty: fmt(0, decimals(market.stepSize)),
      avgPrice: '0.00',
      price: params.get('price') ?? '0',
      reduceOnly,
      kind: 'algo',
      triggerPrice: fmt(trigger, decimals(market.tickSize)),
      updateTime: now,
      time: now,
    };
    account.orders.push(order);
    return order;
  }

  findOrder(account: Account, kind: 'order' | 'algo', params: URLSearchParams, idName: string, clientName: string): SimOrder {
    const id = params.get(idName);
    const clientId = params.get(clientName);
    if (!id && !clientId) throw errors.mandatory(`${idName}' or '${clientName}`);
    const symbol = params.get('symbol');
    // The newest order with that client id is the one Binance returns.
    for (let i = account.orders.length - 1; i >= 0; i--) {
      const o = account.orders[i] as SimOrder;
      if (o.kind !== kind || (symbol && kind === 'order' && o.symbol !== symbol)) continue;
      if (id ? String(kind === 'algo' ? o.algoId : o.orderId) === id : o.clientOrderId === clientId) return o;
    }
    throw errors.orderNotFound();
  }

  cancel(order: SimOrder, now: number): SimOrder {
    if (!this.isOpen(order)) throw errors.unknownOrderSent();
    order.status = order.kind === 'algo' ? 'CANCELED' : 'CANCELED';
    order.updateTime = now;
    return order;
  }

  setLeverage(account: Account, params: URLSearchParams): { leverage: number; maxNotionalValue: string; symbol: string } {
    const market = this.market(params.get('symbol') ?? undefined);
    const leverage = Number(params.get('leverage'));
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) throw errors.leverage();
    account.leverage.set(market.symbol, leverage);
    return { leverage, maxNotionalValue: '1000000', symbol: market.symbol };
  }

  /**
   * Moves the mark price; conditional orders it crosses fire as reduce-only
   * market fills (algo status FINISHED, plus the regular order they create).
   */
  setMark(symbol: string, price: number, now: number): void {
    this.marks.set(symbol, price);
    for (const account of this.accounts.values()) {
      for (const o of [...account.orders]) {
        if (o.kind !== 'algo' || o.symbol !== symbol || !this.isOpen(o)) continue;
        const trigger = Number(o.triggerPrice);
        const stopLike = o.type.startsWith('STOP');
        const crossed = o.side === 'SELL' ? (stopLike ? price <= trigger : price >= trigger) : stopLike ? price >= trigger : price <= trigger;
        if (!crossed) continue;
        o.status = 'FINISHED';
        o.updateTime = now;
        const position = account.positions.get(symbol)?.amount ?? 0;
        const qty = Math.min(Number(o.origQty) || Math.abs(position), Math.abs(position));
        if (qty <= 0) continue;
        this.fill(account, symbol, o.side, qty, price);
        const market = this.market(symbol);
        account.orders.push({
          account: account.apiKey,
          symbol,
          orderId: this.nextOrderId++,
          clientOrderId: `${o.clientOrderId}`.slice(0, 36),
          side: o.side,
          type: 'MARKET',
          status: 'FILLED',
          origQty: fmt(qty, decimals(market.stepSize)),
          executedQty: fmt(qty, decimals(market.stepSize)),
          avgPrice: fmt(price, decimals(market.tickSize)),
          price: '0',
          reduceOnly: true,
          kind: 'order',
          updateTime: now,
          time: now,
        });
      }
    }
  }
}
