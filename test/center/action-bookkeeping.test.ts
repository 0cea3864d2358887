/* eslint-disable @typescript-eslint/no-explicit-any -- JSON views and wrapped traders are read loosely in these regression tests */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyOutcomes } from '../../src/center/dispatch/apply-results.js';
import { actionOrderId } from '../../src/core/client-order-id.js';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { Credentials } from '../../src/core/credentials.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { failingStops } from '../helpers/trader-faults.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { paperFollowers } from '../helpers/paper-followers.js';

for (const dialect of DIALECTS) {
  describe(`action bookkeeping regressions on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    before(async () => {
      h = await startCenterHarness(dialect);
    });
    after(() => h?.close());
    const book = async (id: number) => (await h.api('GET', `/api/accounts/${id}/position-book`)).body.positions.map((p: any) => [p.side, p.quantity, p.realised_pnl]);

    test('an open and a later close applied in one pass (as a group commit applies them): booked in signal order, the book ends flat', async () => {
      const f = await paperFollowers(h, `rA2-${dialect}`, [1]);
      const open = (await f.send({ signal_id: `rA2-open-${dialect}`, side: 'buy', quantity: 1, price: 140 })).orders[0];
      const close = (await f.send({ signal_id: `rA2-close-${dialect}`, action: 'close' })).orders[0];
      // Rewind the center's record to before either answer arrived (both answers held back together).
      const k = h.center.ctx.db.kysely;
      await k.deleteFrom('fact_leg_fill').execute();
      await k.deleteFrom('fact_order_leg').execute();
      await k.deleteFrom('fact_fill').where('order_id', 'in', [open.order_id, close.order_id]).execute();
      await k.deleteFrom('fact_realised_pnl').where('account_id', '=', f.accounts[0] as number).execute();
      await k.deleteFrom('fact_follower_position').where('account_id', '=', f.accounts[0] as number).execute();
      await k.deleteFrom('fact_ledger').where('order_id', 'in', [open.order_id, close.order_id]).execute();
      await k.updateTable('fact_order').set({ status: 'unknown', filled_quantity: '0', filled_price: null }).where('id', 'in', [open.order_id, close.order_id]).execute();
      const entryId = open.client_order_id;
      const closeEntryId = (await k.selectFrom('fact_order').select('client_order_id').where('id', '=', close.order_id).executeTakeFirstOrThrow()).client_order_id;
      const results = await applyOutcomes(k, [
        { orderId: open.order_id, outcome: { status: 'filled', exchangeOrderId: 'e1', filledQuantity: 1, filledPrice: 140, positionMode: 'one_way' } },
        { orderId: close.order_id, outcome: { status: 'filled', exchangeOrderId: 'e2', filledQuantity: 1, filledPrice: 150, ownFill: false, positionMode: 'one_way',
          legs: [{ clientOrderId: actionOrderId(closeEntryId, 'close', 'long'), positionSide: 'long', exchangeOrderId: 'e2', status: 'filled', filledQuantity: 1, filledPrice: 150, positionBefore: 1, positionAfter: 0 }] } },
      ], h.center.ctx.rules);
      const rows = await k.selectFrom('fact_follower_position').selectAll().where('account_id', '=', f.accounts[0] as number).execute();
      assert.deepEqual(rows.map((r) => [r.side, r.quantity]), [['long', '0']], 'opened 1 then closed 1: flat');
    });

    test('the protection pass leaves an unprotected reverse alone once later signals have moved the position on', async () => {
      const f = await paperFollowers(h, `rE-${dialect}`, [1]);
      const original = h.center.ctx.local.traders;
      h.center.ctx.local.traders = failingStops(original);
      let rev: any;
      try {
        rev = (await f.send({ signal_id: `rE-rev-${dialect}`, action: 'reverse', side: 'sell', quantity: 1, stop_loss: 170 })).orders[0];
      } finally { h.center.ctx.local.traders = original; }
      assert.equal(rev.status, 'filled'); assert.equal(rev.stop_loss_order_id, null);
      await f.send({ signal_id: `rE-close-${dialect}`, action: 'close' });
      await f.send({ signal_id: `rE-long-${dialect}`, side: 'buy', quantity: 2 });
      const trader = await original.trader({ exchange: 'paper', credentials: new Credentials(f.keys[0] as string, f.secret), sandbox: false } as any);
      const before = (await trader.fetchPositions(['SOL/USDT:USDT'])).map((p: any) => [p.side, p.contracts]);
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      await h.idle();
      const afterPos = (await trader.fetchPositions(['SOL/USDT:USDT'])).map((p: any) => [p.side, p.contracts]);
      const resting = (await trader.openOrders('SOL/USDT:USDT')).map((o: any) => [o.side, o.amount, o.trigger?.kind, o.clientOrderId]);
      assert.deepEqual(afterPos, before, 'the later long is not touched');
    });

    test('the protection pass places no stop for an open whose position a later close flattened', async () => {
      const f = await paperFollowers(h, `rF-${dialect}`, [1]);
      const original = h.center.ctx.local.traders;
      h.center.ctx.local.traders = failingStops(original);
      try {
        await f.send({ signal_id: `rF-open-${dialect}`, side: 'buy', quantity: 1, stop_loss: 130 });
      } finally { h.center.ctx.local.traders = original; }
      await f.send({ signal_id: `rF-close-${dialect}`, action: 'close' });
      const trader = await original.trader({ exchange: 'paper', credentials: new Credentials(f.keys[0] as string, f.secret), sandbox: false } as any);
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      await h.idle();
      const pos = (await trader.fetchPositions(['SOL/USDT:USDT'])).map((p: any) => [p.side, p.contracts]);
      const resting = (await trader.openOrders('SOL/USDT:USDT')).map((o: any) => [o.side, o.amount, o.trigger?.kind]);
      assert.deepEqual(resting, [], 'no stop left behind on a flat account');
    });

    test('a hedge account whose open answer was lost: the lookup found fill is booked by the account\'s known mode, not netted', async () => {
      const f = await paperFollowers(h, `rB-${dialect}`, [1]);
      const original = h.center.ctx.local.traders;
      const hedge = (lose: boolean) => ({
        stats: () => original.stats(),
        async trader(account: any) {
          const inner = await original.trader(account);
          return {
            ...inner,
            positionMode: () => 'hedge' as const,
            placeOrder: async (request: any) => {
              const placed = await inner.placeOrder(request);
              if (lose) throw new ExchangeFailure('unknown_outcome', 'connection reset', { ambiguous: true });
              return placed;
            },
            findOrder: lose ? async () => { throw new ExchangeFailure('exchange_unavailable', 'reset'); } : inner.findOrder,
          };
        },
      });
      h.center.ctx.local.traders = hedge(false) as any;
      await f.send({ signal_id: `rB-short-${dialect}`, side: 'sell', quantity: 1, price: 160 });
      h.center.ctx.local.traders = hedge(true) as any;
      const lost = await f.send({ signal_id: `rB-long-${dialect}`, side: 'buy', quantity: 1, price: 150 });
      h.center.ctx.local.traders = original;
      assert.equal(lost.orders[0].status, 'unknown');
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      assert.equal(report.settled, 1, JSON.stringify(report));
      const positions = await book(f.accounts[0] as number);
      assert.deepEqual(positions, [['long', 1, 0], ['short', 1, 0]], 'a hedge account holds both sides');
    });

    test('the protection pass on a resting entry whose node is offline leaves it open', async () => {
      const f = await paperFollowers(h, `rC-${dialect}`, [1]);
      const original = h.center.ctx.local.traders;
      h.center.ctx.local.traders = {
        stats: () => original.stats(),
        async trader(account: any) {
          const inner = await original.trader(account);
          return {
            ...inner,
            // A resting limit entry: accepted, no fill yet.
            placeOrder: async (request: any) => ({ ...(await inner.placeOrder(request)), status: 'open', filled: 0, average: null, fee: null }),
          };
        },
      } as any;
      let order: any;
      try {
        order = (await f.send({ signal_id: `rC-open-${dialect}`, side: 'buy', quantity: 1, price: 100, order_type: 'limit', stop_loss: 90 })).orders[0];
      } finally {
        h.center.ctx.local.traders = original;
      }
      assert.equal(order.status, 'open', JSON.stringify(order));
      await h.api('POST', '/api/nodes', { node_code: `dead-${dialect}`, base_url: 'http://127.0.0.1:1' });
      const moved = await h.api('PUT', `/api/accounts/${f.accounts[0] as number}/node`, { node_code: `dead-${dialect}` });
      assert.equal(moved.status, 200, moved.text);
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      await h.idle();
      const after = (await h.api('GET', `/api/signals/rC-open-${dialect}`)).body.signal.orders[0];
      assert.equal(after.status, 'open', 'the entry still rests on the exchange');
    });
  });
}
