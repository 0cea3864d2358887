import type { Command } from 'commander';
import { CENTER_CONFIG_KEYS } from '../core/config-keys.js';
import { VERSION } from '../core/version.js';
import { NODE_SEED_ENV_KEYS, NodeConfigEntries, NodeConfigSchema, type NodeConfig } from './config.js';
import { sendHeartbeat, startHeartbeatLoop } from './heartbeat.js';
import { createNodeRuntime, heartbeatOf } from './runtime.js';
import { startNodeServer } from './server.js';
import { StartupError } from '../http/listen.js';
import type { RuntimeParts } from '../execution/execution-deps.js';
import { loadConfig } from '../process/config-loader.js';
import { ExitError } from '../process/exit-error.js';
import { createLogger } from '../process/logger.js';

const NODE_SPEC = {
  schema: NodeConfigSchema,
  keys: Object.keys(NodeConfigEntries),
  seedEnvKeys: NODE_SEED_ENV_KEYS,
  foreignKeys: CENTER_CONFIG_KEYS,
};

export function loadNodeConfig(configPath: string | undefined, flags: Record<string, unknown>, env = process.env): NodeConfig {
  return loadConfig(NODE_SPEC, { configPath, env, flags });
}

interface ServeFlags {
  config?: string;
  port?: string;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
  logFormat?: string;
}

interface HeartbeatFlags {
  config?: string;
  centerUrl?: string;
  nodeCode?: string;
  watch?: boolean;
  logLevel?: string;
  logFormat?: string;
}

/** Waits for SIGTERM / SIGINT, then runs `stop` once. */
export function onShutdown(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const handler = () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      stop().then(resolve, reject);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

/**
 * `serve` and `heartbeat` under `parent`: `tradectl node …` in the full CLI,
 * top-level commands of the standalone executable. One definition, so both
 * behave the same.
 */
export function registerNodeCommands(node: Command, parts: RuntimeParts = {}): void {
  node
    .command('serve')
    .description('serve the execution API (POST /api/execute, /api/query-orders, /api/sync-balance, /api/sync-positions, GET /health)')
    .option('--config <file>', 'YAML config file (default: config/default.yaml when present)')
    .option('--port <port>', 'TCP port (default 9101)')
    .option('--host <host>', 'address to listen on (default 0.0.0.0 with auth, 127.0.0.1 without)')
    .option('--tls-cert <file>', 'TLS certificate (PEM); serve HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
    .option('--log-format <format>', 'json, pretty or auto (pretty on a terminal)')
    .action(async (flags: ServeFlags) => {
      const config = loadNodeConfig(flags.config, {
        port: flags.port,
        host: flags.host,
        tls_cert: flags.tlsCert,
        tls_key: flags.tlsKey,
        log_level: flags.logLevel,
        log_format: flags.logFormat,
      });
      const logger = createLogger({ level: config.log_level, format: config.log_format });
      let running;
      try {
        running = await startNodeServer(config, logger, parts);
      } catch (error) {
        if (error instanceof StartupError) throw new ExitError(`cannot start the node: ${error.message}`);
        throw error;
      }
      await onShutdown(() => running.close());
    });

  node
    .command('heartbeat')
    .description("send a heartbeat to the center and say whether it was accepted (exit 0) or why not (exit 1)")
    .option('--config <file>', 'YAML config file (default: config/default.yaml when present)')
    .option('--center-url <url>', 'the center data-API URL (center_url)')
    .option('--node-code <code>', 'this node\'s code as registered on the center (node_code)')
    .option('--watch', 'keep sending every heartbeat_interval until stopped')
    .option('--log-level <level>', 'log level with --watch')
    .option('--log-format <format>', 'json, pretty or auto')
    .action(async (flags: HeartbeatFlags) => {
      const config = loadNodeConfig(flags.config, {
        center_url: flags.centerUrl,
        node_code: flags.nodeCode,
        log_level: flags.logLevel,
        log_format: flags.logFormat,
      });
      if (!config.center_url || !config.node_code) {
        throw new ExitError('a heartbeat needs center_url and node_code (config, TRADECTL_CENTER_URL / TRADECTL_NODE_CODE, or --center-url / --node-code)');
      }
      const target = {
        centerUrl: config.center_url,
        nodeCode: config.node_code,
        secret: config.node_auth_secret,
        mode: config.node_auth_mode === 'hmac' ? ('hmac' as const) : ('token' as const),
        timeoutMs: 10_000,
      };
      const logger = createLogger({ level: config.log_level, format: config.log_format });
      const runtime = createNodeRuntime(config, logger, parts);
      const snapshot = () => heartbeatOf(runtime, target.nodeCode);
      if (flags.watch) {
        const loop = startHeartbeatLoop(target, config.heartbeat_interval, snapshot, logger);
        await onShutdown(async () => loop.stop());
        return;
      }
      const outcome = await sendHeartbeat(target, snapshot());
      if (!outcome.ok) throw new ExitError(`heartbeat not accepted: ${outcome.reason}`);
      process.stdout.write(`heartbeat accepted by ${config.center_url} for node ${config.node_code} (HTTP ${outcome.status}, tradectl ${VERSION})\n`);
    });
}
