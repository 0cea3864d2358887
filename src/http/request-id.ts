import type { MiddlewareHandler } from 'hono';
import { requestId as assignRequestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '../core/signing.js';

/** The longest caller-given id kept: `fact_signal.request_id` holds 128 characters. */
export const MAX_REQUEST_ID_LENGTH = 128;

interface LogEnv {
  Variables: { requestId: string; log: Logger };
}

/**
 * Hono's request-id middleware (the caller's `X-Request-Id` when it is a
 * short token of letters, digits, `_`, `-` and `=`, else a new UUID, echoed
 * back), plus a child logger that carries the id, so the center's and the
 * node's lines for one job share it.
 */
export function requestId<E extends LogEnv>(logger: Logger): MiddlewareHandler<E> {
  const assign = assignRequestId({ headerName: REQUEST_ID_HEADER, limitLength: MAX_REQUEST_ID_LENGTH });
  return (c, next) =>
    assign(c, async () => {
      c.set('log', logger.child({ request_id: c.get('requestId') }));
      await next();
    });
}
