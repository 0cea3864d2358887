import type { Hono } from 'hono';
import * as v from 'valibot';
import type { CenterContext } from '../context.js';
import { isUniqueViolation } from '../db/connect.js';
import { conflict, idParam, input, iso, notFound, type CenterEnv } from './env.js';

const code = v.pipe(v.string('expected a strategy_code'), v.trim(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 letters, digits or ._-'));
const CreateStrategy = v.object({ strategy_code: code, name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))), enabled: v.optional(v.boolean(), true) });
const PatchStrategy = v.object({ name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128)))), enabled: v.optional(v.boolean()) });
const multiplier = v.pipe(
  v.union([v.number(), v.string()], 'expected a positive decimal'),
  v.transform((x) => Number(x)),
  v.check((n) => Number.isFinite(n) && n > 0 && n <= 1000, 'expected a multiplier above 0 and at most 1000'),
);
const Bind = v.object({ account_id: v.pipe(v.number('expected an account id'), v.safeInteger('expected an account id'), v.minValue(1)), multiplier: v.optional(multiplier, 1), enabled: v.optional(v.boolean(), true) });

/** Strategies and their bindings to accounts (docs/design.md R4: strategy → targets). */
export function strategyRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;
  const load = async (strategyCode: string) => {
    const strategy = await k.selectFrom('dim_strategy').selectAll().where('strategy_code', '=', strategyCode).executeTakeFirst();
    if (!strategy) throw notFound(`strategy "${strategyCode}"`);
    return strategy;
  };
  const view = async (strategyCode: string) => {
    const s = await load(strategyCode);
    const bindings = await k.selectFrom('dim_strategy_binding').selectAll().where('strategy_id', '=', s.id).orderBy('account_id').execute();
    return {
      id: s.id,
      strategy_code: s.strategy_code,
      name: s.name,
      enabled: s.enabled === 1,
      created_at: iso(s.created_at),
      bindings: bindings.map((b) => ({ id: b.id, account_id: b.account_id, multiplier: Number(b.multiplier), enabled: b.enabled === 1 })),
    };
  };

  app.post('/api/strategies', async (c) => {
    const body = await input(c, CreateStrategy);
    try {
      await k.insertInto('dim_strategy').values({ strategy_code: body.strategy_code, name: body.name ?? null, enabled: body.enabled ? 1 : 0, created_at: Date.now() }).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`strategy_code "${body.strategy_code}" already exists`);
      throw error;
    }
    return c.json({ success: true, strategy: await view(body.strategy_code) }, 201);
  });

  app.get('/api/strategies', async (c) => {
    const rows = await k.selectFrom('dim_strategy').select('strategy_code').orderBy('strategy_code').execute();
    return c.json({ success: true, strategies: await Promise.all(rows.map((r) => view(r.strategy_code))) });
  });

  app.get('/api/strategies/:code', async (c) => c.json({ success: true, strategy: await view(c.req.param('code')) }));

  app.patch('/api/strategies/:code', async (c) => {
    const strategyCode = c.req.param('code');
    const body = await input(c, PatchStrategy);
    const set: { name?: string | null; enabled?: number } = {};
    if (body.name !== undefined) set.name = body.name;
    if (body.enabled !== undefined) set.enabled = body.enabled ? 1 : 0;
    const strategy = await load(strategyCode);
    if (Object.keys(set).length > 0) await k.updateTable('dim_strategy').set(set).where('id', '=', strategy.id).execute();
    return c.json({ success: true, strategy: await view(strategyCode) });
  });

  // Bind an account (or update its multiplier): idempotent per (strategy, account).
  app.post('/api/strategies/:code/bindings', async (c) => {
    const strategy = await load(c.req.param('code'));
    const body = await input(c, Bind);
    const account = await k.selectFrom('fact_exchange_account').select('id').where('id', '=', body.account_id).executeTakeFirst();
    if (!account) throw notFound(`account ${body.account_id}`);
    const values = { multiplier: String(body.multiplier), enabled: body.enabled ? 1 : 0 };
    const updated = await k.updateTable('dim_strategy_binding').set(values).where('strategy_id', '=', strategy.id).where('account_id', '=', body.account_id).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      try {
        await k.insertInto('dim_strategy_binding').values({ strategy_id: strategy.id, account_id: body.account_id, ...values, created_at: Date.now() }).execute();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    return c.json({ success: true, strategy: await view(strategy.strategy_code) }, 201);
  });

  app.delete('/api/strategies/:code/bindings/:account_id', async (c) => {
    const strategy = await load(c.req.param('code'));
    const accountId = idParam(c, 'account_id');
    const result = await k.deleteFrom('dim_strategy_binding').where('strategy_id', '=', strategy.id).where('account_id', '=', accountId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`binding of account ${accountId}`);
    return c.json({ success: true, strategy: await view(strategy.strategy_code) });
  });
}
