import { Credentials } from '../../core/credentials.js';
import type { AccountOrder, Signal } from '../../core/wire-execute.js';
import type { CenterContext } from '../context.js';
import type { OrderRow, SignalRow } from '../db/schema.js';

/** A pending order with what it takes to send it. */
export interface DispatchTarget {
  order: OrderRow;
  account: AccountOrder;
  nodeId: number | null;
}

export function signalOf(row: SignalRow): Signal {
  return {
    signal_id: row.signal_id,
    symbol: row.symbol,
    side: row.side as Signal['side'],
    quantity: Number(row.quantity),
    order_type: row.order_type as Signal['order_type'],
    price: row.price === null ? undefined : Number(row.price),
    stop_loss: row.stop_loss === null ? undefined : Number(row.stop_loss),
    take_profit: row.take_profit === null ? undefined : Number(row.take_profit),
    leverage: row.leverage ?? undefined,
    reduce_only: false,
  };
}

/**
 * Orders joined with their accounts, credentials unsealed into
 * `Credentials` (which never serialise). Only for the moment of sending.
 */
export async function loadTargets(ctx: CenterContext, orderIds: number[]): Promise<DispatchTarget[]> {
  if (orderIds.length === 0) return [];
  const rows = await ctx.db.kysely
    .selectFrom('fact_order as o')
    .innerJoin('fact_exchange_account as a', 'a.id', 'o.account_id')
    .selectAll('o')
    .select(['a.exchange', 'a.api_key_enc', 'a.api_secret_enc', 'a.passphrase_enc', 'a.sandbox', 'a.execution_node_id as account_node_id'])
    .where('o.id', 'in', orderIds)
    .orderBy('o.id')
    .execute();
  return rows.map((row) => {
    const { exchange, api_key_enc, api_secret_enc, passphrase_enc, sandbox, account_node_id, ...order } = row;
    const credentials = new Credentials(
      ctx.box.open(api_key_enc, 'api_key'),
      ctx.box.open(api_secret_enc, 'api_secret'),
      passphrase_enc ? ctx.box.open(passphrase_enc, 'passphrase') : undefined,
    );
    return {
      order,
      nodeId: order.execution_node_id ?? account_node_id,
      account: {
        account_id: order.account_id,
        exchange,
        credentials,
        sandbox: sandbox === 1,
        quantity: Number(order.quantity),
        client_order_id: order.client_order_id,
      },
    };
  });
}
