import { Hono } from 'hono';
import { VERSION } from '../../core/version.js';
import { answerErrorsAsJson } from '../../http/errors.js';
import { requestId } from '../../http/request-id.js';
import { requestGuards } from '../../http/request-guards.js';
import type { CenterContext } from '../context.js';
import { centerHostPolicy, metricsRoute } from './app.js';
import type { CenterEnv } from './env.js';

/**
 * A `center worker`'s metrics listener: `GET /metrics` under the center's
 * own rule (`metricsRoute`) and an open `GET /health`; nothing else, so the
 * port can be opened to a scraper without opening the data API.
 */
export function createWorkerApp(ctx: Pick<CenterContext, 'config' | 'metrics' | 'logger'>): Hono<CenterEnv> {
  const app = new Hono<CenterEnv>();
  app.use('*', requestId(ctx.logger));
  app.use('*', requestGuards(centerHostPolicy(ctx.config)));
  metricsRoute(app, ctx);
  app.get('/health', (c) => c.json({ status: 'ok', version: VERSION, role: 'worker' }));
  answerErrorsAsJson(app, ctx.logger, 'worker');
  return app;
}
