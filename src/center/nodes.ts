import type { NodeRow } from './db/schema.js';
import type { CenterContext } from './context.js';

/**
 * A node receives work only when enabled (status 1) and its last heartbeat
 * is fresher than `node_heartbeat_timeout` (docs/design.md R3.1).
 */
export function nodeAvailability(node: Pick<NodeRow, 'status' | 'last_heartbeat_at'>, now: number, timeoutMs: number): { online: boolean; reason?: string } {
  if (node.status !== 1) return { online: false, reason: 'node is disabled (status 0)' };
  if (node.last_heartbeat_at === null) return { online: false, reason: 'node has never sent a heartbeat' };
  const age = now - node.last_heartbeat_at;
  if (age > timeoutMs) return { online: false, reason: `last heartbeat ${Math.round(age / 1000)} s ago (node_heartbeat_timeout ${timeoutMs / 1000} s)` };
  return { online: true };
}

/**
 * The node list comes from the table; when the table is empty, the nodes in
 * config `execution_nodes` are written into it once (source `config`), so
 * routing, heartbeats and the API treat them like any other node.
 */
export async function seedNodesFromConfig(ctx: CenterContext): Promise<number> {
  const configured = ctx.config.execution_nodes;
  if (configured.length === 0) return 0;
  const existing = await ctx.db.kysely.selectFrom('dim_execution_node').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  if (Number(existing.n) > 0) {
    ctx.logger.info({ configured: configured.length }, 'dim_execution_node has rows; execution_nodes from config is not used');
    return 0;
  }
  const now = Date.now();
  await ctx.db.kysely
    .insertInto('dim_execution_node')
    .values(configured.map((n) => ({ node_code: n.node_code, name: n.name ?? null, base_url: n.base_url.replace(/\/+$/, ''), status: 1, last_heartbeat_at: null, created_at: now, updated_at: now, source: 'config' })))
    .execute();
  ctx.logger.info({ nodes: configured.map((n) => n.node_code) }, 'execution nodes seeded from config');
  return configured.length;
}
