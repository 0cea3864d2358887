import type { ErrorBody } from '../core/error-codes.js';
import type { AccountOrder, AccountResult, ResultStatus, Signal } from '../core/wire-execute.js';
import type { ActionProgress, CloseStep, ProtectionStep } from './action-progress.js';
import { entryStatus, failureStatus, resultOf } from './execute-progress.js';

type ClosedLeg = NonNullable<AccountResult['closed']>[number];
type ProtectionChange = NonNullable<AccountResult['protection']>[number];
type CanceledOrder = NonNullable<AccountResult['canceled']>[number];

const UNANSWERED: ErrorBody = { code: 'unknown_outcome', message: 'no answer from the exchange within account_timeout; the order may exist' };

/** Worst first: what one account's result says when its legs disagree. */
const SEVERITY: readonly ResultStatus[] = ['unknown', 'failed', 'rejected', 'open', 'partially_filled', 'filled', 'done'];

function closedLeg(step: CloseStep, abandoned: boolean): ClosedLeg {
  const order = step.order;
  const base = {
    position_side: step.positionSide,
    client_order_id: step.clientOrderId,
    position_before: step.before,
  };
  if (!order) {
    const error = step.error ?? (abandoned || step.phase === 'sending' ? UNANSWERED : { code: 'internal_error' as const, message: 'no outcome recorded' });
    const status: ResultStatus = error.code === 'unknown_outcome' ? 'unknown' : 'rejected';
    return { ...base, order_id: null, status, filled_quantity: 0, filled_price: null, position_after: status === 'unknown' ? null : step.before, error };
  }
  const status = entryStatus(order);
  const leg: ClosedLeg = {
    ...base,
    order_id: order.id,
    status,
    filled_quantity: order.filled,
    filled_price: order.filled > 0 ? order.average : null,
    position_after: step.deduplicated ? null : Math.max(0, Number((step.before - order.filled).toPrecision(12))),
  };
  if (order.fee) leg.fee = order.fee;
  if (step.deduplicated) leg.deduplicated = true;
  if (status === 'rejected') leg.error = { code: 'exchange_error', message: `the exchange ended the order (${order.status}) without a fill` };
  return leg;
}

function protectionChange(step: ProtectionStep, abandoned: boolean): ProtectionChange {
  const change: ProtectionChange = {
    position_side: step.positionSide,
    leg: step.leg,
    client_order_id: step.clientOrderId,
    order_id: step.order?.id ?? null,
    amount: step.amount,
    trigger_price: step.triggerPrice,
    replaces: step.order ? step.replaces.map((o) => o.id) : [],
  };
  const error = step.error ?? (step.phase === 'sending' && abandoned ? UNANSWERED : step.phase !== 'done' && abandoned ? { code: 'timeout' as const, message: 'not placed: account_timeout was reached first' } : undefined);
  if (error) change.error = error;
  return change;
}

function canceledOrder(step: ActionProgress['canceled'][number], abandoned: boolean): CanceledOrder {
  const out: CanceledOrder = {
    order_id: step.order.id,
    client_order_id: step.order.clientOrderId,
    kind: step.kind,
    position_side: step.positionSide,
  };
  if (step.gone) out.gone = true;
  const error = step.error ?? (step.phase === 'sending' && abandoned ? { code: 'unknown_outcome' as const, message: 'no answer to the cancel within account_timeout; the order may still be open' } : undefined);
  if (error) out.error = error;
  return out;
}

/**
 * The wire result of an action on one account. The top-level fields say
 * what its own orders did: for a close or a reduce, the closing orders
 * together (quantities summed, price weighted); for a reverse, the new
 * side's entry as an open reports it; `done` when the action places no
 * order of its own. `closed`, `protection` and `canceled` list every step.
 */
export function actionResultOf(signal: Signal, account: AccountOrder, progress: ActionProgress, latencyMs: number): AccountResult {
  const abandoned = progress.abandoned;
  const closed = progress.closes.map((step) => closedLeg(step, abandoned));
  const protection = progress.protection.map((step) => protectionChange(step, abandoned));
  const canceled = progress.canceled.map((step) => canceledOrder(step, abandoned));
  const steps = { ...(closed.length ? { closed } : {}), ...(protection.length ? { protection } : {}), ...(canceled.length ? { canceled } : {}) };

  const base: AccountResult = {
    account_id: account.account_id,
    success: false,
    status: 'failed',
    order_id: null,
    client_order_id: account.client_order_id,
    filled_price: null,
    filled_quantity: 0,
    latency_ms: latencyMs,
  };

  if (progress.failure && closed.length === 0 && protection.length === 0 && canceled.length === 0) {
    return { ...base, status: failureStatus(progress.failure), error: { code: progress.failure.ambiguous ? 'unknown_outcome' : progress.failure.code, message: progress.failure.message } };
  }
  if (progress.phase === 'waiting' || progress.phase === 'after_earlier' || progress.phase === 'reading') {
    if (progress.phase === 'after_earlier') return { ...base, status: 'unknown', error: { code: 'unknown_outcome', message: 'an earlier request for this signal and account is still running on this node' } };
    return { ...base, error: { code: 'timeout', message: 'nothing was sent: account_timeout was reached first' } };
  }

  if (signal.action === 'reverse') {
    if (progress.open) {
      // The new side's own stop-loss and take-profit (and what growing one replaced) join the close's steps.
      const own = resultOf(account, progress.open, latencyMs);
      const merged = { ...own, ...steps };
      const ownProtection = [...(steps.protection ?? []), ...(own.protection ?? [])];
      const ownCanceled = [...(steps.canceled ?? []), ...(own.canceled ?? [])];
      if (ownProtection.length > 0) merged.protection = ownProtection;
      if (ownCanceled.length > 0) merged.canceled = ownCanceled;
      return merged;
    }
    const blocking = closed.find((leg) => leg.status !== 'filled');
    if (!blocking && !progress.notOpened) {
      // The old side is closed and the new one was not reached: a resend finds the close and opens it.
      return { ...base, status: 'failed', error: { code: 'timeout', message: 'the old side was closed; the new side was not opened: account_timeout was reached first' }, ...steps };
    }
    const status: ResultStatus = blocking?.status === 'unknown' ? 'unknown' : 'rejected';
    const error = progress.notOpened ?? blocking?.error ?? { code: 'internal_error' as const, message: 'the new side was not opened' };
    return { ...base, status, error, ...steps };
  }

  if (signal.action === 'close' || signal.action === 'reduce') {
    if (closed.length === 0) return { ...base, success: true, status: 'done', ...steps };
    const status = SEVERITY.find((s) => closed.some((leg) => leg.status === s)) ?? 'failed';
    const filled = closed.reduce((sum, leg) => sum + leg.filled_quantity, 0);
    const notional = closed.reduce((sum, leg) => sum + leg.filled_quantity * (leg.filled_price ?? 0), 0);
    const first = closed[0] as ClosedLeg;
    const result: AccountResult = {
      ...base,
      success: status === 'filled' || status === 'partially_filled' || status === 'open',
      status,
      order_id: first.order_id,
      client_order_id: first.client_order_id,
      filled_quantity: Number(filled.toPrecision(12)),
      filled_price: filled > 0 ? Number((notional / filled).toPrecision(12)) : null,
      ...steps,
    };
    const fees = closed.flatMap((leg) => (leg.fee ? [leg.fee] : []));
    if (fees.length > 0 && fees.every((f) => f.currency === fees[0]?.currency)) {
      result.fee = { cost: Number(fees.reduce((sum, f) => sum + f.cost, 0).toPrecision(12)), currency: fees[0]?.currency ?? null };
    }
    if (closed.some((leg) => leg.deduplicated)) result.deduplicated = true;
    const error = closed.find((leg) => leg.error)?.error ?? cleanupError(protection, canceled);
    if (error) result.error = error;
    return result;
  }

  // update_protection, cancel: no order of their own; done when every step is.
  const errors = [...protection.map((p) => p.error), ...canceled.map((c) => c.error)].filter((e): e is ErrorBody => e !== undefined);
  if (progress.failure) errors.unshift({ code: progress.failure.code, message: progress.failure.message });
  if (errors.length === 0) return { ...base, success: true, status: 'done', ...steps };
  // A step that may succeed when sent again (a lost answer, the deadline, a cancel that failed) leaves the result
  // unknown, which the center settles by resending; a refusal (a stop on the wrong side of the mark) is final.
  const retryable = errors.find((e) => RETRYABLE.has(e.code)) ?? canceled.find((c) => c.error)?.error;
  return { ...base, status: retryable ? 'unknown' : 'rejected', error: retryable ?? (errors[0] as ErrorBody), ...steps };
}

/** Step errors a resend can get past. */
const RETRYABLE: ReadonlySet<string> = new Set(['unknown_outcome', 'timeout', 'exchange_unavailable', 'rate_limited', 'internal_error']);

/**
 * A close or reduce filled, but the protection did not follow (a stop that
 * could not be cancelled or resized): said at the top level so that it shows
 * with the order, not only in the step lists.
 */
function cleanupError(protection: ProtectionChange[], canceled: CanceledOrder[]): AccountResult['error'] {
  const failed = [...canceled.filter((c) => c.error), ...protection.filter((p) => p.error)];
  const first = failed[0];
  if (!first?.error) return undefined;
  return { code: first.error.code, message: `the position side was closed as reported, but its protection did not follow (${failed.length} order${failed.length > 1 ? 's' : ''}): ${first.error.message}` };
}
