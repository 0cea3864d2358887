import { CENTER_SEED_ENV_KEYS, CenterConfigEntries, CenterConfigSchema, type CenterConfig } from '../center/config.js';
import { createCenterContext, openCenterDb, startCenter } from '../center/server.js';
import { connectRedis } from '../center/queue/redis-client.js';
import { startWorker } from '../center/queue/worker.js';
import { startWorkerMetrics, workerMetricsHost } from '../center/queue/worker-metrics.js';
import { redisUrlOf } from '../center/config.js';
import { NodeConfigEntries } from '../node/config.js';
import { StartupError } from '../http/listen.js';
import type { CenterFlags } from './center-commands.js';
import { ConfigError, loadConfig } from '../process/config-loader.js';
import { ExitError } from '../process/exit-error.js';
import { createLogger } from '../process/logger.js';
import { onShutdown } from '../node/commands.js';

const CENTER_KEYS = Object.keys(CenterConfigEntries);

const CENTER_SPEC = {
  schema: CenterConfigSchema,
  keys: CENTER_KEYS,
  seedEnvKeys: CENTER_SEED_ENV_KEYS,
  // Node-only keys in a shared file are not typos for the center.
  foreignKeys: Object.keys(NodeConfigEntries).filter((k) => !CENTER_KEYS.includes(k)),
};

export function loadCenterConfig(configPath: string | undefined, flags: Record<string, unknown>, env = process.env): CenterConfig {
  return loadConfig(CENTER_SPEC, { configPath, env, flags });
}

export async function serveCenter(flags: CenterFlags): Promise<void> {
  const config = loadCenterConfig(flags.config, { center_port: flags.port, center_host: flags.host, log_level: flags.logLevel, log_format: flags.logFormat });
  const logger = createLogger({ level: config.log_level, format: config.log_format });
  let center;
  try {
    center = await startCenter(config, logger);
  } catch (error) {
    if (error instanceof StartupError) throw new ExitError(`cannot start the center: ${error.message}`);
    throw error;
  }
  await onShutdown(() => center.close());
}

export async function migrateCenter(flags: CenterFlags): Promise<void> {
  const config = loadCenterConfig(flags.config, { log_level: flags.logLevel, log_format: flags.logFormat });
  const logger = createLogger({ level: config.log_level, format: config.log_format });
  try {
    const db = await openCenterDb(config, logger);
    process.stdout.write(`database ${db.describe} is up to date\n`);
    await db.close();
  } catch (error) {
    if (error instanceof StartupError) throw new ExitError(error.message);
    throw error;
  }
}

export async function runWorker(flags: CenterFlags & { concurrency?: string; metricsPort?: string }): Promise<void> {
  const config = loadCenterConfig(flags.config, { worker_concurrency: flags.concurrency, worker_metrics_port: flags.metricsPort, log_level: flags.logLevel, log_format: flags.logFormat });
  const metricsPort = config.worker_metrics_port;
  // A config mistake, told before the database is opened.
  const hostProblem = metricsPort === undefined ? undefined : workerMetricsHost(config).problem;
  if (hostProblem) throw new ConfigError([`worker_metrics_host: ${hostProblem}`]);
  const logger = createLogger({ level: config.log_level, format: config.log_format });
  if (!config.use_node_execution_queue) logger.warn('use_node_execution_queue is false: the center sends directly and this worker will find no jobs');
  const cannotStart = (error: unknown) => (error instanceof StartupError ? new ExitError(`cannot start the worker: ${error.message}`) : error);
  const ctx = await createCenterContext(config, logger, {}, 'worker').catch((error: unknown) => {
    throw cannotStart(error);
  });
  // Listening before the first job: a taken port stops the worker before it holds any.
  const metrics = metricsPort === undefined ? undefined : await startWorkerMetrics(ctx, metricsPort).catch(async (error: unknown) => {
    await ctx.db.close();
    throw cannotStart(error);
  });
  const url = redisUrlOf(config);
  const worker = startWorker(ctx, connectRedis(url, logger, 'tradectl-worker-read'), connectRedis(url, logger, 'tradectl-worker'), {
    concurrency: config.worker_concurrency,
    pollTimeoutMs: config.node_execute_poll_timeout,
    visibilityMs: config.queue_visibility_timeout,
    maxAttempts: config.queue_max_attempts,
  });
  const db = ctx.db;
  await onShutdown(async () => {
    await worker.stop();
    await metrics?.close();
    await db.close();
  });
}
