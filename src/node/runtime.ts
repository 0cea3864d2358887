import type { Logger } from 'pino';
import { VERSION } from '../core/version.js';
import { NODE_FEATURES, type Heartbeat } from '../core/wire-heartbeat.js';
import type { TraderPool } from '../exchange/trader-pool.js';
import type { ExecuteDeps } from '../execution/execute.js';
import { createExecutionDeps, type RuntimeParts } from '../execution/execution-deps.js';
import type { Limiter } from '../execution/limiter.js';
import type { NodeConfig } from './config.js';
import { createNodeMetrics, type NodeMetrics } from './node-metrics.js';

/**
 * Everything a running node shares between requests: the trader pool with its
 * market cache, the concurrency bound, the orders in flight. The center's
 * in-process execution builds the same thing.
 */
export interface NodeRuntime extends ExecuteDeps {
  config: NodeConfig;
  traders: TraderPool;
  limiter: Limiter;
  startedAt: Date;
  /** HTTP requests being handled right now. */
  requests: { inFlight: number };
  draining: boolean;
  /** `GET /metrics`; prom-client itself is loaded only after the node listens. */
  metrics: NodeMetrics;
}

export function createNodeRuntime(config: NodeConfig, logger: Logger, parts: RuntimeParts = {}): NodeRuntime {
  const requests = { inFlight: 0 };
  // The gauges read the runtime when scraped; it exists by then.
  let runtime: NodeRuntime | undefined;
  const metrics = createNodeMetrics({
    requestsInFlight: () => requests.inFlight,
    accountsActive: () => runtime?.limiter.active ?? 0,
    accountsQueued: () => runtime?.limiter.queued ?? 0,
    cachedInstances: () => runtime?.traders.stats().cached_instances ?? 0,
  });
  runtime = {
    ...createExecutionDeps(config, logger, parts, metrics),
    config,
    startedAt: new Date(),
    requests,
    draining: false,
    metrics,
  };
  return runtime;
}

export function heartbeatOf(runtime: NodeRuntime, nodeCode: string): Heartbeat {
  const heartbeat: Heartbeat = {
    node_code: nodeCode,
    version: VERSION,
    status: runtime.draining ? 'draining' : 'ok',
    started_at: runtime.startedAt.toISOString(),
    uptime_seconds: Math.round((Date.now() - runtime.startedAt.getTime()) / 1000),
    in_flight: runtime.limiter.active + runtime.limiter.queued,
    capacity: runtime.limiter.capacity,
    features: [...NODE_FEATURES],
  };
  if (runtime.config.node_public_url) heartbeat.base_url = runtime.config.node_public_url;
  return heartbeat;
}
