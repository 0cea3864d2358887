import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import { VERSION } from '../core/version.js';
import { preloadCcxt } from '../exchange/ccxt-module.js';
import { isLoopbackHost } from '../http/listen.js';
import { createExecutionDeps, type RuntimeParts } from '../execution/execution-deps.js';
import { limitServer, StartupError } from '../http/listen.js';
import { createCenterApp } from './api/app.js';
import { dataDirOf, dbTargetOf, redisUrlOf, type CenterConfig } from './config.js';
import { inBackground, waitForBackground, type CenterContext } from './context.js';
import { createSecretBox, loadMasterKey, MasterKeyError } from './crypto/secret-box.js';
import { openDb, type Db } from './db/connect.js';
import { migrateToLatest } from './db/migrations.js';
import { createNodeClient } from './transport/node-client.js';
import { reconcileOnce, startReconciler } from './dispatch/reconciler.js';
import { connectRedis } from './queue/redis-client.js';
import { createQueueMode } from './queue/queue-mode.js';
import { seedNodesFromConfig } from './nodes.js';
import { createCenterMetrics, timedNodeClient } from './metrics.js';

export interface RunningCenter {
  url: string;
  port: number;
  ctx: CenterContext;
  server: Server;
  close(): Promise<void>;
}

/** Opens and migrates the database the config points at. */
export async function openCenterDb(config: CenterConfig, logger: Logger): Promise<Db> {
  const target = dbTargetOf(config);
  let db: Db;
  try {
    db = await openDb(target);
    const report = await migrateToLatest(db.kysely, db.dialect);
    if (report.applied.length > 0) logger.info({ database: db.describe, applied: report.applied }, 'database migrated');
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw new StartupError(`cannot open the database (${target.dialect === 'mysql' ? 'mysql' : target.location}): ${e.code ? `${e.code} ` : ''}${e.message ?? String(error)}`);
  }
  return db;
}

/**
 * Everything but the HTTP listener: for `center serve`, the demo and tests.
 * A `worker` context records metrics without the database and queue series
 * (see `createCenterMetrics`).
 */
export async function createCenterContext(config: CenterConfig, logger: Logger, parts: RuntimeParts = {}, role: 'center' | 'worker' = 'center'): Promise<CenterContext> {
  // The key is checked before the database is opened, so a missing key is said without a connection or a migration first.
  let key;
  try {
    key = loadMasterKey({ key: config.master_key, file: config.master_key_file, generateAt: dbTargetOf(config).dialect === 'sqlite' ? `${dataDirOf(config)}/master.key` : undefined });
  } catch (error) {
    throw new StartupError(error instanceof MasterKeyError ? error.message : String(error));
  }
  const db = await openCenterDb(config, logger);
  if (key.generated) {
    logger.warn({ file: key.generated }, 'generated a new master key for exchange credentials (mode 0600); back it up and keep it out of the database backups, or the stored credentials cannot be read');
  }
  // The queue is attached after the context exists (startCenter, queue mode).
  let queueOf: () => CenterContext['queue'] = () => undefined;
  const metrics = createCenterMetrics(role === 'center' ? { db, heartbeatTimeoutMs: config.node_heartbeat_timeout, queue: () => queueOf() } : undefined);
  const ctx: CenterContext = {
    config,
    db,
    box: createSecretBox(key.key),
    logger,
    local: createExecutionDeps(config, logger, parts),
    nodes: timedNodeClient(createNodeClient({ secret: config.node_auth_secret, mode: config.node_auth_mode, timeoutMs: config.node_request_timeout }), metrics),
    rules: { feeRate: config.fee_rate, referralShares: config.referral_shares },
    delivery: 'direct',
    background: new Set(),
    metrics,
  };
  queueOf = () => ctx.queue;
  await seedNodesFromConfig(ctx);
  return ctx;
}

/**
 * A center listener without a token to guard it binds loopback only:
 * `problem` says why another address is refused, after `without …`.
 * The data API and a worker's `/metrics` both go through here.
 */
export function guardedHost(host: string, token: string | undefined, refusal: string): { host: string; problem?: string } {
  return !token && !isLoopbackHost(host) ? { host, problem: `refusing to listen on ${host} without ${refusal}` } : { host };
}

export function centerHost(config: CenterConfig): { host: string; problem?: string } {
  const host = config.center_host ?? (config.center_api_token ? '0.0.0.0' : '127.0.0.1');
  const guarded = guardedHost(host, config.center_api_token, 'center_api_token: the data API creates accounts and places orders; set center_api_token (at least 16 characters)');
  if (guarded.problem) return guarded;
  // The node rule for node_auth_enabled, for the heartbeat: unauthenticated,
  // anyone who can reach the port keeps a dead node "online" and its
  // accounts' orders go to it instead of failing over (fallback_to_local).
  return guardedHost(host, config.node_auth_secret, 'node_auth_secret: without it node heartbeats are unauthenticated and anyone could keep a dead node online; set node_auth_secret (at least 16 characters, the same on every node)');
}

export interface Listening {
  server: Server;
  port: number;
  /** Where to reach it from this machine (loopback for a wildcard address). */
  url: string;
}

/** An HTTP listener for a Hono `fetch`; a taken port or a bad address is a `StartupError`. */
export async function listenHttp(fetch: (request: Request) => Response | Promise<Response>, port: number, host: string): Promise<Listening> {
  const server = createAdaptorServer({ fetch }) as Server;
  limitServer(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new StartupError(error.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : error.message));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return { server, port: bound, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${bound}` };
}

/**
 * `tradectl center serve`: the data API, signal dispatch and the reconciler,
 * on MySQL or the embedded SQLite file.
 */
export async function startCenter(config: CenterConfig, logger: Logger, parts: RuntimeParts = {}): Promise<RunningCenter> {
  const { host, problem } = centerHost(config);
  if (problem) throw new StartupError(problem);
  const ctx = await createCenterContext(config, logger, parts);
  if (config.use_node_execution_queue) {
    // Redis may be down now: the center still starts and sends directly until it is back.
    ctx.queue = createQueueMode(connectRedis(redisUrlOf(config), logger, 'tradectl-center'), config.node_execute_queue ?? 'node-execute');
    ctx.delivery = 'queue';
  }
  // The center has no start-up budget to keep (the node does): prom-client now.
  await ctx.metrics.registry.load();
  const app = createCenterApp(ctx);
  const { server, port, url } = await listenHttp(app.fetch, config.center_port, host).catch(async (error: unknown) => {
    ctx.queue?.redis.disconnect();
    await ctx.db.close();
    throw error;
  });
  preloadCcxt();
  if (!config.center_api_token) logger.warn({ host }, 'center_api_token is not set: the data API is open, so the center listens on loopback only');
  const reconciler = startReconciler(ctx);
  // Orders an earlier run left pending or unknown are looked at right away.
  void inBackground(ctx, 'startup reconcile', () => reconcileOnce(ctx));
  logger.info({ url, version: VERSION, database: ctx.db.describe, auth: config.center_api_token ? 'token' : 'off', queue: config.use_node_execution_queue ? config.node_execute_queue : 'off' }, 'center listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = new Promise((resolve) => setTimeout(resolve, config.shutdown_grace).unref());
      await Promise.race([waitForBackground(ctx), grace]);
      await reconciler.stop();
      server.closeAllConnections();
      await closed;
      ctx.queue?.redis.disconnect();
      await ctx.db.close();
      logger.info('center stopped');
    })());
  return { url, port, ctx, server, close };
}
