import type { Hono } from 'hono';
import * as v from 'valibot';
import { NODE_CODE_PATTERN } from '../../core/wire-heartbeat.js';
import type { CenterContext } from '../context.js';
import { keyHint } from '../crypto/secret-box.js';
import type { NodeRow } from '../db/schema.js';
import { idParam, input, notFound, type CenterEnv } from './env.js';
import { accountView } from './views.js';
import { positionsOf } from '../positions.js';

const secret = (what: string) => v.pipe(v.string(`expected ${what} as a string`), v.minLength(1, `expected a non-empty ${what}`), v.maxLength(1024));
const nodeRef = v.nullable(v.pipe(v.string('expected a node_code or null'), v.regex(NODE_CODE_PATTERN, 'expected a node_code or null')));

const CreateAccount = v.object({
  user_id: v.pipe(v.number('expected a user id'), v.safeInteger('expected a user id'), v.minValue(1)),
  exchange: v.pipe(v.string('expected a ccxt exchange id'), v.trim(), v.toLowerCase(), v.regex(/^[a-z0-9]{2,32}$/, 'expected a ccxt exchange id such as "binanceusdm"')),
  api_key: secret('api_key'),
  api_secret: secret('api_secret'),
  passphrase: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(1024)))),
  sandbox: v.optional(v.boolean('expected true or false'), false),
  label: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))),
  /** The node that executes this account; absent or null = the center itself (docs/design.md R3.2). */
  node_code: v.optional(nodeRef),
});

const AssignNode = v.object({ node_code: nodeRef });
const PatchAccount = v.object({ enabled: v.optional(v.boolean('expected true or false')), label: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))) });

/** Exchange accounts: credentials in (sealed), never out; node assignment (docs/design.md R3.2). */
export function accountRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;
  const nodeByCode = async (code: string | null | undefined): Promise<NodeRow | null> => {
    if (!code) return null;
    const node = await k.selectFrom('dim_execution_node').selectAll().where('node_code', '=', code).executeTakeFirst();
    if (!node) throw notFound(`node "${code}"`);
    return node;
  };
  const view = async (id: number) => {
    const account = await k.selectFrom('fact_exchange_account').selectAll().where('id', '=', id).executeTakeFirst();
    if (!account) throw notFound(`account ${id}`);
    const node = account.execution_node_id === null ? undefined : await k.selectFrom('dim_execution_node').select(['id', 'node_code']).where('id', '=', account.execution_node_id).executeTakeFirst();
    return accountView(account, node);
  };

  app.post('/api/accounts', async (c) => {
    const body = await input(c, CreateAccount);
    const user = await k.selectFrom('dim_user').select('id').where('id', '=', body.user_id).executeTakeFirst();
    if (!user) throw notFound(`user ${body.user_id}`);
    const node = await nodeByCode(body.node_code);
    const now = Date.now();
    const row = await k
      .insertInto('fact_exchange_account')
      .values({
        user_id: body.user_id,
        exchange: body.exchange,
        label: body.label ?? null,
        api_key_enc: ctx.box.seal(body.api_key, 'api_key'),
        api_secret_enc: ctx.box.seal(body.api_secret, 'api_secret'),
        passphrase_enc: body.passphrase ? ctx.box.seal(body.passphrase, 'passphrase') : null,
        api_key_hint: keyHint(body.api_key),
        sandbox: body.sandbox ? 1 : 0,
        execution_node_id: node?.id ?? null,
        enabled: 1,
        created_at: now,
        updated_at: now,
      })
      .executeTakeFirstOrThrow();
    return c.json({ success: true, account: await view(Number(row.insertId)) }, 201);
  });

  app.get('/api/accounts', async (c) => {
    const nodeFilter = c.req.query('node_code');
    let query = k.selectFrom('fact_exchange_account as a').leftJoin('dim_execution_node as n', 'n.id', 'a.execution_node_id').selectAll('a').select(['n.node_code']).orderBy('a.id').limit(5000);
    if (nodeFilter) query = query.where('n.node_code', '=', nodeFilter);
    const rows = await query.execute();
    return c.json({ success: true, accounts: rows.map(({ node_code, ...a }) => accountView(a, node_code ? { id: a.execution_node_id as number, node_code } : undefined)) });
  });

  app.get('/api/accounts/:id', async (c) => c.json({ success: true, account: await view(idParam(c, 'id')) }));

  // tradectl's book of the account's positions beside the exchange's (last sync), with drift.
  app.get('/api/accounts/:id/position-book', async (c) => {
    const id = idParam(c, 'id');
    await view(id);
    return c.json({ success: true, positions: await positionsOf(k, id) });
  });

  app.patch('/api/accounts/:id', async (c) => {
    const id = idParam(c, 'id');
    const body = await input(c, PatchAccount);
    const set: { enabled?: number; label?: string | null; updated_at: number } = { updated_at: Date.now() };
    if (body.enabled !== undefined) set.enabled = body.enabled ? 1 : 0;
    if (body.label !== undefined) set.label = body.label;
    const result = await k.updateTable('fact_exchange_account').set(set).where('id', '=', id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`account ${id}`);
    return c.json({ success: true, account: await view(id) });
  });

  // Assign, switch or clear (null = execute in the center) an account's node.
  app.put('/api/accounts/:id/node', async (c) => {
    const id = idParam(c, 'id');
    const body = await input(c, AssignNode);
    const node = await nodeByCode(body.node_code);
    const result = await k.updateTable('fact_exchange_account').set({ execution_node_id: node?.id ?? null, updated_at: Date.now() }).where('id', '=', id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`account ${id}`);
    return c.json({ success: true, account: await view(id) });
  });
}
