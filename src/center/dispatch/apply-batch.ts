import type { CenterContext } from '../context.js';
import { failuresOf, markUnapplied, type ApplyItem, type ApplyOutcome } from './apply-results.js';
import { groupCommitFor, type ExpectedAnswer } from './group-commit.js';

/**
 * Applies a group's outcomes, many orders per transaction (`applyOutcomes`).
 * An order whose result cannot be applied is marked `unknown` instead
 * (`markUnapplied`), so the reconciler asks the exchange about it like any
 * order whose answer was lost, after `reconcile_after`; only if even that
 * fails does this throw, after every other order of the group is applied.
 */
export async function applyBatch(ctx: CenterContext, items: ApplyItem[], log: CenterContext['logger'], answering?: ExpectedAnswer): Promise<Array<ApplyOutcome | Error>> {
  const applying = groupCommitFor(ctx.db.kysely, ctx.rules).apply(items);
  // Only now that the queue holds this answer: the answers lingering for it are applied with it.
  answering?.done();
  const results = await applying;
  if (items.length === 0) return results;
  const failed = failuresOf(items, results);
  if (failed.length === 0) return results;
  for (const { orderId, error } of failed) log.error({ order_id: orderId, reason: error.message }, 'could not apply the result of this order; it is marked unknown for the reconciler');
  try {
    await markUnapplied(ctx.db.kysely, failed, Date.now());
  } catch (error) {
    throw new AggregateError([error], `${failed.length} of ${items.length} order results could neither be applied nor marked unknown: ${(error as Error).message}`);
  }
  return results;
}
