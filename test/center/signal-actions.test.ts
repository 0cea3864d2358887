import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { paperFollowers, type PaperFollowers } from '../helpers/paper-followers.js';
import { withTraders } from '../helpers/trader-faults.js';

/**
 * Actions through the center, on both databases: followers of different
 * sizes open, scale out by the same fraction, move their stop, and close
 * from their own live positions (the paper exchange, in-process).
 */
for (const dialect of DIALECTS) {
  describe(`signal actions through the center on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let f: PaperFollowers;
    let owner: number;
    let accounts: number[];

    before(async () => {
      h = await startCenterHarness(dialect);
      f = await paperFollowers(h, `act-${dialect}`, [1, 3]);
      ({ owner, accounts } = f);
    });
    after(() => h?.close());

    const send = (signal: Record<string, unknown>) => f.send(signal);
    const fills = (signal: { orders: Array<{ account_id: number; status: string; filled_quantity: number }> }) =>
      accounts.map((id) => {
        const order = signal.orders.find((o) => o.account_id === id);
        return [order?.status, order?.filled_quantity];
      });

    test('open, reduce by half, move the stop, close: each follower from its own position', async () => {
      const open = await send({ signal_id: `act-open-${dialect}`, side: 'buy', quantity: 2, stop_loss: 140, take_profit: 170 });
      assert.deepEqual(fills(open), [['filled', 2], ['filled', 6]]);

      const reduce = await send({ signal_id: `act-reduce-${dialect}`, action: 'reduce', close_fraction: 0.5 });
      assert.equal(reduce.action, 'reduce');
      assert.equal(reduce.close_fraction, 0.5);
      assert.equal(reduce.quantity, null);
      assert.deepEqual(fills(reduce), [['filled', 1], ['filled', 3]], 'half of each position, whatever its size');
      assert.deepEqual(reduce.orders.map((o: { quantity: number }) => o.quantity), [0, 0], 'sized on the exchange, not by the center');

      const moved = await send({ signal_id: `act-move-${dialect}`, action: 'update_protection', position_side: 'long', stop_loss: 145 });
      assert.deepEqual(fills(moved), [['done', 0], ['done', 0]]);

      const close = await send({ signal_id: `act-close-${dialect}`, action: 'close', side: 'sell' });
      assert.equal(close.side, 'sell');
      assert.deepEqual(fills(close), [['filled', 1], ['filled', 3]]);
      assert.deepEqual(close.summary, { filled: 2 });

      const again = await send({ signal_id: `act-close-again-${dialect}`, action: 'close' });
      assert.deepEqual(fills(again), [['done', 0], ['done', 0]], 'nothing left to close');

      // Each exchange order's fill is charged once: the entries', then each closing leg's (SOL at 150, fee_rate 0.001).
      const signals = [open, reduce, close];
      const orderIds = new Set(signals.flatMap((sig) => sig.orders.map((o: { order_id: number }) => o.order_id)));
      const ledger = (await h.api('GET', `/api/users/${owner}/ledger`)).body.entries.filter((e: { kind: string; order_id: number }) => e.kind === 'fee_charge' && orderIds.has(e.order_id));
      assert.equal(ledger.length, 6, JSON.stringify(ledger));
      assert.equal(Number(ledger.reduce((sum: number, e: { amount: string }) => sum + Number(e.amount), 0).toFixed(8)), -2.4);
      const view = (await h.api('GET', `/api/signals/act-reduce-${dialect}`)).body.signal;
      assert.deepEqual(view.orders.map((o: { legs: Array<Record<string, unknown>> }) => o.legs.map((l) => [l['role'], l['position_side'], l['status'], l['filled_quantity'], l['position_before'], l['position_after']])), [[['close', 'long', 'filled', 1, 2, 1]], [['close', 'long', 'filled', 3, 6, 3]]]);
    });

    test("a reverse books its close's fill as well as the new entry's", async () => {
      await send({ signal_id: `act-long-${dialect}`, side: 'buy', quantity: 1 });
      const reverse = await send({ signal_id: `act-reverse-${dialect}`, action: 'reverse', side: 'sell', quantity: 1, stop_loss: 160 });
      assert.deepEqual(fills(reverse), [['filled', 1], ['filled', 3]], 'the new short');
      assert.deepEqual(reverse.orders.map((o: { legs: Array<Record<string, unknown>> }) => o.legs.map((l) => [l['position_side'], l['filled_quantity']])), [[['long', 1]], [['long', 3]]], 'the long it closed');
      const ids = new Set(reverse.orders.map((o: { order_id: number }) => o.order_id));
      const charged = (await h.api('GET', `/api/users/${owner}/ledger`)).body.entries.filter((e: { kind: string; order_id: number }) => e.kind === 'fee_charge' && ids.has(e.order_id));
      assert.equal(charged.length, 4, 'two fills per follower: the close and the new entry');
      await send({ signal_id: `act-reverse-close-${dialect}`, action: 'close' });
    });

    test('bad action input is a 400 naming the field, and nothing is recorded', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ action: 'close', quantity: 1 }, 'quantity'],
        [{ action: 'reduce', quantity: 1, close_fraction: 0.5 }, 'quantity'],
        [{ action: 'update_protection' }, 'stop_loss'],
        [{ action: 'reverse', quantity: 1 }, 'side'],
        [{ action: 'cancel', cancel: 'positions' }, 'cancel'],
      ];
      for (const [fields, field] of cases) {
        const res = await h.api('POST', '/api/signals', { strategy_code: 'act', signal_id: `act-bad-${field}-${dialect}`, symbol: 'SOL/USDT:USDT', ...fields });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error.field, field, res.text);
        assert.equal((await h.api('GET', `/api/signals/act-bad-${field}-${dialect}`)).status, 404);
      }
    });

    /** Sends `signal` with the close's answer and every lookup lost, as if the connection dropped each time. */
    async function sendLosingCloses(signal: Record<string, unknown>) {
      const original = h.center.ctx.local.traders;
      // The close reaches the exchange, but its answer and every lookup are lost.
      h.center.ctx.local.traders = withTraders(original, (inner) => ({
        placeOrder: async (request) => {
          const placed = await inner.placeOrder(request);
          if (/X[LS]$/.test(request.clientOrderId)) throw new ExchangeFailure('unknown_outcome', 'connection reset', { ambiguous: true });
          return placed;
        },
        findOrder: async () => {
          throw new ExchangeFailure('exchange_unavailable', 'connection reset');
        },
      }));
      try {
        return await send(signal);
      } finally {
        h.center.ctx.local.traders = original;
      }
    }

    test('an action whose answer was lost is resent by the reconciler, which reports the close it placed, not a second one', async () => {
      await send({ signal_id: `act-open2-${dialect}`, side: 'sell', quantity: 1 });
      const close = await sendLosingCloses({ signal_id: `act-close2-${dialect}`, action: 'close' });
      assert.deepEqual(fills(close), [['unknown', 0], ['unknown', 0]]);
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      assert.equal(report.resent, 2, JSON.stringify(report));
      await h.idle();
      const settled = (await h.api('GET', `/api/signals/act-close2-${dialect}`)).body.signal;
      assert.deepEqual(fills(settled), [['filled', 1], ['filled', 3]]);
    });

    test('an action too old to send again is looked up by its closing orders, and a close that filled is booked', async () => {
      await send({ signal_id: `act-open3-${dialect}`, side: 'buy', quantity: 1 });
      const close = await sendLosingCloses({ signal_id: `act-close3-${dialect}`, action: 'close' });
      assert.deepEqual(fills(close), [['unknown', 0], ['unknown', 0]]);
      // An update_protection never confirmed either: it places nothing that can hold a fill, so it simply expires.
      const moved = await send({ signal_id: `act-move3-${dialect}`, action: 'update_protection', stop_loss: 100 });
      await h.center.ctx.db.kysely.updateTable('fact_order').set({ status: 'unknown', updated_at: 0 }).where('id', 'in', moved.orders.map((o: { order_id: number }) => o.order_id)).execute();
      const late = Date.now() + h.center.ctx.config.signal_max_age + h.center.ctx.config.reconcile_after + 1000;
      const report = await reconcileOnce(h.center.ctx, late);
      assert.equal(report.resent, 0, 'too old to be sent again');
      const expired = (await h.api('GET', `/api/signals/act-move3-${dialect}`)).body.signal.orders.map((o: { status: string; error: { code: string } }) => [o.status, o.error?.code]);
      assert.deepEqual(expired, [['failed', 'expired'], ['failed', 'expired']]);
      const settled = (await h.api('GET', `/api/signals/act-close3-${dialect}`)).body.signal;
      assert.deepEqual(fills(settled), [['filled', 1], ['filled', 3]], 'the close that did fill is booked');
      assert.deepEqual(settled.orders.map((o: { legs: Array<Record<string, unknown>> }) => o.legs.map((l) => [l['position_side'], l['filled_quantity']])), [[['long', 1]], [['long', 3]]]);
      // Nothing was placed for a signal that expired with nothing on the exchange.
      const idle = await sendLosingCloses({ signal_id: `act-close4-${dialect}`, action: 'close' });
      assert.deepEqual(fills(idle), [['done', 0], ['done', 0]], 'no position: nothing to lose');
    });
  });
}
