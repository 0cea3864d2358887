import { randomUUID } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { REQUEST_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER, TOKEN_HEADER, constantTimeEqual, verifySignature } from '../../core/signing.js';
import { VERSION } from '../../core/version.js';
import { HttpError, errorResponse } from '../../node/http-errors.js';
import { readBody } from '../../node/read-body.js';
import { createReplayGuard } from '../../node/replay-guard.js';
import type { CenterContext } from '../context.js';
import { accountRoutes } from './accounts.js';
import { MAX_BODY, type CenterEnv } from './env.js';
import { nodeRoutes } from './nodes.js';
import { signalRoutes } from './signals.js';
import { strategyRoutes } from './strategies.js';
import { userRoutes } from './users.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const HEARTBEAT_PATH = /^\/api\/nodes\/[^/]+\/heartbeat$/;

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

/** Heartbeats prove they come from a node with `node_auth_secret` (seed §5.3, §5.4). */
function heartbeatAuth(ctx: CenterContext): MiddlewareHandler<CenterEnv> {
  const replay = createReplayGuard();
  const secret = ctx.config.node_auth_secret;
  const mode = ctx.config.node_auth_mode;
  return async (c, next) => {
    if (!secret) return next();
    const refuse = (reason: string) => {
      c.get('log').warn({ path: c.req.path, reason }, 'heartbeat refused');
      return new HttpError(401, 'unauthorized', 'authentication required');
    };
    const signature = c.req.header(SIGNATURE_HEADER);
    const timestamp = c.req.header(TIMESTAMP_HEADER);
    if (signature || timestamp) {
      if (mode === 'token') throw refuse('signature sent but node_auth_mode is token');
      if (!signature || !timestamp || !/^\d{1,16}$/.test(timestamp) || !/^[0-9a-fA-F]{64}$/.test(signature)) throw refuse('malformed signature headers');
      const sentAt = Number(timestamp);
      const now = Date.now();
      if (Math.abs(now - sentAt) > SIGNATURE_WINDOW_MS) throw refuse('signature timestamp outside the 5-minute window');
      const url = new URL(c.req.url);
      const body = await readBody(c, MAX_BODY);
      if (!verifySignature(secret, { timestamp, method: c.req.method, path: url.pathname + url.search, body }, signature)) throw refuse('bad signature');
      if (!replay.firstUse(signature.toLowerCase(), sentAt + SIGNATURE_WINDOW_MS, now)) throw refuse('signature replayed');
      return next();
    }
    const token = c.req.header(TOKEN_HEADER);
    if (token === undefined) throw refuse('no credentials');
    if (mode === 'hmac') throw refuse('token sent but node_auth_mode is hmac');
    if (!constantTimeEqual(secret, token)) throw refuse('bad token');
    return next();
  };
}

/**
 * The center's data API (Hono): nodes, accounts, users, strategies,
 * signals, sync; every input validated, every refusal a JSON 4xx.
 */
export function createCenterApp(ctx: CenterContext): Hono<CenterEnv> {
  const app = new Hono<CenterEnv>();
  app.use('*', async (c, next) => {
    const given = c.req.header(REQUEST_ID_HEADER);
    const requestId = given && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.set('log', ctx.logger.child({ request_id: requestId }));
    c.header(REQUEST_ID_HEADER, requestId);
    await next();
  });

  app.get('/health', async (c) => {
    await ctx.db.kysely.selectFrom('dim_profit_pool').select('id').executeTakeFirst();
    return c.json({ status: 'ok', version: VERSION, database: ctx.db.dialect, background: ctx.background.size });
  });

  app.use('/api/*', adminAuth(ctx.config.center_api_token));
  app.use('/api/nodes/:code/heartbeat', heartbeatAuth(ctx));
  nodeRoutes(app, ctx);
  accountRoutes(app, ctx);
  userRoutes(app, ctx);
  strategyRoutes(app, ctx);
  signalRoutes(app, ctx);

  app.notFound((c) => c.json({ success: false, error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) return errorResponse(c, error);
    (c.get('log') ?? ctx.logger).error({ err: error }, 'unhandled error');
    return errorResponse(c, new HttpError(500, 'internal_error', 'internal error; see the center log'));
  });
  return app;
}
