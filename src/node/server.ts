import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import { VERSION } from '../core/version.js';
import { preloadCcxt } from '../exchange/ccxt-module.js';
import { createNodeApp } from './app.js';
import { listenHost, type NodeConfig } from './config.js';
import { limitServer, REQUEST_TIMEOUT_MS, StartupError } from '../http/listen.js';
import { disabledHeartbeat, startHeartbeatLoop, type HeartbeatLoop } from './heartbeat.js';
import { createIpAllowlist } from '../http/ip-allowlist.js';
import { createReplayGuard } from '../http/replay-guard.js';
import { preloadMetrics } from './node-metrics.js';
import { createNodeRuntime, heartbeatOf, type NodeRuntime } from './runtime.js';
import { type RuntimeParts } from '../execution/execution-deps.js';

export interface RunningNode {
  /** e.g. `http://127.0.0.1:9101` */
  url: string;
  port: number;
  runtime: NodeRuntime;
  /**
   * Graceful stop: refuse new work, let in-flight requests finish within
   * `shutdown_grace`, then close every connection.
   */
  close(): Promise<void>;
}

/**
 * Starts `tradectl node serve`: the HTTP API, and the heartbeat loop when
 * `center_url` and `node_code` are both set.
 *
 * ```ts
 * const node = await startNodeServer(config, logger);
 * // … later, on SIGTERM:
 * await node.close();
 * ```
 */
export async function startNodeServer(config: NodeConfig, logger: Logger, parts: RuntimeParts = {}): Promise<RunningNode> {
  const { host, problem } = listenHost(config);
  if (problem) throw new StartupError(problem);

  let tls: { key: Buffer; cert: Buffer } | undefined;
  if (config.tls_cert && config.tls_key) {
    try {
      tls = { key: readFileSync(config.tls_key), cert: readFileSync(config.tls_cert) };
    } catch (error) {
      throw new StartupError(`cannot read tls_cert / tls_key: ${(error as Error).message}`);
    }
  }

  const runtime = createNodeRuntime(config, logger, parts);
  let loop: HeartbeatLoop | undefined;
  const heartbeat = () => loop?.status() ?? disabledHeartbeat(config.center_url, config.node_code, config.heartbeat_interval);
  const app = createNodeApp({
    runtime,
    allowlist: createIpAllowlist(config.node_allowed_ips),
    replay: createReplayGuard(),
    heartbeat,
  });

  // node:https only for TLS: a node on a private network need not load it at start.
  const server = (
    tls
      ? createAdaptorServer({ fetch: app.fetch, createServer: (await import('node:https')).createServer, serverOptions: tls })
      : createAdaptorServer({ fetch: app.fetch })
  ) as Server;
  limitServer(server, Math.max(REQUEST_TIMEOUT_MS, config.account_timeout + 30_000));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE' ? `port ${config.port} on ${host} is already in use`
        : error.code === 'EACCES' ? `no permission to listen on ${host}:${config.port}`
        : error.code === 'EADDRNOTAVAIL' ? `address ${host} is not available on this machine`
        : error.message;
      reject(new StartupError(reason));
    };
    server.once('error', onError);
    server.listen(config.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  // Serving first, ccxt next: the first order does not wait for it.
  preloadCcxt();
  // prom-client likewise (issue #5): observations made until then are replayed.
  preloadMetrics(runtime.metrics.registry);
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `${tls ? 'https' : 'http'}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${port}`;

  if (!config.node_auth_enabled) {
    logger.warn(
      { host },
      config.allow_unauthenticated
        ? 'node_auth_enabled is false and allow_unauthenticated is true: anyone who can reach this port can use this node'
        : 'node_auth_enabled is false: listening on loopback only; set node_auth_enabled and node_auth_secret to serve a center on another machine',
    );
  }
  if (config.node_auth_enabled && config.node_auth_mode === 'any' && !config.node_code) {
    logger.warn('node_code is not set: signed (HMAC) requests name the node they are for, so they are refused until node_code is the code the center registered this node under; X-Center-Token still works');
  }
  if (config.center_url && config.node_code) {
    loop = startHeartbeatLoop(
      {
        centerUrl: config.center_url,
        nodeCode: config.node_code,
        secret: config.node_auth_secret,
        mode: config.node_auth_mode === 'hmac' ? 'hmac' : 'token',
        timeoutMs: Math.min(10_000, config.heartbeat_interval),
      },
      config.heartbeat_interval,
      () => heartbeatOf(runtime, config.node_code as string),
      logger,
    );
  } else if (config.center_url || config.node_code) {
    logger.warn('heartbeat disabled: it needs both center_url and node_code');
  }
  logger.info(
    { url, host, port, version: VERSION, node_code: config.node_code ?? null, auth: config.node_auth_enabled ? config.node_auth_mode : 'off', tls: Boolean(tls) },
    'execution node listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      runtime.draining = true;
      loop?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + config.shutdown_grace;
      while (runtime.requests.inFlight > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        server.closeIdleConnections();
      }
      if (runtime.requests.inFlight > 0) {
        logger.warn({ in_flight: runtime.requests.inFlight }, 'shutdown_grace reached; closing with requests still in flight');
      }
      server.closeAllConnections();
      await closed;
      logger.info('execution node stopped');
    })());

  return { url, port, runtime, close };
}
