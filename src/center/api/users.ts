import type { Hono } from 'hono';
import * as v from 'valibot';
import type { CenterContext } from '../context.js';
import { isUniqueViolation, transact } from '../db/connect.js';
import { fromUnits, MAX_BALANCE_UNITS, toUnits } from '../settle/units.js';
import { conflict, idParam, input, iso, notFound, type CenterEnv } from './env.js';
import { userView } from './views.js';

/** A decimal amount (JSON number or text) read exactly into units, at least `min` and below `below`. */
function amountIn(min: bigint, below: bigint, message: string) {
  return v.pipe(
    v.union([v.number(), v.string()], 'expected a decimal amount'),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      let units: bigint;
      try {
        units = toUnits(dataset.value);
      } catch {
        addIssue({ message });
        return NEVER;
      }
      if (units < min || units >= below) {
        addIssue({ message });
        return NEVER;
      }
      return units;
    }),
  );
}

/** One top-up (or starting balance) is below 10,000,000 points. */
const MAX_TOP_UP = toUnits(10_000_000);

const CreateUser = v.object({
  username: v.pipe(v.string('expected a username'), v.trim(), v.regex(/^[A-Za-z0-9._@-]{1,64}$/, 'expected 1-64 letters, digits or ._@-')),
  inviter_id: v.optional(v.nullable(v.pipe(v.number('expected a user id'), v.safeInteger('expected a user id'), v.minValue(1)))),
  points: v.optional(amountIn(0n, MAX_TOP_UP, 'expected an amount from 0 to 10,000,000')),
});

const TopUp = v.object({
  amount: amountIn(1n, MAX_TOP_UP, 'expected an amount above 0 and below 10,000,000'),
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
        .values({ username: body.username, inviter_id: body.inviter_id ?? null, points_units: 0n, rewards_units: 0n, created_at: now })
        .executeTakeFirstOrThrow();
      id = Number(row.insertId);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`username "${body.username}" is taken`);
      throw error;
    }
    if (body.points) await topUp(id, body.points, `signup:${id}`, 'points');
    return c.json({ success: true, user: userView(await load(id)) }, 201);
  });

  app.get('/api/users', async (c) => {
    const users = await k.selectFrom('dim_user').selectAll().orderBy('id').limit(1000).execute();
    return c.json({ success: true, users: users.map(userView) });
  });

  app.get('/api/users/:id', async (c) => c.json({ success: true, user: userView(await load(idParam(c, 'id'))) }));

  /**
   * Adds `units` to the user's points once per `key`. A balance past
   * `MAX_BALANCE_UNITS` is refused (409 naming `field`) in the same
   * statement that adds, so concurrent top-ups cannot pass it together.
   */
  async function topUp(userId: number, units: bigint, key: string, field: string): Promise<boolean> {
    try {
      await transact(k, async (trx) => {
        await trx.insertInto('fact_ledger').values({ entry_key: `topup:${key}`, kind: 'topup', user_id: userId, order_id: null, amount_units: units, created_at: Date.now() }).execute();
        const added = await trx
          .updateTable('dim_user')
          .set((eb) => ({ points_units: eb('points_units', '+', units) }))
          .where('id', '=', userId)
          .where('points_units', '<=', MAX_BALANCE_UNITS - units)
          .executeTakeFirst();
        if (added.numUpdatedRows === 0n) {
          throw conflict(`the balance would pass the most a point card holds, ${fromUnits(MAX_BALANCE_UNITS)} points`, field);
        }
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
    return c.json({ success: true, entries: rows.map((r) => ({ entry_key: r.entry_key, kind: r.kind, order_id: r.order_id, amount: fromUnits(r.amount_units), created_at: iso(r.created_at) })) });
  });

  // The platform's side of settlement: the profit pool and what moved in total.
  app.get('/api/settlement', async (c) => {
    const pool = await k.selectFrom('dim_profit_pool').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    // Aliased `*_units`, so both drivers read the sums as exact bigints.
    const totals = await k.selectFrom('fact_ledger').select(['kind', ({ fn }) => fn.sum<bigint>('amount_units').as('amount_units')]).groupBy('kind').execute();
    const byKind = Object.fromEntries(totals.map((t) => [t.kind, fromUnits(t.amount_units)]));
    return c.json({ success: true, profit_pool: fromUnits(pool.balance_units), totals: byKind, fee_rate: ctx.config.fee_rate, referral_shares: ctx.config.referral_shares });
  });

  app.post('/api/users/:id/points', async (c) => {
    const id = idParam(c, 'id');
    await load(id);
    const body = await input(c, TopUp);
    const applied = await topUp(id, body.amount, body.idempotency_key ? `${id}:${body.idempotency_key}` : `${id}:${c.get('requestId')}`, 'amount');
    return c.json({ success: true, applied, user: userView(await load(id)) });
  });
}
