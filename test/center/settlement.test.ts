import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/center/db/connect.js';
import { applyOutcome, applyOutcomes, nextStatus } from '../../src/center/dispatch/apply-results.js';
import { computeSettlement } from '../../src/center/settle/settlement.js';
import { fromUnits, notionalUnits, toUnits } from '../../src/center/settle/units.js';
import { DIALECTS, migratedDb, onDialect } from '../helpers/databases.js';

const rules = { feeRate: 0.001, referralShares: [0.2, 0.1] };

test('units are exact both ways', () => {
  assert.equal(toUnits('0.1'), 10_000_000n);
  assert.equal(toUnits(0.1 + 0.2), 30_000_000n);
  assert.equal(fromUnits(123_450_000n), '1.2345');
  assert.equal(fromUnits(-5n), '-0.00000005');
  assert.equal(fromUnits(toUnits('89999999.12345678')), '89999999.12345678');
  // Past 2^53 units, up to BIGINT's ceiling, and not beyond it.
  assert.equal(toUnits(1e9), 10n ** 17n);
  assert.equal(fromUnits(toUnits('92233720368.54775807')), '92233720368.54775807');
  assert.equal(toUnits('92233720368.54775807'), 2n ** 63n - 1n);
  assert.throws(() => toUnits('92233720368.54775808'), /out of range/);
  assert.throws(() => toUnits(1e11), /out of range/);
  assert.throws(() => toUnits('1e999999999'), /out of range/);
  assert.equal(toUnits('1e-999999999'), 0n);
  for (const bad of ['', '.', '-', 'e5', '1.2.3', '0x10', 'NaN', ' ', '1_000']) assert.throws(() => toUnits(bad), /not a decimal number/, bad);
  assert.throws(() => toUnits(Number.NaN), /not a number/);
  assert.throws(() => toUnits(Infinity), /not a number/);
});

test('decimals are read from their text and rounded once, half away from zero, never through float multiplication', () => {
  // A number is read by its shortest form: 0.1 + 0.2 is 0.30000000000000004, which rounds to 0.3.
  assert.equal(toUnits(0.1 + 0.2), toUnits(0.1) + toUnits(0.2));
  assert.equal(toUnits(0.1 + 0.2), toUnits('0.3'));
  assert.equal(toUnits(1e-7), 10n);
  assert.equal(toUnits('1.5e3'), 150_000_000_000n);
  // Half a unit rounds away from zero; `Math.round(n * 1e8)` made these 1, 14500000 and -2.
  assert.equal(toUnits('0.000000015'), 2n);
  assert.equal(toUnits('0.145000005'), 14_500_001n);
  assert.equal(toUnits('-0.000000025'), -3n);
  assert.equal(toUnits('0.0000000149'), 1n);
  // quantity × price exactly: 1.87157 × 86328.1215 = 161569.122355755...; the float product rounded one unit low.
  assert.equal(notionalUnits(1.87157, 86328.1215), (187157n * 863281215n + 5n) / 10n);
  assert.equal(notionalUnits(1.87157, 86328.1215), 16_156_912_235_576n);
  assert.equal(notionalUnits(0.1 + 0.2, 3), 90_000_000n);
  assert.equal(notionalUnits('0.1', '0.2'), 2_000_000n);
  assert.equal(notionalUnits(2000, 60000), 12n * 10n ** 15n);
  assert.throws(() => notionalUnits(1e6, 123456.789), /out of range/);
});

test('the fee splits into referral rewards and the pool with nothing lost', () => {
  const s = computeSettlement({ orderId: 1, userId: 1, fillKey: '0.01', notionalUnits: toUnits(600) }, [2, 3], rules);
  assert.equal(s.feeUnits, toUnits('0.6'));
  assert.deepEqual(s.rewards, [
    { userId: 2, level: 1, units: toUnits('0.12') },
    { userId: 3, level: 2, units: toUnits('0.06') },
  ]);
  assert.equal(s.poolUnits, toUnits('0.42'));
  const odd = computeSettlement({ orderId: 1, userId: 1, fillKey: 'x', notionalUnits: 1_234_567n }, [2], { feeRate: 0.0007, referralShares: [0.33] });
  assert.equal(odd.poolUnits + odd.rewards.reduce((a, r) => a + r.units, 0n), odd.feeUnits);
});

test('fee_rate 0.0007 and shares [0.3, 0.15] settle as exact fractions: floor of each part, the pool the rest', () => {
  const exactRules = { feeRate: 0.0007, referralShares: [0.3, 0.15] };
  const notional = notionalUnits(1.87157, 86328.1215);
  const s = computeSettlement({ orderId: 1, userId: 1, fillKey: 'x', notionalUnits: notional }, [2, 3], exactRules);
  const fee = (notional * 7n) / 10_000n;
  assert.equal(s.feeUnits, fee);
  assert.equal(s.feeUnits, 11_309_838_564n);
  assert.deepEqual(s.rewards, [
    { userId: 2, level: 1, units: (fee * 3n) / 10n },
    { userId: 3, level: 2, units: (fee * 15n) / 100n },
  ]);
  assert.equal(s.poolUnits, fee - (fee * 3n) / 10n - (fee * 15n) / 100n);
  // 120M USDT: past 2^53 units, still exact.
  const big = computeSettlement({ orderId: 1, userId: 1, fillKey: 'y', notionalUnits: 12n * 10n ** 15n }, [2, 3], exactRules);
  assert.deepEqual([big.feeUnits, big.rewards.map((r) => r.units), big.poolUnits], [84n * 10n ** 11n, [252n * 10n ** 10n, 126n * 10n ** 10n], 462n * 10n ** 10n]);
  // A notional the fee floors to zero charges nothing.
  assert.deepEqual(computeSettlement({ orderId: 1, userId: 1, fillKey: 'z', notionalUnits: 1_428n }, [2], exactRules), { feeUnits: 0n, rewards: [{ userId: 2, level: 1, units: 0n }], poolUnits: 0n });
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
  describe(`applying results on ${dialect}`, onDialect(dialect), () => {
    let db: Db;
    let drop: () => Promise<void>;
    let orderId: number;
    let ids: { grand: number; parent: number; child: number };

    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
      const k = db.kysely;
      const now = Date.now();
      const grand = await k.insertInto('dim_user').values({ username: 'grand', inviter_id: null, points_units: 0n, rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow();
      const parent = await k.insertInto('dim_user').values({ username: 'parent', inviter_id: Number(grand.insertId), points_units: 0n, rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow();
      const child = await k.insertInto('dim_user').values({ username: 'child', inviter_id: Number(parent.insertId), points_units: toUnits(100), rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow();
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
      const ledger = await db.kysely.selectFrom('fact_ledger').select(({ fn }) => fn.sum<bigint>('amount_units').as('amount_units')).where('order_id', '=', orderId).executeTakeFirstOrThrow();
      assert.equal(ledger.amount_units, 0n, 'every unit charged went somewhere');
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`fills past 2^53 units on ${dialect}`, onDialect(dialect), () => {
    let db: Db;
    let drop: () => Promise<void>;
    let ids: { grand: number; parent: number; child: number };
    const start = 100n * 10n ** 8n;

    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
      const k = db.kysely;
      const user = async (username: string, inviter: number | null, points: bigint) =>
        Number((await k.insertInto('dim_user').values({ username, inviter_id: inviter, points_units: points, rewards_units: 0n, created_at: 1 }).executeTakeFirstOrThrow()).insertId);
      const grand = await user('big-grand', null, 0n);
      const parent = await user('big-parent', grand, 0n);
      ids = { grand, parent, child: await user('big-child', parent, start) };
    });
    after(() => drop());

    let accounts = 0;
    const newOrder = async (quantity: string) =>
      Number(
        (
          await db.kysely
            .insertInto('fact_order')
            .values({ signal_row_id: 1, account_id: ++accounts, user_id: ids.child, execution_node_id: null, client_order_id: `big-${accounts}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity, status: 'pending', filled_quantity: '0', attempts: 1, created_at: 1, updated_at: 1 })
            .executeTakeFirstOrThrow()
        ).insertId,
      );
    const filled = (quantity: number, price: number) => ({ status: 'filled' as const, exchangeOrderId: `x-${quantity}`, filledQuantity: quantity, filledPrice: price });
    const user = (id: number) => db.kysely.selectFrom('dim_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const pool = async () => (await db.kysely.selectFrom('dim_profit_pool').selectAll().executeTakeFirstOrThrow()).balance_units;
    const ledger = async (orderId: number) =>
      Object.fromEntries((await db.kysely.selectFrom('fact_ledger').select(['entry_key', 'amount_units']).where('order_id', '=', orderId).execute()).map((r) => [r.entry_key.split(':')[0], r.amount_units]));

    test('a 120M USDT fill and a 12.3 billion USDT fill are recorded and settled to the unit; one past BIGINT fails alone', async () => {
      const [btc, large, absurd] = [await newOrder('2000'), await newOrder('100000'), await newOrder('1000000')];
      const results = await applyOutcomes(db.kysely, [
        { orderId: btc, outcome: filled(2000, 60000) },
        { orderId: large, outcome: filled(1e5, 123456.789) },
        // 123,456,789,000 USDT: 1.2e19 units, more than a BIGINT holds.
        { orderId: absurd, outcome: filled(1e6, 123456.789) },
      ], rules);
      assert.deepEqual(results.slice(0, 2), ['applied', 'applied']);
      assert.ok(results[2] instanceof Error && /out of range/.test(results[2].message), String(results[2]));

      // Expected, in BigInt from the decimals: notional × 1e8 units; fee 0.1%; 20% and 10% of it up the chain; the pool the rest.
      const expected = (notional: bigint) => {
        const fee = notional / 1000n;
        return { notional, fee, ref1: (fee * 2n) / 10n, ref2: fee / 10n, pool: fee - (fee * 2n) / 10n - fee / 10n };
      };
      const a = expected(2000n * 60000n * 10n ** 8n);
      const b = expected((100000n * 123456789n * 10n ** 8n) / 1000n);
      assert.deepEqual([a.notional, a.fee, a.ref1, a.ref2, a.pool], [12_000_000_000_000_000n, 12_000_000_000_000n, 2_400_000_000_000n, 1_200_000_000_000n, 8_400_000_000_000n]);
      for (const [orderId, e] of [[btc, a], [large, b]] as const) {
        const fills = await db.kysely.selectFrom('fact_fill').selectAll().where('order_id', '=', orderId).execute();
        assert.deepEqual(fills.map((f) => f.notional_units), [e.notional]);
        assert.deepEqual(await ledger(orderId), { fee: -e.fee, ref1: e.ref1, ref2: e.ref2, pool: e.pool });
      }
      assert.equal((await user(ids.child)).points_units, start - a.fee - b.fee);
      assert.equal(fromUnits((await user(ids.child)).points_units), '-12465578.9');
      assert.equal((await user(ids.parent)).rewards_units, a.ref1 + b.ref1);
      assert.equal((await user(ids.grand)).rewards_units, a.ref2 + b.ref2);
      assert.equal(await pool(), a.pool + b.pool);

      // The one that cannot be booked wrote nothing and is still pending.
      assert.deepEqual(await ledger(absurd), {});
      assert.equal((await db.kysely.selectFrom('fact_fill').select('id').where('order_id', '=', absurd).execute()).length, 0);
      assert.equal((await db.kysely.selectFrom('fact_order').select('status').where('id', '=', absurd).executeTakeFirstOrThrow()).status, 'pending');
    });

    test('an order filled in increments is charged its own notional to the unit: the fills add up to cumulative quantity × average price', async () => {
      const orderId = await newOrder('1000.5');
      const before = { points: (await user(ids.child)).points_units, pool: await pool() };
      assert.equal(await applyOutcome(db.kysely, orderId, { ...filled(0.123456789, 98765.4321), status: 'partially_filled' }, rules), 'applied');
      assert.equal(await applyOutcome(db.kysely, orderId, filled(1000.5, 98765.4322), rules), 'applied');
      // Half-away rounding of an exact product of decimals, done here with BigInt.
      const units = (digits: bigint, scale: bigint) => (digits * 10n ** 8n * 2n + scale) / (2n * scale);
      const total = units(10005n * 987654322n, 10n ** 5n);
      const first = units(123456789n * 987654321n, 10n ** 13n);
      const fills = await db.kysely.selectFrom('fact_fill').select('notional_units').where('order_id', '=', orderId).orderBy('id').execute();
      assert.deepEqual(fills.map((f) => f.notional_units), [first, total - first]);
      const [fee1, fee2] = [first / 1000n, (total - first) / 1000n];
      assert.equal((await user(ids.child)).points_units, before.points - fee1 - fee2);
      const kept = (fee: bigint) => fee - (fee * 2n) / 10n - fee / 10n;
      assert.equal(await pool(), before.pool + kept(fee1) + kept(fee2));
    });
  });
}
