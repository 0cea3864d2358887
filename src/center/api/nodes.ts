import type { Hono } from 'hono';
import * as v from 'valibot';
import { NODE_CODE_PATTERN, HeartbeatSchema } from '../../core/wire-heartbeat.js';
import { HttpError } from '../../http/errors.js';
import type { CenterContext } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import { conflict, input, notFound, type CenterEnv } from './env.js';
import { nodeView } from './views.js';

const baseUrl = v.pipe(v.string('expected a URL'), v.trim(), v.maxLength(512, 'expected a URL of at most 512 characters'), v.regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/i, 'expected a URL starting with http:// or https://'), v.transform((u) => u.replace(/\/+$/, '')));
const nodeCode = v.pipe(v.string('expected a node_code'), v.regex(NODE_CODE_PATTERN, 'expected 1-64 letters, digits, ".", "_" or "-"'));

const CreateNode = v.object({
  node_code: nodeCode,
  name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))),
  base_url: baseUrl,
  status: v.optional(v.picklist([0, 1], 'expected 0 (disabled) or 1 (enabled)'), 1),
});
const PatchNode = v.object({
  name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))),
  base_url: v.optional(baseUrl),
  status: v.optional(v.picklist([0, 1], 'expected 0 (disabled) or 1 (enabled)')),
});

async function accountCounts(ctx: CenterContext): Promise<Map<number, number>> {
  const rows = await ctx.db.kysely
    .selectFrom('fact_exchange_account')
    .select(['execution_node_id', ({ fn }) => fn.countAll<number>().as('n')])
    .where('execution_node_id', 'is not', null)
    .groupBy('execution_node_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.execution_node_id), Number(r.n)]));
}

/** docs/design.md R3.1: the node registry and its heartbeat. */
export function nodeRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;
  const view = async (code: string) => {
    const node = await k.selectFrom('dim_execution_node').selectAll().where('node_code', '=', code).executeTakeFirst();
    if (!node) throw notFound(`node "${code}"`);
    return nodeView(node, Date.now(), ctx.config.node_heartbeat_timeout, (await accountCounts(ctx)).get(node.id) ?? 0);
  };

  app.post('/api/nodes', async (c) => {
    const body = await input(c, CreateNode);
    const now = Date.now();
    try {
      await k
        .insertInto('dim_execution_node')
        .values({ node_code: body.node_code, name: body.name ?? null, base_url: body.base_url, status: body.status, last_heartbeat_at: null, created_at: now, updated_at: now, source: 'api' })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`node_code "${body.node_code}" already exists`);
      throw error;
    }
    return c.json({ success: true, node: await view(body.node_code) }, 201);
  });

  app.get('/api/nodes', async (c) => {
    const nodes = await k.selectFrom('dim_execution_node').selectAll().orderBy('node_code').execute();
    const counts = await accountCounts(ctx);
    const now = Date.now();
    return c.json({ success: true, nodes: nodes.map((n) => nodeView(n, now, ctx.config.node_heartbeat_timeout, counts.get(n.id) ?? 0)) });
  });

  app.get('/api/nodes/:code', async (c) => c.json({ success: true, node: await view(c.req.param('code')) }));

  app.patch('/api/nodes/:code', async (c) => {
    const code = c.req.param('code');
    const body = await input(c, PatchNode);
    const changes = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
    const result = await k.updateTable('dim_execution_node').set({ ...changes, updated_at: Date.now() }).where('node_code', '=', code).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`node "${code}"`);
    return c.json({ success: true, node: await view(code) });
  });

  app.delete('/api/nodes/:code', async (c) => {
    const code = c.req.param('code');
    const node = await k.selectFrom('dim_execution_node').select('id').where('node_code', '=', code).executeTakeFirst();
    if (!node) throw notFound(`node "${code}"`);
    const assigned = (await accountCounts(ctx)).get(node.id) ?? 0;
    if (assigned > 0) throw conflict(`node "${code}" still has ${assigned} account(s); move them with PUT /api/accounts/{id}/node first`);
    await k.deleteFrom('dim_execution_node').where('id', '=', node.id).execute();
    return c.json({ success: true, deleted: code });
  });

  // Authenticated with the node secret (docs/design.md R5.3, R5.4), not the admin token.
  app.post('/api/nodes/:code/heartbeat', async (c) => {
    const code = c.req.param('code');
    const beat = await input(c, HeartbeatSchema);
    if (beat.node_code !== code) {
      throw new HttpError(400, 'invalid_request', `node_code: the body says "${beat.node_code}" but the URL says "${code}"`, [{ field: 'node_code', message: 'does not match the URL' }]);
    }
    const now = Date.now();
    const result = await k
      .updateTable('dim_execution_node')
      .set({
        last_heartbeat_at: now,
        updated_at: now,
        version: beat.version,
        heartbeat_status: beat.status,
        uptime_seconds: Math.round(beat.uptime_seconds),
        in_flight: beat.in_flight,
        capacity: beat.capacity,
        reported_url: beat.base_url ?? null,
        features: beat.features?.join(',') ?? null,
      })
      .where('node_code', '=', code)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`node "${code}"`);
    return c.json({ success: true, node_code: code, received_at: new Date(now).toISOString() });
  });
}
