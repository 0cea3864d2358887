import type { OrderRef, QueryAccount, OrderReport, OrderState, QueryOrdersBatch, QueryResult } from '../core/wire-query.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import type { OrderSnapshot } from '../exchange/trader.js';
import { perAccount, type ReadDeps } from './per-account.js';

function stateOf(order: OrderSnapshot): OrderState {
  const partial = order.filled > 0 && order.amount !== null && order.filled < order.amount * (1 - 1e-9);
  switch (order.status) {
    case 'open':
      return 'open';
    case 'closed':
      return partial ? 'partially_filled' : 'filled';
    case 'canceled':
    case 'expired':
    case 'rejected':
      return order.filled > 0 ? 'partially_filled' : order.status;
    default:
      return 'unknown';
  }
}

function report(ref: OrderRef, order: OrderSnapshot | null): OrderReport {
  return {
    client_order_id: ref.client_order_id,
    symbol: ref.symbol,
    kind: ref.kind,
    found: order !== null,
    state: order ? stateOf(order) : 'not_found',
    order_id: order?.id ?? null,
    amount: order?.amount ?? null,
    filled_quantity: order?.filled ?? 0,
    filled_price: order && order.filled > 0 ? order.average : null,
    fee: order?.fee ?? null,
  };
}

/**
 * `POST /api/query-orders`: each order's state on the exchange, by client
 * order id. Read-only; the center uses it to settle orders it could not
 * confirm.
 */
export function queryOrders(batch: QueryOrdersBatch, deps: ReadDeps): Promise<QueryResult[]> {
  return perAccount<QueryAccount, Omit<QueryResult, 'latency_ms'>>(
    batch.accounts,
    deps,
    async (account) => {
      const trader = await deps.traders.trader(account);
      const orders = await Promise.all(
        account.orders.map((ref) =>
          trader.findOrder(ref.symbol, ref.client_order_id, ref.kind !== 'entry').then(
            (order) => report(ref, order),
            (error: unknown): OrderReport => {
              const failure = normaliseError(error, account.credentials);
              return { ...report(ref, null), found: false, state: 'unknown', error: { code: failure.ambiguous ? 'exchange_unavailable' : failure.code, message: failure.message } };
            },
          ),
        ),
      );
      const failed = orders.find((o) => o.error);
      return {
        account_id: account.account_id,
        success: !failed,
        orders,
        ...(failed?.error ? { error: failed.error } : {}),
      };
    },
    (account, error) => ({ account_id: account.account_id, success: false, orders: [], error }),
  );
}
