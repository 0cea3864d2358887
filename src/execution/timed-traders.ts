import type { TraderPool } from '../exchange/trader-pool.js';
import type { Trader } from '../exchange/trader.js';

/** What the execution path records, on a node (and nowhere else for now). */
export interface ExecutionMetrics {
  exchangeCall(exchange: string, call: string, outcome: 'ok' | 'error', seconds: number): void;
  marketsLoaded(exchange: string, outcome: 'ok' | 'error', seconds: number | undefined): void;
}

async function timed<T>(metrics: ExecutionMetrics, exchange: string, call: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const value = await work();
    metrics.exchangeCall(exchange, call, 'ok', (performance.now() - started) / 1000);
    return value;
  } catch (error) {
    metrics.exchangeCall(exchange, call, 'error', (performance.now() - started) / 1000);
    throw error;
  }
}

/** The pool, with every exchange call of its traders timed into `tradectl_node_exchange_call_duration_seconds`. */
export function timedTraders(pool: TraderPool, metrics: ExecutionMetrics): TraderPool {
  // The pool hands out the same trader for a cached account, so its timed
  // wrapper is built once, not on every request.
  const wrapped = new WeakMap<Trader, Trader>();
  const wrap = (inner: Trader): Trader => {
    const ex = inner.exchange;
    return {
      exchange: ex,
      placeOrder: (request) => timed(metrics, ex, request.trigger ? 'place_trigger_order' : 'place_order', () => inner.placeOrder(request)),
      findOrder: (symbol, clientOrderId, trigger) => timed(metrics, ex, 'find_order', () => inner.findOrder(symbol, clientOrderId, trigger)),
      setLeverage: (symbol, leverage) => timed(metrics, ex, 'set_leverage', () => inner.setLeverage(symbol, leverage)),
      setMarginMode: (symbol, mode) => timed(metrics, ex, 'set_margin_mode', () => inner.setMarginMode(symbol, mode)),
      fetchBalances: () => timed(metrics, ex, 'fetch_balances', () => inner.fetchBalances()),
      marketSizing: (symbol) => inner.marketSizing(symbol),
      lastPrice: (symbol) => timed(metrics, ex, 'fetch_ticker', () => inner.lastPrice(symbol)),
      fetchPositions: (symbols) => timed(metrics, ex, 'fetch_positions', () => inner.fetchPositions(symbols)),
      openOrders: (symbol) => timed(metrics, ex, 'open_orders', () => inner.openOrders(symbol)),
      cancelOrder: (order) => timed(metrics, ex, order.trigger ? 'cancel_trigger_order' : 'cancel_order', () => inner.cancelOrder(order)),
      positionMode: (symbol) => inner.positionMode(symbol),
    };
  };
  return {
    stats: () => pool.stats(),
    async trader(account) {
      const inner = await pool.trader(account);
      let trader = wrapped.get(inner);
      if (!trader) {
        trader = wrap(inner);
        wrapped.set(inner, trader);
      }
      return trader;
    },
  };
}
