/**
 * Where one order's time went, in milliseconds, along the issue #6 chain
 * accepted → dispatched → node received → exchange acknowledged → results
 * applied. The node reports durations, never timestamps (the machines'
 * clocks differ); the center's stages use its own clock, so the parts add up
 * to `total`:
 *
 * - `dispatch`: signal accepted → request sent (queue wait in queue mode)
 * - `transport`: the request's way to the node and the answer's way back
 *   (round trip minus this account's time on the node; the center cannot
 *   split the two), and the wait for the request's slower accounts
 * - `node_queue`: on the node, until the account's turn (execute_concurrency)
 * - `exchange`: from its turn until the exchange acknowledged the entry
 *   (markets, leverage, the order itself)
 * - `protection`: after the entry, until the node answered (stop-loss, take-profit)
 * - `apply`: answer received → results and settlement written (with the
 *   apply queue's linger for other expected answers)
 * - `total`: signal accepted → results applied
 */
export const STAGES = ['dispatch', 'transport', 'node_queue', 'exchange', 'protection', 'apply', 'total'] as const;
export type Stage = (typeof STAGES)[number];
export type StageTimings = Record<Stage, number | null>;

/** What one answer tells about an order; every time on the center's clock except the node's durations. */
export interface AnswerTimes {
  acceptedAt: number;
  /** From the node's result (`latency_ms`, `timings_ms`); null when it sent none. */
  onNodeMs: number | null;
  nodeQueuedMs: number | null;
  nodeExchangeMs: number | null;
  roundTripMs: number | null;
  answeredAt: number | null;
  appliedAt: number | null;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, Math.round(a - b)));

export function stageTimings(t: AnswerTimes): StageTimings {
  const sentAt = t.answeredAt === null || t.roundTripMs === null ? null : t.answeredAt - t.roundTripMs;
  const known = t.onNodeMs !== null && t.nodeQueuedMs !== null && t.nodeExchangeMs !== null;
  return {
    dispatch: diff(sentAt, t.acceptedAt),
    transport: diff(t.roundTripMs, t.onNodeMs),
    node_queue: t.nodeQueuedMs,
    exchange: t.nodeExchangeMs,
    protection: known ? Math.max(0, (t.onNodeMs as number) - (t.nodeQueuedMs as number) - (t.nodeExchangeMs as number)) : null,
    apply: diff(t.appliedAt, t.answeredAt),
    total: diff(t.appliedAt, t.acceptedAt),
  };
}
