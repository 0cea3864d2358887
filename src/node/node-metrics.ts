import { createLazyRegistry, LATENCY_BUCKETS, type LazyRegistry } from '../metrics/lazy-registry.js';
import type { ExecutionMetrics } from '../execution/timed-traders.js';
import type { HttpMetrics } from '../http/http-metrics.js';

export interface NodeMetrics extends ExecutionMetrics, HttpMetrics {
  registry: LazyRegistry;
  accountExecuted(status: string): void;
}

/** What the node's gauges read when scraped. */
export interface NodeGaugeSources {
  requestsInFlight(): number;
  accountsActive(): number;
  accountsQueued(): number;
  cachedInstances(): number;
}

/**
 * The execution node's metrics (`GET /metrics`, names `tradectl_node_*`),
 * recorded into a lazy registry: prom-client is loaded after the node
 * listens (see `preloadMetrics`), never before.
 */
export function createNodeMetrics(sources: NodeGaugeSources, registry: LazyRegistry = createLazyRegistry()): NodeMetrics {
  const requests = registry.counter({ name: 'tradectl_node_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['method', 'route', 'status'] });
  const duration = registry.histogram({ name: 'tradectl_node_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route pattern', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS });
  const accounts = registry.counter({ name: 'tradectl_node_accounts_executed_total', help: 'Accounts answered by /api/execute, by result status', labelNames: ['status'] });
  const calls = registry.histogram({ name: 'tradectl_node_exchange_call_duration_seconds', help: 'Exchange calls made through ccxt (or the paper exchange), by call and outcome', labelNames: ['exchange', 'call', 'outcome'], buckets: LATENCY_BUCKETS });
  const loads = registry.counter({ name: 'tradectl_node_market_loads_total', help: 'Market-metadata loads, by exchange and outcome (goal: one per exchange per process)', labelNames: ['exchange', 'outcome'] });
  const loadTime = registry.histogram({ name: 'tradectl_node_market_load_seconds', help: 'Time to load an exchange\'s markets', labelNames: ['exchange'], buckets: LATENCY_BUCKETS });
  registry.gauge({ name: 'tradectl_node_http_requests_in_flight', help: 'HTTP requests to /api/* being handled', read: () => [[{}, sources.requestsInFlight()]] });
  registry.gauge({ name: 'tradectl_node_accounts_in_flight', help: 'Accounts executing now, and accounts waiting for execute_concurrency', labelNames: ['state'], read: () => [[{ state: 'active' }, sources.accountsActive()], [{ state: 'queued' }, sources.accountsQueued()]] });
  registry.gauge({ name: 'tradectl_node_ccxt_instances', help: 'Cached exchange instances (one per account credentials)', read: () => [[{}, sources.cachedInstances()]] });
  return {
    registry,
    request: (method, route, status, seconds) => {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    accountExecuted: (status) => accounts.inc({ status }),
    exchangeCall: (exchange, call, outcome, seconds) => calls.observe({ exchange, call, outcome }, seconds),
    marketsLoaded: (exchange, outcome, seconds) => {
      loads.inc({ exchange, outcome });
      if (seconds !== undefined) loadTime.observe({ exchange }, seconds);
    },
  };
}

/**
 * Loads prom-client soon after the node listens, like `preloadCcxt`: not at
 * once, since evaluating it blocks the event loop for tens of milliseconds
 * and would hold up the first health checks (issue #5). A scrape before then
 * loads it itself.
 */
export function preloadMetrics(registry: LazyRegistry, afterMs = 1000): void {
  setTimeout(() => void registry.load().catch(() => undefined), afterMs).unref();
}
