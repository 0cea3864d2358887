import type { Command } from 'commander';

export interface CenterFlags {
  config?: string;
  port?: string;
  host?: string;
  logLevel?: string;
  logFormat?: string;
}

const withCommon = (command: Command) =>
  command
    .option('--config <file>', 'YAML config file (default: config/default.yaml when present)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
    .option('--log-format <format>', 'json, pretty or auto (pretty on a terminal)');

/**
 * `tradectl center …` and `tradectl demo`. The actions import the center
 * (database drivers, Kysely) only when run, so `tradectl node …` never loads
 * them.
 */
export function registerCenterCommands(program: Command): void {
  const center = program.command('center').description('run the center: database, data API, dispatch, settlement');

  withCommon(center.command('serve').description('serve the data API, dispatch signals to nodes and reconcile unconfirmed orders'))
    .option('--port <port>', 'TCP port (center_port, default 8080)')
    .option('--host <host>', 'address (center_host; default 127.0.0.1 without center_api_token)')
    .action(async (flags: CenterFlags) => (await import('./center-actions.js')).serveCenter(flags));

  withCommon(center.command('worker').description('take node jobs from the Redis queue (use_node_execution_queue), send them to the nodes and apply the results'))
    .option('--concurrency <n>', 'jobs handled at once (worker_concurrency, default 8)')
    .option('--metrics-port <port>', 'serve GET /metrics on this port (worker_metrics_port; default off, 0 picks a free port)')
    .action(async (flags: CenterFlags & { concurrency?: string; metricsPort?: string }) => (await import('./center-actions.js')).runWorker(flags));

  withCommon(center.command('migrate').description('create or upgrade the database schema and exit')).action(async (flags: CenterFlags) =>
    (await import('./center-actions.js')).migrateCenter(flags),
  );

  program
    .command('demo')
    .description('run a center, two nodes and the paper exchange in one process, fire a signal, print the results and exit')
    .option('--keep', 'keep running after the demo (Ctrl-C stops)')
    .action(async (flags: { keep?: boolean }) => (await import('./demo.js')).runDemo(flags));
}
