import type { AccountOrder } from '../../core/wire-execute.js';
import type { CenterContext } from '../context.js';
import { openCredentials, type SealedCredentials } from '../crypto/secret-box.js';
import type { OrderRow } from '../db/schema.js';
import { sizingOfColumn } from './binding-sizing.js';

/** The order columns a send (and the reconciler's lookup) needs. */
type TargetOrder = Pick<OrderRow, 'id' | 'signal_row_id' | 'account_id' | 'execution_node_id' | 'client_order_id' | 'symbol' | 'quantity' | 'sizing' | 'leverage' | 'margin_mode'>;

/** A pending order with what it takes to send it. */
export interface DispatchTarget {
  order: TargetOrder;
  account: AccountOrder;
  nodeId: number | null;
}

/** A target as read, its credentials still sealed. */
export interface SealedTarget {
  order: TargetOrder;
  exchange: string;
  credentials: SealedCredentials;
  sandbox: boolean;
  accountNodeId: number | null;
}

/**
 * Orders joined with their accounts, credentials unsealed into
 * `Credentials` (which never serialise). Only for the moment of sending.
 */
export async function loadTargets(ctx: CenterContext, orderIds: number[]): Promise<DispatchTarget[]> {
  return (await readTargets(ctx, orderIds)).map((t) => unsealTarget(ctx, t));
}

/** Orders joined with their accounts, in id order; the credentials stay sealed until `unsealTarget`. */
export async function readTargets(ctx: CenterContext, orderIds: number[]): Promise<SealedTarget[]> {
  if (orderIds.length === 0) return [];
  const rows = await ctx.db.kysely
    .selectFrom('fact_order as o')
    .innerJoin('fact_exchange_account as a', 'a.id', 'o.account_id')
    .select(['o.id', 'o.signal_row_id', 'o.account_id', 'o.execution_node_id', 'o.client_order_id', 'o.symbol', 'o.quantity', 'o.sizing', 'o.leverage', 'o.margin_mode'])
    .select(['a.exchange', 'a.api_key_enc', 'a.api_secret_enc', 'a.passphrase_enc', 'a.sandbox', 'a.execution_node_id as account_node_id'])
    .where('o.id', 'in', orderIds)
    .orderBy('o.id')
    .execute();
  return rows.map(({ exchange, api_key_enc, api_secret_enc, passphrase_enc, sandbox, account_node_id, ...order }) => ({
    order,
    exchange,
    credentials: { api_key_enc, api_secret_enc, passphrase_enc },
    sandbox: sandbox === 1,
    accountNodeId: account_node_id,
  }));
}

export function unsealTarget(ctx: CenterContext, t: SealedTarget): DispatchTarget {
  const credentials = openCredentials(ctx.box, t.credentials);
  const sizing = sizingOfColumn(t.order.sizing);
  return {
    order: t.order,
    nodeId: t.order.execution_node_id ?? t.accountNodeId,
    account: {
      account_id: t.order.account_id,
      exchange: t.exchange,
      credentials,
      sandbox: t.sandbox,
      // '0': an action sized from the account's position (a close, a reduce by fraction), or an open the node sizes, carries no quantity.
      // A sized order's quantity is the node's answer once it came back: never sent again as the order's own.
      quantity: t.order.quantity === '0' || (sizing && sizing.mode !== 'multiplier') ? undefined : Number(t.order.quantity),
      client_order_id: t.order.client_order_id,
      sizing,
      leverage: t.order.leverage ?? undefined,
      margin_mode: (t.order.margin_mode ?? undefined) as 'cross' | 'isolated' | undefined,
    },
  };
}
