import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RequestErrorCode } from '../core/error-codes.js';
import type { FieldIssue } from '../core/validation.js';

/**
 * A request the node refuses, with the JSON error the caller sees. Thrown
 * anywhere in a route; `app.onError` turns it into the response.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: RequestErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function invalidRequest(issues: FieldIssue[]): HttpError {
  const first = issues[0];
  const message = first ? `${first.field}: ${first.message}` : 'invalid request';
  return new HttpError(400, 'invalid_request', issues.length > 1 ? `${message} (and ${issues.length - 1} more)` : message, issues);
}

export function errorResponse(c: Context, error: HttpError): Response {
  const first = error.issues?.[0];
  return c.json(
    {
      success: false,
      error: {
        code: error.code,
        message: error.message,
        ...(first ? { field: first.field, issues: error.issues } : {}),
      },
    },
    error.status,
  );
}

/**
 * The one place HTTP errors become responses (node and center): refusals as
 * their JSON error, unknown routes as a JSON 404, anything else (a bug) as a
 * plain 500 while the log gets the stack.
 */
export function answerErrorsAsJson<E extends { Variables: { log: Logger } }>(app: Hono<E>, logger: Logger, role: 'node' | 'center' | 'worker'): void {
  app.notFound((c) => c.json({ success: false, error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) return errorResponse(c, error);
    ((c.get('log') as Logger | undefined) ?? logger).error({ err: error }, 'unhandled error');
    return errorResponse(c, new HttpError(500, 'internal_error', `internal error; see the ${role} log`));
  });
}
