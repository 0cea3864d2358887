import type { Context, Env, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';

export interface HttpMetrics {
  /** `route` is the route pattern (`/api/execute`), never the raw path. */
  request(method: string, route: string, status: number, seconds: number): void;
}

/**
 * The route pattern that answered (`/api/nodes/:code`), so a label never
 * holds a raw path: ids and unknown paths would make a series each.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    // `app.use()` middleware is registered for ALL methods; the handler is not.
    if (route && route.method !== 'ALL') return route.path;
  }
  return 'unmatched';
}

/** Counts and times every request by method, route pattern and status. */
export function httpMetrics<E extends Env>(metrics: HttpMetrics): MiddlewareHandler<E> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.request(c.req.method, routeLabel(c), c.res.status, (performance.now() - started) / 1000);
    }
  };
}
