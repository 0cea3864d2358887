import type { Credentials } from '../core/credentials.js';
import type { Balance, Position } from '../core/wire-sync.js';
import { ExchangeFailure } from './exchange-failure.js';
import type { OrderRequest, OrderSnapshot, RestingOrder, Trader } from './trader.js';

/**
 * `paper`: an in-process exchange for demos and dry runs. Orders fill at
 * once (market at the reference or table price, limit at its own price);
 * stop-loss / take-profit rest as open trigger orders. It follows the real
 * exchanges' rule that client ids are unique among *open* orders only, so
 * the node's exactly-once logic is exercised here as well. State lives in
 * memory and is lost with the process.
 */
export interface PaperExchange {
  trader(credentials: Credentials): Trader;
}

export interface PaperOptions {
  /** Unified symbol → price for market orders without a reference price. */
  prices?: Readonly<Record<string, number>>;
  /** Starting USDT balance of an account the paper exchange has not seen. */
  startingBalance?: number;
  /** Leverage used for the margin check when none was set. */
  defaultLeverage?: number;
}

export const PAPER_PRICES: Readonly<Record<string, number>> = {
  'BTC/USDT:USDT': 60000,
  'ETH/USDT:USDT': 3000,
  'SOL/USDT:USDT': 150,
};

interface PaperOrder extends OrderSnapshot {
  symbol: string;
  side: 'buy' | 'sell';
  reduceOnly: boolean;
  trigger: OrderRequest['trigger'];
}

interface PaperAccount {
  usdt: number;
  positions: Map<string, { contracts: number; entry: number }>;
  leverage: Map<string, number>;
  orders: PaperOrder[];
}

const MAX_ACCOUNTS = 10_000;
/** A typical futures taker fee, so demos show a fee line. */
const PAPER_TAKER_FEE = 0.0004;
const MAX_ORDERS_PER_ACCOUNT = 2_000;

export function createPaperExchange(options: PaperOptions = {}): PaperExchange {
  const prices = { ...PAPER_PRICES, ...options.prices };
  const startingBalance = options.startingBalance ?? 10_000;
  const defaultLeverage = options.defaultLeverage ?? 10;
  const accounts = new Map<string, PaperAccount>();
  let nextId = 1;

  function accountOf(credentials: Credentials): PaperAccount {
    const key = credentials.fingerprint();
    let account = accounts.get(key);
    if (!account) {
      if (accounts.size >= MAX_ACCOUNTS) {
        const oldest = accounts.keys().next().value;
        if (oldest !== undefined) accounts.delete(oldest);
      }
      account = { usdt: startingBalance, positions: new Map(), leverage: new Map(), orders: [] };
      accounts.set(key, account);
    }
    return account;
  }

  function priceOf(request: OrderRequest): number {
    const price = request.price ?? prices[request.symbol];
    if (price === undefined) {
      throw new ExchangeFailure('market_not_found', `paper has no price for ${request.symbol}; send signal.price or use one of ${Object.keys(prices).join(', ')}`);
    }
    return price;
  }

  function place(account: PaperAccount, request: OrderRequest): OrderSnapshot {
    const open = account.orders.find((o) => o.clientOrderId === request.clientOrderId && o.status === 'open');
    if (open) throw new ExchangeFailure('invalid_order', `paper: client order id ${request.clientOrderId} is duplicated`, { duplicateClientId: true });

    const position = account.positions.get(request.symbol) ?? { contracts: 0, entry: 0 };
    const signed = request.side === 'buy' ? request.amount : -request.amount;
    if (request.reduceOnly && (position.contracts === 0 || Math.sign(signed) === Math.sign(position.contracts) || Math.abs(signed) > Math.abs(position.contracts) + 1e-12)) {
      throw new ExchangeFailure('invalid_order', 'paper: reduce-only order would open or increase a position');
    }
    const order: PaperOrder = {
      id: `paper-${nextId++}`,
      clientOrderId: request.clientOrderId,
      status: 'open',
      amount: request.amount,
      filled: 0,
      average: null,
      fee: null,
      symbol: request.symbol,
      side: request.side,
      reduceOnly: request.reduceOnly,
      trigger: request.trigger,
    };
    if (!request.trigger) {
      const price = priceOf(request);
      const leverage = account.leverage.get(request.symbol) ?? defaultLeverage;
      const margin = (request.amount * price) / leverage;
      if (!request.reduceOnly && margin > account.usdt) {
        throw new ExchangeFailure('insufficient_funds', `paper: margin ${margin.toFixed(2)} USDT needed, ${account.usdt.toFixed(2)} available`);
      }
      fill(account, request.symbol, signed, price);
      const fee = Math.round(request.amount * price * PAPER_TAKER_FEE * 1e8) / 1e8;
      account.usdt -= fee;
      Object.assign(order, { status: 'closed', filled: request.amount, average: price, fee: { cost: fee, currency: 'USDT' } });
    }
    account.orders.push(order);
    if (account.orders.length > MAX_ORDERS_PER_ACCOUNT) account.orders.shift();
    return snapshotOf(order);
  }

  function fill(account: PaperAccount, symbol: string, signed: number, price: number): void {
    const position = account.positions.get(symbol) ?? { contracts: 0, entry: 0 };
    const next = position.contracts + signed;
    if (position.contracts === 0 || Math.sign(position.contracts) === Math.sign(signed)) {
      position.entry = (position.entry * Math.abs(position.contracts) + price * Math.abs(signed)) / Math.abs(next);
    } else {
      const closed = Math.min(Math.abs(signed), Math.abs(position.contracts));
      account.usdt += closed * (price - position.entry) * Math.sign(position.contracts);
      if (Math.sign(next) !== Math.sign(position.contracts) && next !== 0) position.entry = price;
    }
    position.contracts = Math.abs(next) < 1e-12 ? 0 : next;
    account.positions.set(symbol, position);
  }

  function snapshotOf(order: PaperOrder): OrderSnapshot {
    const { symbol: _symbol, side: _side, reduceOnly: _reduceOnly, trigger: _trigger, ...snapshot } = order;
    return { ...snapshot, fee: snapshot.fee ? { ...snapshot.fee } : null };
  }

  return {
    trader(credentials) {
      const account = accountOf(credentials);
      return {
        exchange: 'paper',
        async placeOrder(request) {
          return place(account, request);
        },
        async findOrder(symbol, clientOrderId, trigger) {
          for (let i = account.orders.length - 1; i >= 0; i--) {
            const o = account.orders[i];
            if (o && o.clientOrderId === clientOrderId && o.symbol === symbol && (o.trigger !== undefined) === trigger) return snapshotOf(o);
          }
          return null;
        },
        async setLeverage(symbol, leverage) {
          account.leverage.set(symbol, leverage);
        },
        // The paper exchange keeps one cross wallet; a margin mode changes nothing it simulates.
        async setMarginMode() {},
        async fetchBalances(): Promise<Balance[]> {
          return [{ currency: 'USDT', total: account.usdt, free: account.usdt, used: 0 }];
        },
        // No precision or minimums: any amount fills, to 1e-8.
        async marketSizing(symbol) {
          const [base = symbol, quote = 'USDT'] = symbol.split(/[/:]/);
          const down = (x: number) => (x > 0 ? Math.floor(Number((x * 1e8).toPrecision(12))) / 1e8 : 0);
          return { base, quote, roundDown: down, roundUp: (x: number) => Math.ceil(Number((x * 1e8).toPrecision(12))) / 1e8, minAmount: undefined, minNotional: undefined };
        },
        async lastPrice(symbol) {
          return prices[symbol];
        },
        async fetchPositions(symbols): Promise<Position[]> {
          const out: Position[] = [];
          for (const [symbol, p] of account.positions) {
            if (p.contracts === 0 || (symbols && !symbols.includes(symbol))) continue;
            const mark = prices[symbol] ?? p.entry;
            out.push({
              symbol,
              side: p.contracts > 0 ? 'long' : 'short',
              contracts: Math.abs(p.contracts),
              contract_size: 1,
              entry_price: p.entry,
              mark_price: mark,
              notional: Math.abs(p.contracts) * mark,
              unrealized_pnl: (mark - p.entry) * p.contracts,
              leverage: account.leverage.get(symbol) ?? defaultLeverage,
              liquidation_price: null,
              margin_mode: 'cross',
            });
          }
          return out;
        },
        // One net position per symbol, as a one-way account holds it.
        positionMode: () => 'one_way',
        // Paper trigger orders rest until cancelled: they never fire.
        async openOrders(symbol): Promise<RestingOrder[]> {
          return account.orders
            .filter((o) => o.symbol === symbol && o.status === 'open')
            .map((o) => ({
              id: o.id,
              clientOrderId: o.clientOrderId,
              symbol: o.symbol,
              side: o.side,
              amount: o.amount ?? 0,
              filled: o.filled,
              price: null,
              trigger: o.trigger ? { kind: o.trigger.kind, price: o.trigger.price } : null,
              reduceOnly: o.reduceOnly,
              positionSide: null,
            }));
        },
        async cancelOrder(resting) {
          const order = account.orders.find((o) => o.id === resting.id && o.status === 'open');
          if (!order) return false;
          order.status = 'canceled';
          return true;
        },
      };
    },
  };
}
