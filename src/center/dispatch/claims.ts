import type { CenterContext } from '../context.js';
import { transact } from '../db/connect.js';

/**
 * Takes the right to send these orders, atomically: bumps `attempts` on the
 * ones still `pending` or `unknown` and returns their new attempt numbers.
 * Two senders of the same order (a slow dispatch and the reconciler, a
 * redelivered queue job) can never both send attempt 1: the later one sends
 * a retry, so its node looks the order up before placing anything.
 */
/**
 * Statuses an order may be sent again from: not settled, or (`protect`, a
 * protect-only resend) on the exchange: filled, resting, or `done` (a close
 * that found nothing to close may still have a stop to cancel).
 */
export const CLAIMABLE = { unsettled: ['pending', 'unknown'], protect: ['filled', 'partially_filled', 'open', 'done'] } as const;
export type Claim = keyof typeof CLAIMABLE;

export async function claimOrders(ctx: CenterContext, orderIds: number[], claim: Claim = 'unsettled'): Promise<Map<number, number>> {
  const statuses = [...CLAIMABLE[claim]];
  if (orderIds.length === 0) return new Map();
  return transact(ctx.db.kysely, async (trx) => {
    const now = Date.now();
    await trx
      .updateTable('fact_order')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), dispatched_at: now, updated_at: now }))
      .where('id', 'in', orderIds)
      .where('status', 'in', statuses)
      .execute();
    const claimed = await trx
      .selectFrom('fact_order')
      .select(['id', 'attempts'])
      .where('id', 'in', orderIds)
      .where('status', 'in', statuses)
      // A locking read on MySQL sees the rows as they are, not the snapshot.
      .$if(ctx.db.dialect === 'mysql', (qb) => qb.forUpdate())
      .execute();
    return new Map(claimed.map((r) => [r.id, r.attempts]));
  });
}
