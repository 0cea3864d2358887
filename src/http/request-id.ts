import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '../core/signing.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface LogEnv {
  Variables: { requestId: string; log: Logger };
}

/**
 * Takes the caller's `X-Request-Id` (when it is a sane token) or makes one,
 * echoes it, and gives the request a child logger that carries it, so the
 * center's and the node's lines for one job share an id.
 */
export function requestId<E extends LogEnv>(logger: Logger): MiddlewareHandler<E> {
  return async (c, next) => {
    const given = c.req.header(REQUEST_ID_HEADER);
    const id = given && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.set('log', logger.child({ request_id: id }));
    c.header(REQUEST_ID_HEADER, id);
    await next();
  };
}
