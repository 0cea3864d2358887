import { StartupError } from '../../http/listen.js';
import { createWorkerApp } from '../api/worker-app.js';
import type { CenterConfig } from '../config.js';
import type { CenterContext } from '../context.js';
import { guardedHost, listenHttp } from '../server.js';

export interface WorkerMetricsListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Where a worker's `/metrics` listens: `worker_metrics_host`, else loopback.
 * Without metrics_token or center_api_token it is open, so loopback only.
 */
export function workerMetricsHost(config: CenterConfig): { host: string; problem?: string } {
  return guardedHost(
    config.worker_metrics_host ?? '127.0.0.1',
    config.metrics_token ?? config.center_api_token,
    "metrics_token or center_api_token: anyone who can reach the worker's metrics port could read it; set metrics_token (at least 16 characters), or leave worker_metrics_host at 127.0.0.1",
  );
}

/**
 * `center worker --metrics-port`: serves the worker's own figures (stage
 * histograms, node-call timings, jobs) at `GET /metrics`, which in queue mode
 * are recorded here and not in the center.
 *
 * ```ts
 * const ctx = await createCenterContext(config, logger, {}, 'worker');
 * const metrics = await startWorkerMetrics(ctx, config.worker_metrics_port ?? 0);
 * // … scrape metrics.url + '/metrics'; on SIGTERM:
 * await metrics.close();
 * ```
 */
export async function startWorkerMetrics(ctx: Pick<CenterContext, 'config' | 'metrics' | 'logger'>, port: number): Promise<WorkerMetricsListener> {
  const { host, problem } = workerMetricsHost(ctx.config);
  if (problem) throw new StartupError(problem);
  await ctx.metrics.registry.load();
  const { server, port: bound, url } = await listenHttp(createWorkerApp(ctx).fetch, port, host);
  const auth = ctx.config.metrics_token ? 'metrics_token' : ctx.config.center_api_token ? 'center_api_token' : 'off';
  if (auth === 'off') ctx.logger.warn({ host }, 'neither metrics_token nor center_api_token is set: worker /metrics is open, so it listens on loopback only');
  ctx.logger.info({ url, auth }, 'worker metrics listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper keeps its connection alive between scrapes; it must not hold the exit.
        server.closeAllConnections();
      })),
  };
}

