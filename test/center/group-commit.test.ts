import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/center/db/connect.js';
import { GroupCommit } from '../../src/center/dispatch/group-commit.js';
import type { ApplyItem, OrderOutcome } from '../../src/center/dispatch/apply-results.js';
import { toUnits } from '../../src/center/settle/units.js';
import { DIALECTS, migratedDb, onDialect } from '../helpers/databases.js';
import { needs } from '../helpers/services.js';

const rules = { feeRate: 0.001, referralShares: [0.2, 0.1] };
const filled = (id: string): OrderOutcome => ({ status: 'filled', exchangeOrderId: id, filledQuantity: 0.01, filledPrice: 60000 });
const ORDERS = 300;

for (const dialect of DIALECTS) {
  describe(`applying node answers as they arrive, together, on ${dialect}`, onDialect(dialect), () => {
    let db: Db;
    let drop: () => Promise<void>;
    let orders: number[] = [];

    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
      const k = db.kysely;
      const now = Date.now();
      const user = Number((await k.insertInto('dim_user').values({ username: 'owner', inviter_id: null, points_units: toUnits(1000), rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow()).insertId);
      await k
        .insertInto('fact_order')
        .values(Array.from({ length: ORDERS }, (_, i) => ({ signal_row_id: 1, account_id: i + 1, user_id: user, execution_node_id: null, client_order_id: `q${i}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', status: 'pending', filled_quantity: '0', attempts: 1, created_at: now, updated_at: now })))
        .execute();
      orders = (await k.selectFrom('fact_order').select('id').orderBy('account_id').execute()).map((o) => o.id);
    });
    after(() => drop());

    test('answers submitted at once each get their own results, in order; a bad item fails alone', async () => {
      const queue = new GroupCommit(db.kysely, rules);
      // Sizes that cross the per-pass and per-transaction bounds; one answer names an order that does not exist.
      const answers: ApplyItem[][] = [
        orders.slice(0, 50).map((orderId) => ({ orderId, outcome: filled(`a${orderId}`) })),
        [...orders.slice(50, 80).map((orderId) => ({ orderId, outcome: filled(`b${orderId}`) })), { orderId: 999_999, outcome: filled('nope') }],
        orders.slice(80, 260).map((orderId) => ({ orderId, outcome: filled(`c${orderId}`) })),
        orders.slice(260, 300).map((orderId) => ({ orderId, outcome: filled(`d${orderId}`) })),
      ];
      const results = await Promise.all(answers.map((a) => queue.apply(a)));
      assert.deepEqual(results.map((r) => r.length), answers.map((a) => a.length));
      assert.deepEqual(results[0], Array(50).fill('applied'));
      assert.deepEqual(results[1]?.slice(0, 30), Array(30).fill('applied'));
      assert.ok(results[1]?.[30] instanceof Error && /does not exist/.test(results[1][30].message));
      assert.deepEqual(results[2], Array(180).fill('applied'));
      assert.deepEqual(results[3], Array(40).fill('applied'));
      // Each order got its own answer's values.
      const rows = await db.kysely.selectFrom('fact_order').select(['id', 'status', 'exchange_order_id']).where('id', 'in', orders).execute();
      const prefix = (id: number) => (id < (orders[50] as number) ? 'a' : id < (orders[80] as number) ? 'b' : id < (orders[260] as number) ? 'c' : 'd');
      for (const r of rows) assert.deepEqual([r.status, r.exchange_order_id], ['filled', `${prefix(r.id)}${r.id}`]);
      const fills = await db.kysely.selectFrom('fact_fill').select('order_id').where('order_id', 'in', orders).execute();
      assert.equal(fills.length, ORDERS);
    });

    test('the same answer submitted twice at once settles once: the repeat is unchanged', async () => {
      const queue = new GroupCommit(db.kysely, rules);
      const answer = orders.slice(0, 20).map((orderId) => ({ orderId, outcome: { ...filled(`a${orderId}`), filledQuantity: 0.02 } }));
      const [first, second] = await Promise.all([queue.apply(answer), queue.apply(answer)]);
      assert.deepEqual(first, Array(20).fill('applied'));
      assert.deepEqual(second, Array(20).fill('unchanged'));
      const fills = await db.kysely.selectFrom('fact_fill').select(['order_id', 'cumulative_quantity']).where('order_id', 'in', orders.slice(0, 20)).execute();
      assert.equal(fills.length, 40, 'the first fill and one increment each, not two');
      const ledger = await db.kysely.selectFrom('fact_ledger').select('amount_units').execute();
      assert.equal(ledger.reduce((sum, r) => sum + r.amount_units, 0n), 0n, 'every unit charged went somewhere');
    });

    test('an answer waits for the one still expected, and both are applied in one pass', async () => {
      // A linger no test step comes near: only the expected answer releases the first.
      const queue = new GroupCommit(db.kysely, rules, { lingerMs: 60_000, groupOrders: 1_000 });
      const [first, second] = [orders.slice(100, 120), orders.slice(120, 140)];
      const expected = queue.expectAnswer();
      let firstDone = false;
      const firstApplied = queue.apply(first.map((orderId) => ({ orderId, outcome: filled(`l${orderId}`) }))).then((r) => ((firstDone = true), r));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(firstDone, false, 'the first answer lingers while another is expected');
      const secondApplied = queue.apply(second.map((orderId) => ({ orderId, outcome: filled(`l${orderId}`) })));
      expected.done();
      expected.done(); // a second call changes nothing
      assert.deepEqual(await firstApplied, Array(20).fill('applied'));
      assert.deepEqual(await secondApplied, Array(20).fill('applied'));
      const rows = await db.kysely.selectFrom('fact_order').select(['id', 'completed_at', 'exchange_order_id']).where('id', 'in', [...first, ...second]).execute();
      assert.equal(new Set(rows.map((r) => r.completed_at)).size, 1, 'one pass: every order completed at the same instant');
      for (const r of rows) assert.equal(r.exchange_order_id, `l${r.id}`);
    });

    test('an answer lingers no longer than the linger, even if the expected one never comes', async () => {
      const queue = new GroupCommit(db.kysely, rules, { lingerMs: 20, groupOrders: 1_000 });
      const expected = queue.expectAnswer();
      const batch = orders.slice(140, 150);
      assert.deepEqual(await queue.apply(batch.map((orderId) => ({ orderId, outcome: filled(`n${orderId}`) }))), Array(10).fill('applied'));
      expected.done();
    });

    test('enough waiting orders are applied at once, without lingering', async () => {
      const queue = new GroupCommit(db.kysely, rules, { lingerMs: 60_000, groupOrders: 10 });
      const expected = queue.expectAnswer();
      const batch = orders.slice(150, 170);
      const applied = queue.apply(batch.map((orderId) => ({ orderId, outcome: filled(`g${orderId}`) })));
      // Far below the linger: a queue that lingered anyway would miss it.
      const timeout = new Promise<'lingered'>((resolve) => setTimeout(() => resolve('lingered'), 10_000).unref());
      assert.deepEqual(await Promise.race([applied, timeout]), Array(20).fill('applied'));
      expected.done();
    });

    test('an empty answer resolves at once', async () => {
      assert.deepEqual(await new GroupCommit(db.kysely, rules).apply([]), []);
    });
  });
}

describe('on MySQL, the answer that ends a signal', needs('mysql'), () => {
  test('is applied in a second pass, without waiting for the pass in flight', async () => {
    const { db, drop } = await migratedDb('mysql');
    const k = db.kysely;
    let release = (): void => undefined;
    let holder: Promise<void> | undefined;
    try {
      const now = Date.now();
      const user = async (username: string) => Number((await k.insertInto('dim_user').values({ username, inviter_id: null, points_units: toUnits(1000), rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow()).insertId);
      const [held, free] = [await user('held'), await user('free')];
      const ordersOf = async (userId: number, offset: number) => {
        await k
          .insertInto('fact_order')
          .values(Array.from({ length: 10 }, (_, i) => ({ signal_row_id: 1, account_id: offset + i, user_id: userId, execution_node_id: null, client_order_id: `p${offset + i}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', status: 'pending', filled_quantity: '0', attempts: 1, created_at: now, updated_at: now })))
          .execute();
        return (await k.selectFrom('fact_order').select('id').where('user_id', '=', userId).orderBy('id').execute()).map((o) => o.id);
      };
      const [heldOrders, freeOrders] = [await ordersOf(held, 1), await ordersOf(free, 100)];
      // Other signals' orders: in a table of twenty rows InnoDB scans, and so locks, all of them.
      const other = await user('other');
      for (let i = 0; i < 4; i++) await k.insertInto('fact_order').values(Array.from({ length: 500 }, (_, j) => ({ signal_row_id: 2 + i, account_id: 1000 + i * 500 + j, user_id: other, execution_node_id: null, client_order_id: `o${i}-${j}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', status: 'filled', filled_quantity: '0.01', attempts: 1, created_at: now, updated_at: now }))).execute();

      // Another transaction holds the first answer's user: its pass waits on that lock until released.
      let locked = (): void => undefined;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holder = k.transaction().execute(async (trx) => {
        await trx.selectFrom('dim_user').select('id').where('id', '=', held).forUpdate().execute();
        locked();
        await released;
      });
      await isLocked;

      const queue = new GroupCommit(db.kysely, rules, { lingerMs: 60_000 });
      let firstDone = false;
      const first = queue.apply(heldOrders.map((orderId) => ({ orderId, outcome: filled(`h${orderId}`) }))).then((r) => ((firstDone = true), r));
      // A macrotask later the first pass is in flight, and it cannot end while the lock is held.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const expected = queue.expectAnswer();
      const second = queue.apply(freeOrders.map((orderId) => ({ orderId, outcome: filled(`f${orderId}`) })));
      expected.done();
      const waited = new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 10_000).unref());
      assert.deepEqual(await Promise.race([second, waited]), Array(10).fill('applied'));
      assert.equal(firstDone, false, 'the first pass still waits on the lock');

      release();
      await holder;
      assert.deepEqual(await first, Array(10).fill('applied'));
      const ledger = await k.selectFrom('fact_ledger').select(['user_id', 'amount_units']).execute();
      assert.equal(ledger.length, 20 * 2, 'a fee and the pool share for each fill, once');
      assert.equal(ledger.reduce((sum, r) => sum + r.amount_units, 0n), 0n, 'every unit charged went somewhere');
    } finally {
      release();
      await holder?.catch(() => undefined);
      await drop();
    }
  });
});

describe('the queue for a database', () => {
  test('is one per database and settlement rules: another context\'s rules get their own', async () => {
    const { groupCommitFor } = await import('../../src/center/dispatch/group-commit.js');
    const { db, drop } = await migratedDb('sqlite');
    try {
      const mine = { feeRate: 0.001, referralShares: [0.2] };
      const theirs = { feeRate: 0.002, referralShares: [] };
      assert.equal(groupCommitFor(db.kysely, mine), groupCommitFor(db.kysely, mine));
      assert.notEqual(groupCommitFor(db.kysely, mine), groupCommitFor(db.kysely, theirs));
    } finally {
      await drop();
    }
  });
});
