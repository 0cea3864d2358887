import { clientOrderIdFor } from '../../core/client-order-id.js';
import { MAX_DECIMAL } from '../../core/wire-fields.js';
import type { Signal } from '../../core/wire-execute.js';
import type { CenterContext } from '../context.js';
import { isUniqueViolation, transact } from '../db/connect.js';
import { insertRows } from '../db/bulk-writes.js';
import type { SignalRow } from '../db/schema.js';
import { signalColumns } from '../db/signal-rows.js';
import { groupByDestination, routerFor, type Destination, type Groups } from '../routing.js';
import type { SealedTarget } from './targets.js';
import { bindingOrder, sizingColumn } from './binding-sizing.js';

export class SignalError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Accepted {
  signal: SignalRow;
  /** True when this signal_id was seen before: nothing new was placed. */
  duplicate: boolean;
  orderIds: number[];
  /** How a new signal's orders are dispatched, worked out while accepting it (`dispatchAccepted`). */
  plan?: DispatchPlan;
}

/** Orders claimed for sending from this process (order id → attempt), with their targets, still sealed. */
export interface Claimed {
  attempts: ReadonlyMap<number, number>;
  sealed: ReadonlyMap<number, SealedTarget>;
}

/** A new signal's orders by destination, and the ones its acceptance claimed. */
export interface DispatchPlan {
  routing: Groups<number>;
  claimed: Claimed;
}

/** Order ids by destination, from orders that carry their id. */
function idsOf(groups: Groups<{ id: number }>): Groups<number> {
  return {
    local: groups.local.map((o) => o.id),
    remote: new Map([...groups.remote].map(([nodeId, g]) => [nodeId, { node: g.node, items: g.items.map((o) => o.id) }])),
    unavailable: groups.unavailable.map((u) => ({ item: u.item.id, reason: u.reason })),
  };
}

/**
 * Step 1–2 of dispatch: the strategy's enabled bindings × enabled accounts
 * become one `pending` order each, written with the signal in one
 * transaction before anything is sent (write before send). A signal_id seen
 * before returns the first acceptance.
 */
export async function acceptSignal(ctx: CenterContext, strategyCode: string, signal: Signal, requestId: string): Promise<Accepted> {
  const k = ctx.db.kysely;
  const signalId = String(signal.signal_id);
  const existing = await k.selectFrom('fact_signal').selectAll().where('signal_id', '=', signalId).executeTakeFirst();
  if (existing) return duplicateOf(ctx, existing);

  const strategy = await k.selectFrom('dim_strategy').selectAll().where('strategy_code', '=', strategyCode).executeTakeFirst();
  if (!strategy) throw new SignalError(404, 'strategy_not_found', `no strategy "${strategyCode}"`);
  if (strategy.enabled !== 1) throw new SignalError(409, 'strategy_disabled', `strategy "${strategyCode}" is disabled`);

  const targets = await k
    .selectFrom('dim_strategy_binding as b')
    .innerJoin('fact_exchange_account as a', 'a.id', 'b.account_id')
    .innerJoin('dim_user as u', 'u.id', 'a.user_id')
    .select(['a.id as account_id', 'a.user_id', 'a.execution_node_id', 'b.multiplier', 'u.points_units'])
    .select(['b.sizing', 'b.sizing_value', 'b.min_size', 'b.max_position_notional', 'b.leverage', 'b.margin_mode'])
    // The sealed credentials too: the orders sent from this process are claimed and sent without reading them back.
    .select(['a.exchange', 'a.api_key_enc', 'a.api_secret_enc', 'a.passphrase_enc', 'a.sandbox'])
    .where('b.strategy_id', '=', strategy.id)
    .where('b.enabled', '=', 1)
    .where('a.enabled', '=', 1)
    .orderBy('a.id')
    .execute();

  const now = Date.now();
  const router = await routerFor(ctx, targets.map((t) => t.execution_node_id), now);
  const destinations = new Map(targets.map((t) => [t.account_id, router.send(t.execution_node_id)]));
  // Orders this process sends (in-process, and every online node's unless the
  // queue takes them) are claimed as they are written: attempt 1, which only
  // this transaction can give them; a separate claim after the commit would
  // cost the dispatch another round of writes.
  const claimsNow = (accountId: number) => {
    const d = destinations.get(accountId) as Destination;
    return d.kind === 'local' || (d.kind === 'remote' && ctx.delivery === 'direct');
  };
  try {
    return await transact(k, async (trx) => {
      const inserted = await trx
        .insertInto('fact_signal')
        .values({
          ...signalColumns(signal),
          strategy_id: strategy.id,
          request_id: requestId,
          status: 'accepted',
          accepted_at: now,
          dispatched_at: null,
          completed_at: null,
        })
        .executeTakeFirstOrThrow();
      const signalRowId = Number(inserted.insertId);
      const skipped = new Set<number>();
      const rows = targets.map((t) => {
        // Actions sized from each account's live position (a close, a reduce by fraction) and opens the node sizes carry no quantity: stored as '0'.
        const sized = bindingOrder(signal, t.multiplier, t, strategy);
        const quantity = sized.quantity;
        const refusal = refusalOf(ctx, t.points_units, quantity, t.multiplier) ?? sized.refusal;
        if (refusal) skipped.add(t.account_id);
        const claimed = !refusal && claimsNow(t.account_id);
        return {
          signal_row_id: signalRowId,
          account_id: t.account_id,
          user_id: t.user_id,
          execution_node_id: t.execution_node_id,
          client_order_id: clientOrderIdFor(signalId, t.account_id),
          symbol: signal.symbol,
          side: signal.side ?? '',
          quantity: quantity === undefined ? '0' : String(quantity),
          sizing: sizingColumn(sized.sizing),
          leverage: sized.leverage ?? null,
          margin_mode: sized.marginMode ?? null,
          status: refusal ? 'skipped' : 'pending',
          filled_quantity: '0',
          error_code: refusal?.code ?? null,
          error_message: refusal?.message ?? null,
          attempts: claimed ? 1 : 0,
          dispatched_at: claimed ? now : null,
          created_at: now,
          completed_at: refusal ? now : null,
          updated_at: now,
        };
      });
      // One statement per chunk instead of one round trip per order. The ids
      // are read back by (signal, account): MySQL's insertId of a multi-row
      // INSERT is only the first id, and the rest are consecutive only under
      // some innodb_autoinc_lock_mode settings.
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertRows(trx, 'fact_order', rows.slice(i, i + INSERT_CHUNK));
      const written = rows.length === 0 ? [] : await trx.selectFrom('fact_order').select(['id', 'account_id']).where('signal_row_id', '=', signalRowId).execute();
      const idOf = new Map(written.map((r) => [r.account_id, r.id]));
      const orderIds = targets.filter((t) => !skipped.has(t.account_id)).map((t) => idOf.get(t.account_id) as number);
      const signalRow = await trx.selectFrom('fact_signal').selectAll().where('id', '=', signalRowId).executeTakeFirstOrThrow();
      const attempts = new Map<number, number>();
      const sealed = new Map<number, SealedTarget>();
      const sent = rows.flatMap((row, i) => {
        const t = targets[i] as (typeof targets)[number];
        if (skipped.has(t.account_id)) return [];
        const id = idOf.get(t.account_id) as number;
        if (claimsNow(t.account_id)) {
          attempts.set(id, 1);
          sealed.set(id, {
            order: { id, signal_row_id: signalRowId, account_id: t.account_id, execution_node_id: t.execution_node_id, client_order_id: row.client_order_id, symbol: row.symbol, quantity: row.quantity, sizing: row.sizing, leverage: row.leverage, margin_mode: row.margin_mode },
            exchange: t.exchange,
            credentials: { api_key_enc: t.api_key_enc, api_secret_enc: t.api_secret_enc, passphrase_enc: t.passphrase_enc },
            sandbox: t.sandbox === 1,
            accountNodeId: t.execution_node_id,
          });
        }
        return [{ id, accountId: t.account_id }];
      });
      const routing = groupByDestination(sent, (o) => destinations.get(o.accountId) as Destination);
      const plan = { routing: idsOf(routing), claimed: { attempts, sealed } };
      return { signal: signalRow, duplicate: false, orderIds, plan };
    });
  } catch (error) {
    // The same signal_id posted twice at once: the other request won.
    if (!isUniqueViolation(error)) throw error;
    const winner = await k.selectFrom('fact_signal').selectAll().where('signal_id', '=', signalId).executeTakeFirstOrThrow();
    return duplicateOf(ctx, winner);
  }
}

/** Why an account's order is recorded `skipped` instead of sent, or undefined when it is sent. */
function refusalOf(ctx: CenterContext, pointsUnits: bigint, quantity: number | undefined, multiplier: string): { code: string; message: string } | undefined {
  if (ctx.config.require_points && pointsUnits <= 0n) return { code: 'insufficient_points', message: 'the account owner has no points left (require_points is on)' };
  // The signal's own quantity is checked at the door; a binding's multiplier can still take one account's share past the bound every node enforces.
  if (quantity !== undefined && quantity > MAX_DECIMAL) return { code: 'invalid_order', message: `quantity ${quantity} (the signal's × multiplier ${multiplier}) is above the largest accepted, ${MAX_DECIMAL.toExponential()}` };
  return undefined;
}

/** Pending orders per INSERT: 20 placeholders each, far below MySQL's 65,535 and SQLite's 32,766. */
const INSERT_CHUNK = 500;

async function duplicateOf(ctx: CenterContext, signal: SignalRow): Promise<Accepted> {
  const orders = await ctx.db.kysely.selectFrom('fact_order').select('id').where('signal_row_id', '=', signal.id).execute();
  return { signal, duplicate: true, orderIds: orders.map((o) => o.id) };
}
