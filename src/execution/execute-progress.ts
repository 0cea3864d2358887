import type { ErrorBody } from '../core/error-codes.js';
import type { AccountResult, ResultStatus } from '../core/wire-execute.js';
import type { AccountOrder } from '../core/wire-execute.js';
import type { ProtectionLeg } from '../core/client-order-id.js';
import type { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { SizingReport } from '../core/sizing.js';
import type { OrderSnapshot, RestingOrder } from '../exchange/trader.js';

/**
 * What one account's execution had done so far. The work updates it step by
 * step; when the account's deadline passes first, the result is built from
 * whatever it says, because an order request that was sent is never reported
 * as "failed".
 */
export interface AccountProgress {
  /** Set at the deadline: the work must not send anything new after this. */
  abandoned: boolean;
  /**
   * `waiting`: queued or preparing, nothing sent. `after_earlier`: waiting for
   * an earlier request for the same order on this node. `sending`: an order
   * request may be at the exchange. `done`: `entry` or `failure` is set.
   */
  entryPhase: 'waiting' | 'after_earlier' | 'sending' | 'done';
  entry?: OrderSnapshot;
  failure?: ExchangeFailure;
  /** The entry existed before this request and was reported, not placed. */
  deduplicated: boolean;
  legs: Partial<Record<ProtectionLeg, LegProgress>>;
  /** As the trader last sent the account's orders (`Trader.positionMode`). */
  positionMode?: 'one_way' | 'hedge';
  /** A node-sized entry: what was chosen and why. */
  sizing?: SizingReport;
  /** `performance.now()` when the account's turn began, and when the entry's outcome was known. */
  turnAt?: number;
  entryDoneAt?: number;
}

export interface LegProgress {
  phase: 'pending' | 'sending' | 'done';
  /** The position side it protects (the entry's), and at what price it triggers. */
  positionSide: 'long' | 'short';
  triggerPrice: number;
  order?: OrderSnapshot;
  error?: ErrorBody;
  /** A resend grew the leg to a larger fill: the smaller orders it replaced, and what cancelling each did. */
  replaces: RestingOrder[];
  canceled: Array<{ order: RestingOrder; gone?: boolean; error?: ErrorBody }>;
}

export function newProgress(): AccountProgress {
  return { abandoned: false, entryPhase: 'waiting', deduplicated: false, legs: {} };
}

/** Failures that happened before anything reached the exchange's order book. */
const NOT_SENT_CODES = new Set(['exchange_not_supported', 'exchange_unavailable', 'timeout', 'internal_error', 'order_not_found']);

/** The status of a result whose work ended in `failure` before any order existed. */
export function failureStatus(failure: ExchangeFailure): ResultStatus {
  return failure.ambiguous ? 'unknown' : NOT_SENT_CODES.has(failure.code) ? 'failed' : 'rejected';
}

export function entryStatus(entry: OrderSnapshot): ResultStatus {
  if (entry.filled > 0) {
    return entry.amount !== null && entry.filled < entry.amount * (1 - 1e-9) ? 'partially_filled' : 'filled';
  }
  if (entry.status === 'open' || entry.status === 'unknown') return 'open';
  return 'rejected';
}

function legError(leg: LegProgress | undefined, abandoned: boolean): ErrorBody | undefined {
  if (!leg) return undefined;
  if (leg.phase === 'done') return leg.error;
  if (!abandoned) return undefined;
  if (leg.phase === 'sending') {
    return { code: 'unknown_outcome', message: 'no answer from the exchange within account_timeout; the order may exist' };
  }
  return { code: 'timeout', message: 'not placed: account_timeout was reached first' };
}

/** The wire result for one account, from its progress at the moment of answering. */
export function resultOf(account: AccountOrder, progress: AccountProgress, latencyMs: number): AccountResult {
  const result = entryResultOf(account, progress, latencyMs);
  if (progress.sizing) result.sizing = progress.sizing;
  return result;
}

function entryResultOf(account: AccountOrder, progress: AccountProgress, latencyMs: number): AccountResult {
  const base = {
    account_id: account.account_id,
    success: false,
    status: 'failed' as ResultStatus,
    order_id: null,
    client_order_id: account.client_order_id,
    filled_price: null,
    filled_quantity: 0,
    latency_ms: latencyMs,
  };

  if (progress.entryPhase !== 'done' || (!progress.entry && !progress.failure)) {
    if (progress.entryPhase === 'sending') {
      return {
        ...base,
        success: false,
        status: 'unknown',
        error: { code: 'unknown_outcome', message: 'no answer from the exchange within account_timeout; the order may exist' },
      };
    }
    if (progress.entryPhase === 'after_earlier') {
      return {
        ...base,
        success: false,
        status: 'unknown',
        error: { code: 'unknown_outcome', message: 'an earlier request for this client order id is still running on this node' },
      };
    }
    return { ...base, success: false, status: 'failed', error: { code: 'timeout', message: 'nothing was sent: account_timeout was reached first' } };
  }

  if (!progress.entry) {
    const failure = progress.failure as ExchangeFailure;
    const status = failureStatus(failure);
    return { ...base, success: false, status, error: { code: failure.ambiguous ? 'unknown_outcome' : failure.code, message: failure.message } };
  }

  const entry = progress.entry;
  const status = entryStatus(entry);
  const result: AccountResult = {
    ...base,
    success: status !== 'rejected',
    status,
    order_id: entry.id,
    filled_price: entry.filled > 0 ? entry.average : null,
    filled_quantity: entry.filled,
  };
  if (entry.fee) result.fee = entry.fee;
  if (progress.deduplicated) result.deduplicated = true;
  if (status === 'rejected') {
    result.error = { code: 'exchange_error', message: `the exchange ended the order (${entry.status}) without a fill` };
  }
  const sl = progress.legs.stop_loss;
  const tp = progress.legs.take_profit;
  if (sl) result.stop_loss_order_id = sl.order?.id ?? null;
  if (tp) result.take_profit_order_id = tp.order?.id ?? null;
  const slError = legError(sl, progress.abandoned);
  const tpError = legError(tp, progress.abandoned);
  if (slError) result.stop_loss_error = slError;
  if (tpError) result.take_profit_error = tpError;
  const protection = LEGS.flatMap((leg) => protectionOf(leg, progress.legs[leg], entry));
  if (protection.length > 0) result.protection = protection;
  const canceled = LEGS.flatMap((leg) => (progress.legs[leg]?.canceled ?? []).map((c) => canceledOf(leg, c, progress.legs[leg] as LegProgress)));
  if (canceled.length > 0) result.canceled = canceled;
  return result;
}

const LEGS: readonly ProtectionLeg[] = ['stop_loss', 'take_profit'];

/** A leg that rests on the exchange, with its size, so the center knows what protects the position and how much. */
function protectionOf(leg: ProtectionLeg, state: LegProgress | undefined, entry: OrderSnapshot): NonNullable<AccountResult['protection']> {
  const order = state?.order;
  if (!state || !order || (order.status !== 'open' && order.status !== 'unknown')) return [];
  return [
    {
      position_side: state.positionSide,
      leg,
      client_order_id: order.clientOrderId ?? '',
      order_id: order.id,
      amount: order.amount ?? entry.filled,
      trigger_price: state.triggerPrice,
      replaces: state.replaces.map((o) => o.id),
      ...(state.error ? { error: state.error } : {}),
    },
  ];
}

function canceledOf(leg: ProtectionLeg, c: LegProgress['canceled'][number], state: LegProgress): NonNullable<AccountResult['canceled']>[number] {
  return {
    order_id: c.order.id,
    client_order_id: c.order.clientOrderId,
    kind: leg,
    position_side: state.positionSide,
    ...(c.gone ? { gone: true } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}
