import { loadNodeConfig } from '../src/node/commands.js';
import { createLogger } from '../src/process/logger.js';
import { startNodeServer, type RunningNode } from '../src/node/server.js';

/**
 * One process hosting several execution nodes for the fan-out bench's
 * "one process per few nodes" topology: each node is the same server
 * `tradectl node serve` starts (own port, runtime, trader pool, market
 * cache), configured from the same TRADECTL_* environment. On a 2-core box
 * twenty V8 processes compete for the CPU in a way twenty machines would
 * not; a few hosts match the floor's process count instead.
 *
 * argv: how many nodes. Prints one JSON line per node, {"hosted_node_url": …}; stops
 * every node on SIGTERM.
 */
const count = Number(process.argv[2]);
if (!Number.isInteger(count) || count < 1) throw new Error('usage: node-host.ts <nodes>');

// Logs as a `tradectl node serve` with the same settings would (the bench uses info).
const settings = loadNodeConfig(undefined, { port: 0 });
const logger = createLogger({ level: settings.log_level, format: settings.log_format });
const nodes: RunningNode[] = [];
for (let i = 0; i < count; i++) {
  const node = await startNodeServer(loadNodeConfig(undefined, { port: 0 }), logger);
  nodes.push(node);
  process.stdout.write(`${JSON.stringify({ hosted_node_url: node.url })}\n`);
}
process.once('SIGTERM', () => {
  void Promise.all(nodes.map((n) => n.close())).then(() => process.exit(0));
});
