import { Hono, type Context } from 'hono';
import { LinearRouter } from 'hono/router/linear-router';
import type { GenericSchema, InferOutput } from 'valibot';
import { parseWith } from '../core/validation.js';
import { VERSION } from '../core/version.js';
import { ExecuteRequestSchema } from '../core/wire-execute.js';
import { QueryOrdersRequestSchema } from '../core/wire-query.js';
import { SyncRequestSchema } from '../core/wire-sync.js';
import { centerAuth } from '../http/center-auth.js';
import { execute } from '../execution/execute.js';
import type { HeartbeatStatus } from './heartbeat.js';
import type { NodeEnv } from './hono-env.js';
import { HttpError, answerErrorsAsJson, invalidRequest } from '../http/errors.js';
import type { IpAllowlist } from '../http/ip-allowlist.js';
import { httpMetrics } from '../http/http-metrics.js';
import { metricsHandler, metricsTokenAuth } from '../http/metrics-auth.js';
import { queryOrders } from '../execution/query-orders.js';
import { readJsonObject } from '../http/read-body.js';
import { hostPolicy, requestGuards } from '../http/request-guards.js';
import { requestId } from '../http/request-id.js';
import type { ReplayGuard } from '../http/replay-guard.js';
import type { NodeRuntime } from './runtime.js';
import { syncBalances, syncPositions } from '../execution/sync.js';

export interface NodeAppParts {
  runtime: NodeRuntime;
  allowlist: IpAllowlist;
  replay: ReplayGuard;
  heartbeat: () => HeartbeatStatus;
}


/**
 * The execution node's HTTP API (docs/design.md R5.1-R5.4): execute, query-orders,
 * sync-balance, sync-positions and health. Stateless: every request carries
 * the credentials it needs and nothing is written anywhere but the log.
 */
export function createNodeApp({ runtime, allowlist, replay, heartbeat }: NodeAppParts): Hono<NodeEnv> {
  const { config } = runtime;
  // A handful of fixed routes: LinearRouter matches them without the regular
  // expression the default router compiles on the first request, which is
  // part of the standalone node's time to its first /health.
  const app = new Hono<NodeEnv>({ router: new LinearRouter() });

  app.use('*', httpMetrics(runtime.metrics));
  app.use('*', requestId(runtime.logger));
  app.use('*', requestGuards(hostPolicy('allowed_hosts', config.allowed_hosts, [config.node_public_url, config.host])));

  app.get('/health', (c) => {
    const stats = runtime.traders.stats();
    return c.json({
      status: runtime.draining ? 'draining' : 'ok',
      version: VERSION,
      node_code: config.node_code ?? null,
      started_at: runtime.startedAt.toISOString(),
      uptime_seconds: Math.round((Date.now() - runtime.startedAt.getTime()) / 1000),
      in_flight: { requests: runtime.requests.inFlight, accounts: runtime.limiter.active, queued_accounts: runtime.limiter.queued },
      capacity: runtime.limiter.capacity,
      heartbeat: heartbeat(),
      markets: { loads: stats.market_loads, cached_instances: stats.cached_instances },
    });
  });

  const auth = {
    enabled: config.node_auth_enabled,
    secret: config.node_auth_secret,
    mode: config.node_auth_mode,
    allowlist,
    replay,
    maxBodyBytes: config.max_body_bytes,
    bodySetting: 'max_body_bytes',
    // Signed for this node, and not before this process started.
    nodeCode: () => config.node_code ?? '',
    notBefore: runtime.startedAt.getTime(),
  };

  // Outside /api/*: a scrape is neither work in flight nor refused while draining.
  // With metrics_token a scraper needs only that; without, what /api/* needs.
  app.get('/metrics', config.metrics_token ? metricsTokenAuth<NodeEnv>(config.metrics_token, allowlist) : centerAuth(auth), metricsHandler<NodeEnv>(runtime.metrics.registry));

  app.use('/api/*', async (c, next) => {
    if (runtime.draining) throw new HttpError(503, 'shutting_down', 'the node is shutting down; send this request to another node or retry later');
    return next();
  });
  // Authenticated before it counts as work in flight: a stranger's half-sent
  // request must not hold a graceful shutdown for the whole shutdown_grace.
  app.use('/api/*', centerAuth(auth));
  app.use('/api/*', async (_c, next) => {
    runtime.requests.inFlight++;
    try {
      await next();
    } finally {
      runtime.requests.inFlight--;
    }
  });

  async function parse<S extends GenericSchema>(c: Context<NodeEnv>, schema: S): Promise<InferOutput<S>> {
    const body = await readJsonObject(c, config.max_body_bytes, 'max_body_bytes');
    const accounts = body['accounts'];
    if (Array.isArray(accounts) && accounts.length > config.max_accounts_per_request) {
      throw new HttpError(400, 'too_many_accounts', `accounts: ${accounts.length} accounts in one request; this node accepts at most ${config.max_accounts_per_request} (max_accounts_per_request)`, [
        { field: 'accounts', message: `expected at most ${config.max_accounts_per_request} accounts` },
      ]);
    }
    const parsed = parseWith(schema, body);
    if (!parsed.ok) throw invalidRequest(parsed.issues);
    return parsed.value;
  }

  const nodeCode = config.node_code ?? null;

  const executeRoute = async (c: Context<NodeEnv>) => {
    const batch = await parse(c, ExecuteRequestSchema);
    const log = c.get('log');
    log.debug(
      { signal_id: batch.signal.signal_id, symbol: batch.signal.symbol, side: batch.signal.side, accounts: batch.accounts.length, attempt: batch.attempt, retry: batch.retry },
      'execute received',
    );
    const results = await execute(batch, { ...runtime, logger: log });
    const summary: Record<string, number> = {};
    for (const r of results) {
      summary[r.status] = (summary[r.status] ?? 0) + 1;
      runtime.metrics.accountExecuted(r.status);
      const problem = r.error ?? r.stop_loss_error ?? r.take_profit_error;
      const line = { signal_id: batch.signal.signal_id, account_id: r.account_id, client_order_id: r.client_order_id, status: r.status, order_id: r.order_id, latency_ms: r.latency_ms };
      if (problem) log.warn({ ...line, code: problem.code, reason: problem.message }, 'account not fully executed');
      else log.debug(line, 'account executed');
    }
    log.info(
      { signal_id: batch.signal.signal_id, symbol: batch.signal.symbol, side: batch.signal.side, attempt: batch.attempt, statuses: summary },
      'execute answered',
    );
    return c.json({ success: true as const, node_code: nodeCode, request_id: batch.request_id ?? c.get('requestId'), results });
  };
  app.post('/api/execute', executeRoute);
  app.post('/api/execute-batch', executeRoute);

  app.post('/api/query-orders', async (c) => {
    const batch = await parse(c, QueryOrdersRequestSchema);
    const results = await queryOrders(batch, { ...runtime, logger: c.get('log') });
    return c.json({ success: true as const, node_code: nodeCode, results });
  });

  app.post('/api/sync-balance', async (c) => {
    const batch = await parse(c, SyncRequestSchema);
    const results = await syncBalances(batch, { ...runtime, logger: c.get('log') });
    return c.json({ success: true as const, node_code: nodeCode, results });
  });

  app.post('/api/sync-positions', async (c) => {
    const batch = await parse(c, SyncRequestSchema);
    const results = await syncPositions(batch, { ...runtime, logger: c.get('log') });
    return c.json({ success: true as const, node_code: nodeCode, results });
  });

  // Domain code records exchange failures per account; anything else reaching
  // the error handler is a bug.
  answerErrorsAsJson(app, runtime.logger, 'node');

  return app;
}
