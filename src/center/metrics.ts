import { createLazyRegistry, type LazyRegistry, type ReadSeries } from '../metrics/lazy-registry.js';
import { LATENCY_BUCKETS } from '../metrics/lazy-registry.js';
import { type HttpMetrics } from '../http/http-metrics.js';
import type { Db } from './db/connect.js';
import type { ReconcileReport } from './dispatch/reconciler.js';
import type { NodeCall, NodeClient } from './transport/node-client.js';
import { STAGES, type StageTimings } from './dispatch/stage-timings.js';
import { nodeAvailability } from './nodes.js';
import { driftingAccounts } from './positions.js';
import { excessProtection, unprotectedCount } from './dispatch/unprotected.js';
import type { QueueMode } from './queue/queue-mode.js';

/** Statuses an order does not leave (but for a late fill): counted, not gauged. */
const FINAL_STATUSES = ['filled', 'done', 'rejected', 'failed', 'skipped'] as const;
const OPEN_STATUSES = ['pending', 'unknown', 'open', 'partially_filled'] as const;
const RECONCILE_OUTCOMES = ['ok', 'error'] as const;
const RECONCILE_RESULTS = ['settled', 'resent', 'expired', 'waiting', 'unapplied', 'protecting'] as const;
const WORKER_OUTCOMES = ['done', 'failed', 'dead_letter'] as const;

/** The center's metrics (`GET /metrics`, names `tradectl_center_*`). */
export interface CenterMetrics extends HttpMetrics {
  registry: LazyRegistry;
  signal(result: 'accepted' | 'duplicate'): void;
  /** One answered order's stages, in milliseconds. */
  stages(timings: StageTimings): void;
  reconciled(report: ReconcileReport): void;
  reconcileFailed(): void;
  /** `path` is one of the node's routes, a constant in the center's code. */
  nodeCall(path: string, outcome: 'ok' | NodeFailureKind, seconds: number): void;
  /** A `center worker` finished with a queue job: `done` (acknowledged), `failed` (left for redelivery) or `dead_letter`. */
  workerJob(outcome: (typeof WORKER_OUTCOMES)[number]): void;
}

type NodeFailureKind = Extract<NodeCall<unknown>, { ok: false }>['kind'];

/** What the scrape-time gauges read; `queue` is set in queue mode, after the metrics exist. */
export interface CenterSources {
  db: Db;
  heartbeatTimeoutMs: number;
  queue(): QueueMode | undefined;
}

/**
 * One read shared by the series of one scrape: prom-client collects every
 * metric at once, so callers that arrive while a read is running share it.
 */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= read().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/**
 * The center's metrics. A `center worker` passes no `sources`: what the
 * database and Redis hold looks the same from every process, so those series
 * are the center's alone (summed over workers they would be multiplied), and
 * a worker's registry holds only what it records itself.
 */
export function createCenterMetrics(sources?: CenterSources): CenterMetrics {
  const registry = createLazyRegistry();

  const requests = registry.counter({ name: 'tradectl_center_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'] });
  const duration = registry.histogram({ name: 'tradectl_center_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route pattern', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS });
  const signals = registry.counter({ name: 'tradectl_center_signals_total', help: 'Signals posted, by result (a duplicate signal_id places nothing)', labelNames: ['result'] });
  const stage = registry.histogram({
    name: 'tradectl_center_signal_stage_seconds',
    help: 'Per answered order: dispatch (accepted→sent), transport (network both ways, and the wait for slower accounts of the same request), node_queue, exchange (turn→entry acknowledged), protection (stop-loss/take-profit), apply (answer→applied), total (accepted→applied)',
    labelNames: ['stage'],
    buckets: LATENCY_BUCKETS,
  });
  const nodeCalls = registry.histogram({ name: 'tradectl_center_node_request_duration_seconds', help: 'Center → node requests, by path and outcome (ok, unreachable, refused, ambiguous)', labelNames: ['path', 'outcome'], buckets: LATENCY_BUCKETS });
  const reconcileRuns = registry.counter({ name: 'tradectl_center_reconcile_runs_total', help: 'Reconciliation passes, by outcome (error: the pass itself failed)', labelNames: ['outcome'] });
  const reconcileOrders = registry.counter({ name: 'tradectl_center_reconcile_orders_total', help: 'Orders looked at by the reconciler, by result (waiting: the lookup failed or the node is offline; unapplied: found, but what was found could not be applied)', labelNames: ['result'] });
  const workerJobs = registry.counter({ name: 'tradectl_center_worker_jobs_total', help: 'Queue jobs this worker finished, by outcome (done, failed: left for redelivery, dead_letter)', labelNames: ['outcome'] });
  let lastReconcile = 0;
  // Only the center reconciles: a worker's 0 here would look like a stalled reconciler.
  if (sources) {
    registry.gauge({ name: 'tradectl_center_reconcile_last_success_timestamp_seconds', help: 'When the last reconciliation pass finished (0: none yet)', read: () => [[{}, lastReconcile / 1000]] });
    storedSeries(registry, sources);
    // Shown at 0 from the start: Prometheus' increase() needs two samples of a
    // series, so a series born at 1 hides the first failed pass from an alert.
    for (const outcome of RECONCILE_OUTCOMES) reconcileRuns.inc({ outcome }, 0);
    for (const result of RECONCILE_RESULTS) reconcileOrders.inc({ result }, 0);
  } else {
    for (const outcome of WORKER_OUTCOMES) workerJobs.inc({ outcome }, 0);
  }

  return {
    registry,
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    signal: (result) => signals.inc({ result }),
    stages(timings) {
      for (const name of STAGES) {
        const ms = timings[name];
        if (ms !== null) stage.observe({ stage: name }, ms / 1000);
      }
    },
    reconciled(report) {
      lastReconcile = Date.now();
      reconcileRuns.inc({ outcome: 'ok' });
      for (const result of RECONCILE_RESULTS) if (report[result] > 0) reconcileOrders.inc({ result }, report[result]);
    },
    reconcileFailed: () => reconcileRuns.inc({ outcome: 'error' }),
    nodeCall: (path, outcome, seconds) => nodeCalls.observe({ path, outcome }, seconds),
    workerJob: (outcome) => workerJobs.inc({ outcome }),
  };
}

/** Series read from the database and Redis when scraped: nodes, orders, the queue. */
function storedSeries(registry: LazyRegistry, sources: CenterSources): void {
  const k = sources.db.kysely;
  const nodes = shared(() => k.selectFrom('dim_execution_node').select(['node_code', 'status', 'last_heartbeat_at']).execute());
  registry.gauge({
    name: 'tradectl_center_nodes',
    help: 'Registered execution nodes, by state (online: enabled with a fresh heartbeat)',
    labelNames: ['state'],
    read: async () => {
      const rows = await nodes();
      const now = Date.now();
      const count = { online: 0, offline: 0, disabled: 0 };
      for (const n of rows) count[n.status !== 1 ? 'disabled' : nodeAvailability(n, now, sources.heartbeatTimeoutMs).online ? 'online' : 'offline']++;
      return Object.entries(count).map(([state, n]) => [{ state }, n]);
    },
  });
  registry.gauge({
    name: 'tradectl_center_node_up',
    help: 'Per enabled node: 1 when online (heartbeat fresher than node_heartbeat_timeout), else 0',
    labelNames: ['node_code'],
    read: async () => {
      const now = Date.now();
      return (await nodes()).filter((n) => n.status === 1).map((n) => [{ node_code: n.node_code }, nodeAvailability(n, now, sources.heartbeatTimeoutMs).online ? 1 : 0]);
    },
  });

  // From the database, so orders applied by `center worker` processes count too.
  const orders = shared(() =>
    k
      .selectFrom('fact_order')
      .select(({ fn }) => ['status', fn.countAll<number>().as('n'), fn.min('created_at').as('oldest')])
      .groupBy('status')
      .execute(),
  );
  registry.readCounter({
    name: 'tradectl_center_orders_total',
    help: 'Orders that reached a final status, from the database',
    labelNames: ['status'],
    read: async () => {
      const rows = await orders();
      return FINAL_STATUSES.map((status) => [{ status }, Number(rows.find((r) => r.status === status)?.n ?? 0)]);
    },
  });
  registry.gauge({
    name: 'tradectl_center_orders_unprotected',
    help: 'Filled orders whose stop-loss or take-profit (asked for by their signal) is missing or covers less than the fill; the reconciler sends them again, protect-only, while their signal is younger than protect_window',
    read: async () => [[{}, await unprotectedCount(k)]],
  });
  registry.gauge({
    name: 'tradectl_center_protection_excess',
    help: "Position sides whose live stop-loss or take-profit orders would close more than tradectl's fills hold (a stop that outlived its close); the reconciler sends the latest action again, protect-only",
    read: async () => [[{}, (await excessProtection(k)).length]],
  });
  registry.gauge({
    name: 'tradectl_center_position_drift_accounts',
    help: "Accounts whose exchange positions (last positions sync after tradectl's last fill) differ from what tradectl's fills add up to",
    read: async () => [[{}, await driftingAccounts(k)]],
  });
  registry.gauge({
    name: 'tradectl_center_orders_open',
    help: 'Orders not final yet, by status (unknown: answer lost, waiting for the reconciler)',
    labelNames: ['status'],
    read: async () => {
      const rows = await orders();
      return OPEN_STATUSES.map((status) => [{ status }, Number(rows.find((r) => r.status === status)?.n ?? 0)]);
    },
  });
  registry.gauge({
    name: 'tradectl_center_orders_oldest_age_seconds',
    help: 'Age of the oldest order still pending or unknown (0 when there is none)',
    labelNames: ['status'],
    read: async () => {
      const rows = await orders();
      const now = Date.now();
      return (['pending', 'unknown'] as const).map((status) => {
        const oldest = rows.find((r) => r.status === status)?.oldest;
        return [{ status }, oldest === undefined || oldest === null ? 0 : Math.max(0, (now - Number(oldest)) / 1000)];
      });
    },
  });

  const queueStats = shared(async () => {
    const queue = sources.queue();
    if (!queue) return undefined;
    try {
      return { available: true as const, ...(await queue.stats()) };
    } catch {
      return { available: false as const, ...queue.counters };
    }
  });
  const queueSeries = (pick: (s: NonNullable<Awaited<ReturnType<typeof queueStats>>>) => number | undefined): ReadSeries => async () => {
    const stats = await queueStats();
    const value = stats ? pick(stats) : undefined;
    // Labelled, so that direct mode (no queue) shows no series rather than zeros.
    return value === undefined || !stats ? [] : [[{ queue: sources.queue()?.queue.stream ?? '' }, value]];
  };
  registry.gauge({ name: 'tradectl_center_queue_available', help: 'Queue mode: 1 when Redis answers, 0 when not', labelNames: ['queue'], read: queueSeries((s) => (s.available ? 1 : 0)) });
  registry.gauge({ name: 'tradectl_center_queue_depth', help: 'Queue mode: jobs in the stream not yet acknowledged', labelNames: ['queue'], read: queueSeries((s) => (s.available ? s.depth : undefined)) });
  registry.gauge({ name: 'tradectl_center_queue_pending', help: 'Queue mode: jobs taken by a worker, not yet acknowledged', labelNames: ['queue'], read: queueSeries((s) => (s.available ? s.pending : undefined)) });
  registry.gauge({ name: 'tradectl_center_queue_consumers', help: 'Queue mode: worker consumers known to the group', labelNames: ['queue'], read: queueSeries((s) => (s.available ? s.consumers : undefined)) });
  registry.readCounter({ name: 'tradectl_center_queue_redeliveries_total', help: 'Queue mode: jobs delivered more than once (all workers)', labelNames: ['queue'], read: queueSeries((s) => (s.available ? s.redeliveries : undefined)) });
  registry.readCounter({ name: 'tradectl_center_queue_dead_letters_total', help: 'Queue mode: jobs moved to <queue>:dead (all workers)', labelNames: ['queue'], read: queueSeries((s) => (s.available ? s.dead_letters : undefined)) });
  registry.readCounter({ name: 'tradectl_center_queue_enqueued_total', help: 'Queue mode: jobs this center process queued', labelNames: ['queue'], read: queueSeries((s) => s.enqueued) });
  registry.readCounter({ name: 'tradectl_center_queue_fallbacks_total', help: 'Queue mode: jobs this center process sent directly because queuing failed', labelNames: ['queue'], read: queueSeries((s) => s.fallbacks) });
}

/** The node client, with every call timed into `tradectl_center_node_request_duration_seconds`. */
export function timedNodeClient(client: NodeClient, metrics: CenterMetrics): NodeClient {
  return {
    async post(node, path, body, schema, requestId) {
      const call = await client.post(node, path, body, schema, requestId);
      metrics.nodeCall(path, call.ok ? 'ok' : call.kind, call.ms / 1000);
      return call;
    },
  };
}
