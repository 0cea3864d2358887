import type { Context, Env, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { constantTimeEqual } from '../core/signing.js';
import { remoteAddress, type AuthEnv } from './center-auth.js';
import { HttpError } from './errors.js';
import type { IpAllowlist } from './ip-allowlist.js';
import type { LazyRegistry } from '../metrics/lazy-registry.js';

/**
 * `Authorization: Bearer <metrics_token>` for `GET /metrics`, so a scraper
 * holds a credential that can read figures and nothing else (the admin token
 * and the node secret can place orders). The caller's address is checked
 * against `allowlist` first. Refusals are the API's own 403 / 401 bodies.
 */
export function metricsTokenAuth<E extends AuthEnv>(token: string, allowlist: IpAllowlist): MiddlewareHandler<E> {
  return async (c, next) => {
    const refuse = (error: HttpError, reason: string) => {
      c.get('log').warn({ reason, remote: remoteAddress(c.env), path: c.req.path }, 'request refused');
      return error;
    };
    if (!allowlist.empty && !allowlist.allows(remoteAddress(c.env))) throw refuse(new HttpError(403, 'forbidden', 'forbidden'), 'caller address not in node_allowed_ips');
    const header = c.req.header('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!constantTimeEqual(token, given)) throw refuse(new HttpError(401, 'unauthorized', 'authentication required'), header ? 'bad metrics token' : 'no metrics token');
    return next();
  };
}

/** `GET /metrics`: the Prometheus text format. */
export function metricsHandler<E extends Env & { Variables: { log: Logger } }>(registry: LazyRegistry) {
  return async (c: Context<E>) => {
    const { contentType, text } = await registry.render();
    return c.body(text, 200, { 'content-type': contentType });
  };
}
