import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/center/db/connect.js';
import { applyOutcome, nextStatus } from '../../src/center/dispatch/apply-results.js';
import { computeSettlement } from '../../src/center/settle/settlement.js';
import { fromUnits, toUnits } from '../../src/center/settle/units.js';
import { DIALECTS, migratedDb } from '../helpers/databases.js';

const rules = { feeRate: 0.001, referralShares: [0.2, 0.1] };

test('units are exact both ways', () => {
  assert.equal(toUnits('0.1'), 10_000_000);
  assert.equal(toUnits(0.1 + 0.2), 30_000_000);
  assert.equal(fromUnits(123_450_000), '1.2345');
  assert.equal(fromUnits(-5), '-0.00000005');
  assert.equal(fromUnits(toUnits('89999999.12345678')), '89999999.12345678');
  assert.throws(() => toUnits(1e9));
});

test('the fee splits into referral rewards and the pool with nothing lost', () => {
  const s = computeSettlement({ orderId: 1, userId: 1, fillKey: '0.01', notionalUnits: toUnits(600) }, [2, 3], rules);
  assert.equal(s.feeUnits, toUnits('0.6'));
  assert.deepEqual(s.rewards, [
    { userId: 2, level: 1, units: toUnits('0.12') },
    { userId: 3, level: 2, units: toUnits('0.06') },
  ]);
  assert.equal(s.poolUnits, toUnits('0.42'));
  const odd = computeSettlement({ orderId: 1, userId: 1, fillKey: 'x', notionalUnits: 1_234_567 }, [2], { feeRate: 0.0007, referralShares: [0.33] });
  assert.equal(odd.poolUnits + odd.rewards.reduce((a, r) => a + r.units, 0), odd.feeUnits);
});

test('status never moves backwards, except that a fill always counts', () => {
  assert.equal(nextStatus('pending', 'unknown', false), 'unknown');
  assert.equal(nextStatus('filled', 'unknown', false), 'filled');
  assert.equal(nextStatus('open', 'unknown', false), 'open');
  assert.equal(nextStatus('unknown', 'rejected', false), 'rejected');
  assert.equal(nextStatus('failed', 'filled', true), 'filled');
  assert.equal(nextStatus('rejected', 'open', false), 'rejected');
});

for (const dialect of DIALECTS) {
  describe(`applying results on ${dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let orderId: number;
    let ids: { grand: number; parent: number; child: number };

    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
      const k = db.kysely;
      const now = Date.now();
      const grand = await k.insertInto('dim_user').values({ username: 'grand', inviter_id: null, points_units: 0, rewards_units: 0, created_at: now }).executeTakeFirstOrThrow();
      const parent = await k.insertInto('dim_user').values({ username: 'parent', inviter_id: Number(grand.insertId), points_units: 0, rewards_units: 0, created_at: now }).executeTakeFirstOrThrow();
      const child = await k.insertInto('dim_user').values({ username: 'child', inviter_id: Number(parent.insertId), points_units: toUnits(100), rewards_units: 0, created_at: now }).executeTakeFirstOrThrow();
      ids = { grand: Number(grand.insertId), parent: Number(parent.insertId), child: Number(child.insertId) };
      const order = await k
        .insertInto('fact_order')
        .values({ signal_row_id: 1, account_id: 1, user_id: ids.child, execution_node_id: null, client_order_id: 'c1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.02', status: 'pending', filled_quantity: '0', attempts: 1, created_at: now, updated_at: now })
        .executeTakeFirstOrThrow();
      orderId = Number(order.insertId);
    });
    after(() => drop());

    const user = (id: number) => db.kysely.selectFrom('dim_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    test('a partial fill, then the rest, settles each increment once even when replayed', async () => {
      const partial = { status: 'partially_filled' as const, exchangeOrderId: 'x1', filledQuantity: 0.01, filledPrice: 60000 };
      assert.equal(await applyOutcome(db.kysely, orderId, partial, rules), 'applied');
      assert.equal(await applyOutcome(db.kysely, orderId, partial, rules), 'unchanged');
      const full = { status: 'filled' as const, exchangeOrderId: 'x1', filledQuantity: 0.02, filledPrice: 60500 };
      const outcomes = await Promise.all([applyOutcome(db.kysely, orderId, full, rules), applyOutcome(db.kysely, orderId, full, rules)]);
      assert.deepEqual(outcomes.sort(), ['applied', 'unchanged']);
      assert.equal(await applyOutcome(db.kysely, orderId, { ...full, status: 'unknown' }, rules), 'unchanged', 'a late unknown changes nothing');

      const order = await db.kysely.selectFrom('fact_order').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
      assert.equal(order.status, 'filled');
      assert.equal(Number(order.filled_quantity), 0.02);
      const fills = await db.kysely.selectFrom('fact_fill').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
      assert.equal(fills.length, 2);
      assert.equal(Number(fills[0]?.price), 60000);
      assert.equal(Number(fills[1]?.price), 61000, 'the second increment carries its own price (avg 60500 over 0.02)');
      // notional 600 + 610 = 1210; fee 0.1% = 1.21; rewards 20% / 10%; pool the rest
      assert.equal(fromUnits((await user(ids.child)).points_units), '98.79');
      assert.equal(fromUnits((await user(ids.parent)).rewards_units), '0.242');
      assert.equal(fromUnits((await user(ids.grand)).rewards_units), '0.121');
      const pool = await db.kysely.selectFrom('dim_profit_pool').selectAll().executeTakeFirstOrThrow();
      assert.equal(fromUnits(pool.balance_units), '0.847');
      const ledger = await db.kysely.selectFrom('fact_ledger').select(({ fn }) => fn.sum<number>('amount_units').as('sum')).where('order_id', '=', orderId).executeTakeFirstOrThrow();
      assert.equal(Number(ledger.sum), 0, 'every unit charged went somewhere');
    });
  });
}
