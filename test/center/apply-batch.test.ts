import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as v from 'valibot';
import { clientOrderIdFor } from '../../src/core/client-order-id.js';
import { SignalSchema } from '../../src/core/wire-execute.js';
import type { Db } from '../../src/center/db/connect.js';
import { APPLY_CHUNK, applyOutcomes, type ApplyItem, type OrderOutcome } from '../../src/center/dispatch/apply-results.js';
import { acceptSignal } from '../../src/center/dispatch/accept.js';
import { fromUnits, toUnits } from '../../src/center/settle/units.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, migratedDb, onDialect } from '../helpers/databases.js';

const rules = { feeRate: 0.001, referralShares: [0.2, 0.1] };
const filled = (quantity = 0.01, price = 60000): OrderOutcome => ({ status: 'filled', exchangeOrderId: `x-${quantity}`, filledQuantity: quantity, filledPrice: price });
const CHILDREN = 450;

for (const dialect of DIALECTS) {
  describe(`applying a node's whole answer in batches on ${dialect}`, onDialect(dialect), () => {
    let db: Db;
    let drop: () => Promise<void>;
    let parent: number;
    let grand: number;
    /** One pending order per child user, in child order. */
    let orders: number[] = [];
    let children: number[] = [];

    before(async () => {
      ({ db, drop } = await migratedDb(dialect));
      const k = db.kysely;
      const now = Date.now();
      grand = Number((await k.insertInto('dim_user').values({ username: 'grand', inviter_id: null, points_units: 0n, rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow()).insertId);
      parent = Number((await k.insertInto('dim_user').values({ username: 'parent', inviter_id: grand, points_units: 0n, rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow()).insertId);
      const names = Array.from({ length: CHILDREN }, (_, i) => `child-${i}`);
      await k.insertInto('dim_user').values(names.map((username) => ({ username, inviter_id: parent, points_units: toUnits(100), rewards_units: 0n, created_at: now }))).execute();
      const ids = new Map((await k.selectFrom('dim_user').select(['id', 'username']).where('username', 'in', names).execute()).map((u) => [u.username, u.id]));
      children = names.map((n) => ids.get(n) as number);
      await k
        .insertInto('fact_order')
        .values(children.map((userId, i) => ({ signal_row_id: 1, account_id: i + 1, user_id: userId, execution_node_id: null, client_order_id: `c${i}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', status: 'pending', filled_quantity: '0', attempts: 1, created_at: now, updated_at: now })))
        .execute();
      const byAccount = new Map((await k.selectFrom('fact_order').select(['id', 'account_id']).execute()).map((o) => [o.account_id, o.id]));
      orders = children.map((_, i) => byAccount.get(i + 1) as number);
    });
    after(() => drop());

    const order = (id: number) => db.kysely.selectFrom('fact_order').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const points = async (userId: number) => fromUnits((await db.kysely.selectFrom('dim_user').select('points_units').where('id', '=', userId).executeTakeFirstOrThrow()).points_units);
    const ledgerRows = (orderIds: number[]) => db.kysely.selectFrom('fact_ledger').selectAll().where('order_id', 'in', orderIds).execute();

    test('a result that cannot be applied fails alone; the rest of its batch is applied and settled', async () => {
      const good = orders.slice(0, 8);
      const bad = orders[8] as number;
      const items: ApplyItem[] = [
        ...good.map((orderId) => ({ orderId, outcome: filled() })),
        // A notional far beyond what the units can hold: settlement refuses it.
        { orderId: bad, outcome: filled(1e12) },
        { orderId: 987_654_321, outcome: filled() },
      ];
      const results = await applyOutcomes(db.kysely, items, rules);
      assert.deepEqual(results.slice(0, 8), Array(8).fill('applied'));
      assert.ok(results[8] instanceof Error && /out of range/.test(results[8].message), String(results[8]));
      assert.ok(results[9] instanceof Error && /does not exist/.test(results[9].message), String(results[9]));
      for (const id of good) assert.equal((await order(id)).status, 'filled');
      assert.equal((await order(bad)).status, 'pending', 'the bad one is untouched');
      assert.equal((await ledgerRows([bad])).length, 0);
      assert.equal((await ledgerRows(good)).length, 8 * 4, 'fee, two referral levels and the pool for each good fill');
      assert.equal(await points(children[0] as number), '99.4');
    });

    test('a batch the database refuses is applied again one order per transaction, so only the conflicting order is left out', async () => {
      const batch = orders.slice(10, 15);
      const taken = batch[2] as number;
      // Another applier already recorded this fill (its order row not yet updated): the batch's INSERT hits the unique key.
      await db.kysely.insertInto('fact_fill').values({ order_id: taken, cumulative_quantity: '0.01', quantity: '0.01', price: '60000', notional_units: toUnits(600), created_at: Date.now() }).execute();
      const results = await applyOutcomes(db.kysely, batch.map((orderId) => ({ orderId, outcome: filled() })), rules);
      assert.deepEqual(results, ['applied', 'applied', 'unchanged', 'applied', 'applied']);
      for (const [i, id] of batch.entries()) {
        assert.equal((await ledgerRows([id])).length, i === 2 ? 0 : 4);
        assert.equal(await points(children[10 + i] as number), i === 2 ? '100' : '99.4');
      }
    });

    test('one UPDATE for many orders writes each order its own values, whatever mix of columns the batch changes', async () => {
      const [a, b, c, d, e] = orders.slice(15, 20) as [number, number, number, number, number];
      const timeout = { code: 'timeout', message: 'no answer in time' };
      assert.deepEqual(await applyOutcomes(db.kysely, [c, d].map((orderId) => ({ orderId, outcome: { status: 'unknown', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: timeout } })), rules), ['applied', 'applied']);

      const answer = (n: number) => ({ nodeMs: 100 + n, nodeTimings: { queued: n, exchange: 90 + n }, answer: { roundTripMs: 110 + n, answeredAt: 1_000_000 + n } });
      const items: ApplyItem[] = [
        { orderId: a, outcome: { ...filled(0.01, 60000), exchangeOrderId: 'e-a', fee: { cost: 0.6, currency: 'USDT' }, stopLossOrderId: 'sl-a', takeProfitOrderId: 'tp-a', ...answer(1) } },
        { orderId: b, outcome: { ...filled(0.02, 61000), exchangeOrderId: 'e-b', fee: { cost: 1.22, currency: 'BNB' }, stopLossOrderId: 'sl-b', takeProfitOrderId: 'tp-b', ...answer(2) } },
        // Both were unknown with an error: one fails with a new one, one with none (its old error is cleared to NULL).
        { orderId: c, outcome: { status: 'failed', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code: 'exchange_error', message: 'refused c' } } },
        { orderId: d, outcome: { status: 'failed', exchangeOrderId: null, filledQuantity: 0, filledPrice: null } },
        { orderId: e, outcome: { status: 'partially_filled', exchangeOrderId: 'e-e', filledQuantity: 0.004, filledPrice: 60500, ...answer(5) } },
      ];
      assert.deepEqual(await applyOutcomes(db.kysely, items, rules, 2_000_000), Array(5).fill('applied'));

      const row = async (id: number) => {
        const o = await order(id);
        return [o.status, Number(o.filled_quantity), o.filled_price === null ? null : Number(o.filled_price), o.exchange_order_id, o.stop_loss_order_id, o.take_profit_order_id, o.fee_cost === null ? null : Number(o.fee_cost), o.fee_currency, o.error_code, o.error_message, o.node_received_ms, o.node_queued_ms, o.node_exchange_ms, o.round_trip_ms, o.answered_at, o.completed_at];
      };
      assert.deepEqual(await row(a), ['filled', 0.01, 60000, 'e-a', 'sl-a', 'tp-a', 0.6, 'USDT', null, null, 101, 1, 91, 111, 1_000_001, 2_000_000]);
      assert.deepEqual(await row(b), ['filled', 0.02, 61000, 'e-b', 'sl-b', 'tp-b', 1.22, 'BNB', null, null, 102, 2, 92, 112, 1_000_002, 2_000_000]);
      assert.deepEqual(await row(c), ['failed', 0, null, null, null, null, null, null, 'exchange_error', 'refused c', null, null, null, null, null, 2_000_000]);
      assert.deepEqual(await row(d), ['failed', 0, null, null, null, null, null, null, null, null, null, null, null, null, null, 2_000_000]);
      assert.deepEqual(await row(e), ['partially_filled', 0.004, 60500, 'e-e', null, null, null, null, null, null, 105, 5, 95, 115, 1_000_005, null]);
      const fills = await db.kysely.selectFrom('fact_fill').selectAll().where('order_id', 'in', [a, b, c, d, e]).orderBy('order_id').execute();
      assert.deepEqual(fills.map((f) => [f.order_id, Number(f.quantity), Number(f.price)]), [[a, 0.01, 60000], [b, 0.02, 61000], [e, 0.004, 60500]]);
      assert.equal(await points(children[16] as number), String(100 - 0.02 * 61000 * rules.feeRate));
    });

    test('the same batch applied twice, even at the same time and across chunks, settles every fill once', async () => {
      const batch = orders.slice(20);
      assert.ok(batch.length > 2 * APPLY_CHUNK, 'spans several chunks');
      const items = batch.map((orderId) => ({ orderId, outcome: filled() }));
      const [a, b] = await Promise.all([applyOutcomes(db.kysely, items, rules), applyOutcomes(db.kysely, items, rules)]);
      for (const [i, r] of a.entries()) assert.deepEqual([r, b[i]].sort(), ['applied', 'unchanged'], `order ${batch[i]}: ${String(r)} / ${String(b[i])}`);
      assert.deepEqual(await applyOutcomes(db.kysely, items, rules), Array(batch.length).fill('unchanged'));

      const fills = await db.kysely.selectFrom('fact_fill').select('order_id').where('order_id', 'in', batch).execute();
      assert.equal(fills.length, batch.length);
      const ledger = await ledgerRows(batch);
      assert.equal(ledger.filter((r) => r.kind === 'fee_charge').length, batch.length);
      assert.equal(ledger.reduce((sum, r) => sum + r.amount_units, 0n), 0n, 'every unit charged went somewhere');
      for (const i of [20, 130, CHILDREN - 1]) assert.equal(await points(children[i] as number), '99.4');

      // Balances agree with the ledger as a whole: nothing counted twice or missed.
      const all = await db.kysely.selectFrom('fact_ledger').selectAll().execute();
      const sumOf = (pred: (r: (typeof all)[number]) => boolean) => all.filter(pred).reduce((s, r) => s + r.amount_units, 0n);
      const user = (id: number) => db.kysely.selectFrom('dim_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal((await user(parent)).rewards_units, sumOf((r) => r.user_id === parent));
      assert.equal((await user(grand)).rewards_units, sumOf((r) => r.user_id === grand));
      const pool = await db.kysely.selectFrom('dim_profit_pool').selectAll().executeTakeFirstOrThrow();
      assert.equal(pool.balance_units, sumOf((r) => r.kind === 'pool_income'));
    });
  });

  describe(`writing a signal's pending orders on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    const accounts: Array<{ id: number; funded: boolean }> = [];

    before(async () => {
      h = await startCenterHarness(dialect, { require_points: true });
      const k = h.center.ctx.db.kysely;
      const now = Date.now();
      const user = async (username: string, points: number) =>
        Number((await k.insertInto('dim_user').values({ username, inviter_id: null, points_units: toUnits(points), rewards_units: 0n, created_at: now }).executeTakeFirstOrThrow()).insertId);
      const rich = await user('rich', 100);
      const broke = await user('broke', 0);
      const strategy = Number((await k.insertInto('dim_strategy').values({ strategy_code: 'bulk', name: null, enabled: 1, created_at: now }).executeTakeFirstOrThrow()).insertId);
      // More accounts than one INSERT holds; every third owner has no points, and one account is disabled.
      for (let i = 0; i < 620; i++) {
        const funded = i % 3 !== 0;
        const enabled = i !== 7;
        const row = await k
          .insertInto('fact_exchange_account')
          .values({ user_id: funded ? rich : broke, exchange: 'paper', label: null, api_key_enc: 'x', api_secret_enc: 'x', passphrase_enc: null, api_key_hint: 'x', sandbox: 0, execution_node_id: null, enabled: enabled ? 1 : 0, created_at: now, updated_at: now })
          .executeTakeFirstOrThrow();
        const id = Number(row.insertId);
        if (enabled) accounts.push({ id, funded });
        await k.insertInto('dim_strategy_binding').values({ strategy_id: strategy, account_id: id, multiplier: String(1 + (i % 4)), enabled: 1, created_at: now }).execute();
      }
    });
    after(() => h?.close());

    test('ids read back from multi-row INSERTs map each order to its own account, for two signals written at once', async () => {
      const signal = (id: string) => v.parse(SignalSchema, { signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      const [first, second] = await Promise.all([acceptSignal(h.center.ctx, 'bulk', signal('bulk-1'), 'r1'), acceptSignal(h.center.ctx, 'bulk', signal('bulk-2'), 'r2')]);
      for (const accepted of [first, second]) {
        const funded = accounts.filter((a) => a.funded).map((a) => a.id);
        assert.equal(accepted.orderIds.length, funded.length);
        const rows = await h.center.ctx.db.kysely.selectFrom('fact_order').selectAll().where('signal_row_id', '=', accepted.signal.id).execute();
        assert.equal(rows.length, accounts.length, 'one order per enabled account, skipped ones included');
        const byId = new Map(rows.map((r) => [r.id, r]));
        const sent = accepted.orderIds.map((id) => byId.get(id));
        assert.deepEqual(
          sent.map((r) => r?.account_id),
          funded,
          'the ids to send are the funded accounts, in account order',
        );
        for (const r of sent) {
          assert.equal(r?.status, 'pending');
          assert.equal(r?.client_order_id, clientOrderIdFor(accepted.signal.signal_id, r?.account_id ?? 0));
          // These accounts have no node: this process sends them, so accepting claimed them (attempt 1).
          assert.deepEqual([r?.attempts, r?.dispatched_at], [1, accepted.signal.accepted_at]);
        }
        for (const r of rows.filter((x) => x.status === 'skipped')) assert.equal(r.attempts, 0, 'a skipped order is never claimed');
        // The plan's targets are each order's own, as a read of the rows would give them.
        const plan = accepted.plan;
        assert.ok(plan);
        assert.deepEqual(plan.routing.local, accepted.orderIds);
        assert.deepEqual([...plan.claimed.attempts.keys()], accepted.orderIds);
        for (const id of accepted.orderIds) {
          const target = plan.claimed.sealed.get(id);
          const row = byId.get(id);
          assert.deepEqual(target?.order, { id, signal_row_id: row?.signal_row_id, account_id: row?.account_id, execution_node_id: row?.execution_node_id, client_order_id: row?.client_order_id, symbol: row?.symbol, quantity: row?.quantity, sizing: row?.sizing, leverage: row?.leverage, margin_mode: row?.margin_mode });
        }
        const multipliers = new Map((await h.center.ctx.db.kysely.selectFrom('dim_strategy_binding').select(['account_id', 'multiplier']).execute()).map((b) => [b.account_id, Number(b.multiplier)]));
        for (const r of rows) {
          assert.equal(r.status, accounts.find((x) => x.id === r.account_id)?.funded ? 'pending' : 'skipped');
          assert.equal(Number(r.quantity), Number((0.01 * (multipliers.get(r.account_id) ?? 0)).toPrecision(12)), `account ${r.account_id}'s own quantity`);
        }
      }
    });
  });
}
