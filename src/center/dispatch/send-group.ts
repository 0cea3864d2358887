import { randomUUID } from 'node:crypto';
import { announces } from '../../core/wire-heartbeat.js';
import type { AccountResult } from '../../core/wire-execute.js';
import type { CenterContext } from '../context.js';
import type { NodeRow, SignalRow } from '../db/schema.js';
import { signalOfRow } from '../db/signal-rows.js';
import { transportOf } from '../routing.js';
import { applyBatch } from './apply-batch.js';
import { noFill, outcomeOfResult, type ApplyItem, type OrderOutcome } from './apply-results.js';
import { groupCommitFor } from './group-commit.js';
import { claimOrders } from './claims.js';
import { stageTimings } from './stage-timings.js';
import { readTargets, unsealTarget, type DispatchTarget } from './targets.js';

/** Orders a caller of `sendGroup` already claimed (order id → attempt), and their targets. */
export interface Prepared {
  attempts: ReadonlyMap<number, number>;
  targets: DispatchTarget[];
}

/**
 * Claims, sends and applies one group, through its transport: in-process
 * when `node` is null, else one POST to the node. Direct mode, the reconciler and the queue worker all
 * end here. `requestId` names this job in both sides' logs (`X-Request-Id`);
 * a queued job carries the one the center gave it. `prepared`: the caller
 * already claimed these orders and read their targets. `protectOnly`: the
 * node places no entry or close, only the protection of what they filled.
 */
export async function sendGroup(
  ctx: CenterContext,
  signal: SignalRow,
  node: NodeRow | null,
  orderIds: number[],
  retry: boolean,
  requestId: string = randomUUID(),
  prepared?: Prepared,
  protectOnly = false,
): Promise<void> {
  // The targets are read alongside the claim, as dispatchOrders does: only claimed ones are unsealed and sent.
  const [claimed, read] = prepared ? [prepared.attempts, undefined] : await Promise.all([claimOrders(ctx, orderIds), readTargets(ctx, orderIds)]);
  if (claimed.size === 0) return;
  const log = ctx.logger.child({ request_id: requestId });
  const claimedTargets = prepared?.targets ?? (read ?? []).filter((t) => claimed.has(t.order.id)).map((t) => unsealTarget(ctx, t));
  // Never sent where a field it needs would be ignored: an earlier node would place the signal's quantity at the signal's leverage.
  const outdated = node && !announces(node.features, 'sizing') ? claimedTargets.filter(needsSizing) : [];
  const group = outdated.length === 0 ? claimedTargets : claimedTargets.filter((t) => !outdated.includes(t));
  if (outdated.length > 0) {
    const message = `node ${node?.node_code ?? ''} does not announce "sizing" in its heartbeat (an earlier version): this account's sizing, leverage or margin mode would be ignored there, so nothing was sent; upgrade the node`;
    await applyBatch(ctx, outdated.map((t) => ({ orderId: t.order.id, outcome: noFill('failed', 'node_outdated', message) })), log);
    if (group.length === 0) return;
  }
  const attempt = Math.max(...claimed.values());
  const base = { request_id: requestId, attempt, retry: retry || attempt > 1 || protectOnly, protectOnly, signal: signalOfRow(signal) };
  const job = { signal_id: signal.signal_id, node_code: node?.node_code ?? null, accounts: group.length, attempt };
  log.debug(job, 'sending job');
  // Counted from here to its answer, so answers that came first may wait a little for it and share a transaction.
  const expected = groupCommitFor(ctx.db.kysely, ctx.rules).expectAnswer();
  try {
    const started = performance.now();
    const answered = () => ({ roundTripMs: performance.now() - started, answeredAt: Date.now() });
    const applyAnswer = async (answered: AccountResult[], answer: { roundTripMs: number; answeredAt: number }) => {
      const { results, targets } = await holdUnsent(ctx, group, answered);
      const items = itemsOf(targets, results, answer, signal.action);
      const applied = await applyBatch(ctx, items, log, expected);
      // Only answers that changed their order: a redelivered job's repeat answer is not a second observation.
      const changed = new Set(targets.filter((_, i) => applied[i] === 'applied').map((t) => String(t.account.account_id)));
      observeStages(ctx, signal, results.filter((r) => changed.has(String(r.account_id))), answer, Date.now());
      log.info({ ...job, statuses: countStatuses(answered), ms: Math.round(answer.roundTripMs) }, 'job answered');
    };
    const call = await transportOf(ctx, node).execute({ ...base, accounts: group.map((t) => t.account) }, { requestId, logger: log });
    if (call.ok) return applyAnswer(call.value, answered());
    log.warn({ ...job, kind: call.kind, status: call.status, reason: call.message }, 'node call failed');
    if (call.kind === 'unreachable' || call.status === 503 || call.code === 'signature_expired') {
      // The node is restarting or draining, or has just restarted and refuses
      // signatures older than itself: nothing was executed, and it is expected
      // back. The orders stay pending for the reconciler, which looks them up
      // and resends them while the signal is younger than signal_max_age.
      await keepForReconciler(ctx, group, 'node_unavailable', call.message);
      return;
    }
    // No answer about these orders: "unknown" unless the node provably did nothing.
    const outcome = call.kind === 'ambiguous' ? noFill('unknown', 'unknown_outcome', call.message) : noFill('failed', call.kind === 'refused' ? 'node_refused' : 'node_unavailable', call.message);
    await applyBatch(ctx, group.map((t) => ({ orderId: t.order.id, outcome })), log, expected);
  } finally {
    expected.done();
  }
}

/** An account's order carries what only a node announcing `sizing` honours. */
function needsSizing(t: DispatchTarget): boolean {
  return t.account.sizing !== undefined || t.account.leverage !== undefined || t.account.margin_mode !== undefined;
}

/**
 * Accounts the executor answered `timeout` for ran out of account_timeout
 * before anything was sent (a process just started and still loading ccxt
 * and markets, or a backed-up queue): nothing is on the exchange, so the
 * order is not final. It stays pending for the reconciler, which resends it
 * (looking it up first) while the signal is younger than signal_max_age,
 * as for a node that was restarting. The rest of the answer is applied.
 */
async function holdUnsent(ctx: CenterContext, group: DispatchTarget[], results: AccountResult[]): Promise<{ results: AccountResult[]; targets: DispatchTarget[] }> {
  const unsent = new Set(results.filter((r) => r.status === 'failed' && r.error?.code === 'timeout').map((r) => String(r.account_id)));
  if (unsent.size === 0) return { results, targets: group };
  const held = group.filter((t) => unsent.has(String(t.account.account_id)));
  await keepForReconciler(ctx, held, 'timeout', 'account_timeout was reached before this attempt sent anything; the order is tried again');
  return { results: results.filter((r) => !unsent.has(String(r.account_id))), targets: group.filter((t) => !unsent.has(String(t.account.account_id))) };
}

/**
 * Leaves orders as they are (pending, or unknown and still to be looked
 * up) with the reason, for the reconciler to take up after reconcile_after.
 */
async function keepForReconciler(ctx: CenterContext, targets: DispatchTarget[], code: string, message: string): Promise<void> {
  await ctx.db.kysely
    .updateTable('fact_order')
    .set({ error_code: code, error_message: message.slice(0, 1000), updated_at: Date.now() })
    .where('id', 'in', targets.map((t) => t.order.id))
    .where('status', 'in', ['pending', 'unknown'])
    .execute();
}

function countStatuses(results: AccountResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

function observeStages(ctx: CenterContext, signal: SignalRow, results: AccountResult[], answer: { roundTripMs: number; answeredAt: number }, appliedAt: number): void {
  for (const r of results) {
    ctx.metrics.stages(
      stageTimings({
        acceptedAt: signal.accepted_at,
        onNodeMs: r.latency_ms,
        nodeQueuedMs: r.timings_ms?.queued ?? null,
        nodeExchangeMs: r.timings_ms?.exchange ?? null,
        roundTripMs: answer.roundTripMs,
        answeredAt: answer.answeredAt,
        appliedAt,
      }),
    );
  }
}

/** One item per target; a node that leaves an account out has not told us anything about it. */
function itemsOf(targets: DispatchTarget[], results: AccountResult[], answer: { roundTripMs: number; answeredAt: number }, action: string): ApplyItem[] {
  const byAccount = new Map(results.map((r) => [String(r.account_id), r]));
  return targets.map((t) => {
    const result = byAccount.get(String(t.account.account_id));
    const outcome: OrderOutcome = result
      ? outcomeOfResult(result, action)
      : noFill('unknown', 'unknown_outcome', 'the node returned no result for this account');
    return { orderId: t.order.id, outcome: { ...outcome, answer } };
  });
}
