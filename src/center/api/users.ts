import type { Hono } from 'hono';
import * as v from 'valibot';
import type { CenterContext } from '../context.js';
import { isUniqueViolation, transact } from '../db/connect.js';
import { fromUnits, toUnits } from '../settle/units.js';
import { conflict, idParam, input, iso, notFound, type CenterEnv } from './env.js';
import { userView } from './views.js';

const CreateUser = v.object({
  username: v.pipe(v.string('expected a username'), v.trim(), v.regex(/^[A-Za-z0-9._@-]{1,64}$/, 'expected 1-64 letters, digits or ._@-')),
  inviter_id: v.optional(v.nullable(v.pipe(v.number('expected a user id'), v.safeInteger('expected a user id'), v.minValue(1)))),
  points: v.optional(v.pipe(v.union([v.number(), v.string()], 'expected a decimal amount'), v.transform(Number), v.check((n) => Number.isFinite(n) && n >= 0 && n < 1e7, 'expected an amount from 0 to 10,000,000'))),
});

const TopUp = v.object({
  amount: v.pipe(v.union([v.number(), v.string()], 'expected a decimal amount'), v.transform(Number), v.check((n) => Number.isFinite(n) && n > 0 && n < 1e7, 'expected an amount above 0 and below 10,000,000')),
  /** Makes a top-up safe to resend: the same key is applied once. */
  idempotency_key: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 letters, digits or ._:-'))),
});

/** Users (the account owners): inviter, point-card balance, referral rewards. */
export function userRoutes(app: Hono<CenterEnv>, ctx: CenterContext): void {
  const k = ctx.db.kysely;
  const load = async (id: number) => {
    const user = await k.selectFrom('dim_user').selectAll().where('id', '=', id).executeTakeFirst();
    if (!user) throw notFound(`user ${id}`);
    return user;
  };

  app.post('/api/users', async (c) => {
    const body = await input(c, CreateUser);
    if (body.inviter_id) await load(body.inviter_id);
    const now = Date.now();
    let id: number;
    try {
      const row = await k
        .insertInto('dim_user')
        .values({ username: body.username, inviter_id: body.inviter_id ?? null, points_units: 0, rewards_units: 0, created_at: now })
        .executeTakeFirstOrThrow();
      id = Number(row.insertId);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`username "${body.username}" is taken`);
      throw error;
    }
    if (body.points) await topUp(id, toUnits(body.points), `signup:${id}`);
    return c.json({ success: true, user: userView(await load(id)) }, 201);
  });

  app.get('/api/users', async (c) => {
    const users = await k.selectFrom('dim_user').selectAll().orderBy('id').limit(1000).execute();
    return c.json({ success: true, users: users.map(userView) });
  });

  app.get('/api/users/:id', async (c) => c.json({ success: true, user: userView(await load(idParam(c, 'id'))) }));

  async function topUp(userId: number, units: number, key: string): Promise<boolean> {
    try {
      await transact(k, async (trx) => {
        await trx.insertInto('fact_ledger').values({ entry_key: `topup:${key}`, kind: 'topup', user_id: userId, order_id: null, amount_units: units, created_at: Date.now() }).execute();
        await trx.updateTable('dim_user').set((eb) => ({ points_units: eb('points_units', '+', units) })).where('id', '=', userId).execute();
      });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  app.get('/api/users/:id/ledger', async (c) => {
    const id = idParam(c, 'id');
    await load(id);
    const rows = await k.selectFrom('fact_ledger').selectAll().where('user_id', '=', id).orderBy('id', 'desc').limit(500).execute();
    return c.json({ success: true, entries: rows.map((r) => ({ entry_key: r.entry_key, kind: r.kind, order_id: r.order_id, amount: fromUnits(Number(r.amount_units)), created_at: iso(r.created_at) })) });
  });

  // The platform's side of settlement: the profit pool and what moved in total.
  app.get('/api/settlement', async (c) => {
    const pool = await k.selectFrom('dim_profit_pool').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    const totals = await k.selectFrom('fact_ledger').select(['kind', ({ fn }) => fn.sum<number>('amount_units').as('units')]).groupBy('kind').execute();
    const byKind = Object.fromEntries(totals.map((t) => [t.kind, fromUnits(Number(t.units))]));
    return c.json({ success: true, profit_pool: fromUnits(Number(pool.balance_units)), totals: byKind, fee_rate: ctx.config.fee_rate, referral_shares: ctx.config.referral_shares });
  });

  app.post('/api/users/:id/points', async (c) => {
    const id = idParam(c, 'id');
    await load(id);
    const body = await input(c, TopUp);
    const applied = await topUp(id, toUnits(body.amount), body.idempotency_key ? `${id}:${body.idempotency_key}` : `${id}:${c.get('requestId')}`);
    return c.json({ success: true, applied, user: userView(await load(id)) });
  });
}
