import { Hono, type MiddlewareHandler } from 'hono';
import { constantTimeEqual } from '../../core/signing.js';
import { VERSION } from '../../core/version.js';
import { HttpError, answerErrorsAsJson } from '../../http/errors.js';
import { centerAuth } from '../../http/center-auth.js';
import { createIpAllowlist } from '../../http/ip-allowlist.js';
import { createReplayGuard } from '../../http/replay-guard.js';
import { httpMetrics } from '../../http/http-metrics.js';
import { metricsHandler, metricsTokenAuth } from '../../http/metrics-auth.js';
import { requestId } from '../../http/request-id.js';
import { hostPolicy, requestGuards, type HostPolicy } from '../../http/request-guards.js';
import type { CenterContext } from '../context.js';
import { accountRoutes } from './accounts.js';
import { MAX_BODY, type CenterEnv } from './env.js';
import { nodeRoutes } from './nodes.js';
import { signalRoutes } from './signals.js';
import { strategyRoutes } from './strategies.js';
import { userRoutes } from './users.js';

const HEARTBEAT_PATH = /^\/api\/nodes\/[^/]+\/heartbeat$/;

/** The names the center (and a worker's metrics listener) answers to, besides IP addresses and localhost. */
export function centerHostPolicy(config: CenterContext['config']): HostPolicy {
  return hostPolicy('center_allowed_hosts', config.center_allowed_hosts, [config.center_host, config.worker_metrics_host]);
}

/** `Authorization: Bearer <center_api_token>` on the admin API; open (loopback only) without a token. */
function adminAuth(token: string | undefined): MiddlewareHandler<CenterEnv> {
  return async (c, next) => {
    if (!token || HEARTBEAT_PATH.test(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!constantTimeEqual(token, given)) {
      c.get('log').warn({ path: c.req.path, reason: header ? 'bad token' : 'no token' }, 'admin request refused');
      throw new HttpError(401, 'unauthorized', 'authentication required');
    }
    return next();
  };
}

/**
 * `GET /metrics`, on the center and on a worker's metrics listener: with
 * metrics_token a scraper needs only that; without, the admin token as for
 * /api/* (and none at all when there is none: such a listener binds loopback
 * only, see `guardedHost`).
 */
export function metricsRoute(app: Hono<CenterEnv>, ctx: Pick<CenterContext, 'config' | 'metrics'>): void {
  const token = ctx.config.metrics_token;
  app.get('/metrics', token ? metricsTokenAuth<CenterEnv>(token, createIpAllowlist([])) : adminAuth(ctx.config.center_api_token), metricsHandler<CenterEnv>(ctx.metrics.registry));
}

/**
 * The center's data API (Hono): nodes, accounts, users, strategies,
 * signals, sync; every input validated, every refusal a JSON 4xx.
 */
export function createCenterApp(ctx: CenterContext): Hono<CenterEnv> {
  const app = new Hono<CenterEnv>();
  const startedAt = Date.now();
  app.use('*', httpMetrics(ctx.metrics));
  app.use('*', requestId(ctx.logger));
  app.use('*', requestGuards(centerHostPolicy(ctx.config)));
  metricsRoute(app, ctx);

  app.get('/health', async (c) => {
    await ctx.db.kysely.selectFrom('dim_profit_pool').select('id').executeTakeFirst();
    return c.json({ status: 'ok', version: VERSION, database: ctx.db.dialect, background: ctx.background.size });
  });

  app.use('/api/*', adminAuth(ctx.config.center_api_token));
  // Heartbeats prove they come from a node holding `node_auth_secret` (docs/design.md
  // R5.3, R5.4), checked exactly as a node checks the center.
  app.use(
    '/api/nodes/:code/heartbeat',
    centerAuth<CenterEnv>({
      enabled: Boolean(ctx.config.node_auth_secret),
      secret: ctx.config.node_auth_secret,
      mode: ctx.config.node_auth_mode,
      allowlist: createIpAllowlist([]),
      replay: createReplayGuard(),
      maxBodyBytes: MAX_BODY,
      // A heartbeat is signed by the node it is from: the code in its path.
      nodeCode: (c) => c.req.param('code') ?? '',
      notBefore: startedAt,
    }),
  );
  nodeRoutes(app, ctx);
  accountRoutes(app, ctx);
  userRoutes(app, ctx);
  strategyRoutes(app, ctx);
  signalRoutes(app, ctx);

  answerErrorsAsJson(app, ctx.logger, 'center');
  return app;
}
