import type { Logger } from 'pino';
import type * as v from 'valibot';
import { VERSION } from '../core/version.js';
import type { Heartbeat } from '../core/wire-heartbeat.js';
import { fullCatalog, type ExchangeCatalog } from '../exchange/ccxt-catalog.js';
import { createPaperExchange, type PaperExchange } from '../exchange/paper-exchange.js';
import { createTraderPool, type TraderPool } from '../exchange/trader-pool.js';
import type { ExecutionSettings, NodeConfig } from './config.js';
import type { ExecuteDeps } from './execute.js';
import { createLimiter, type Limiter } from './limiter.js';
import { createNodeMetrics, type ExecutionMetrics, type NodeMetrics } from './metrics/node-metrics.js';
import { timedTraders } from './metrics/timed-traders.js';

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

export interface RuntimeParts {
  catalog?: ExchangeCatalog;
  paper?: PaperExchange;
}

export type ExecutionConfig = v.InferOutput<v.ObjectSchema<typeof ExecutionSettings, undefined>>;

/**
 * What `execute()` needs, built from the execution settings. The node builds
 * one per process; so does the center, for accounts that have no node.
 */
export function createExecutionDeps(
  settings: ExecutionConfig,
  logger: Logger,
  parts: RuntimeParts = {},
  metrics?: ExecutionMetrics,
): ExecuteDeps & { traders: TraderPool; limiter: Limiter } {
  const pool = createTraderPool({
    catalog: parts.catalog ?? fullCatalog(),
    exchangeUrls: settings.exchange_urls,
    requestTimeoutMs: settings.exchange_timeout,
    maxInstances: settings.ccxt_cache_size,
    marketsTtlMs: settings.markets_ttl,
    paper: parts.paper ?? createPaperExchange(),
    onMarketsLoaded: (exchange, sandbox, ms) => {
      metrics?.marketsLoaded(exchange, 'ok', ms / 1000);
      logger.info({ exchange, sandbox, ms }, 'markets loaded');
    },
    onMarketsFailed: (exchange, sandbox, error) => {
      metrics?.marketsLoaded(exchange, 'error', undefined);
      logger.warn({ exchange, sandbox, code: error.code, reason: error.message }, 'markets failed to load');
    },
  });
  return {
    logger,
    traders: metrics ? timedTraders(pool, metrics) : pool,
    limiter: createLimiter(settings.execute_concurrency),
    accountTimeoutMs: settings.account_timeout,
    inFlight: new Map(),
  };
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
  };
  if (runtime.config.node_public_url) heartbeat.base_url = runtime.config.node_public_url;
  return heartbeat;
}
