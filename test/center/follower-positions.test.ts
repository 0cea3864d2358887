import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { Credentials } from '../../src/core/credentials.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { paperFollowers, type PaperFollowers } from '../helpers/paper-followers.js';
import { failingStops } from '../helpers/trader-faults.js';
import { seriesValue } from '../helpers/metrics.js';
import { call } from '../helpers/node-harness.js';

/**
 * The center's book of each follower's position, on both databases: built
 * from fills (entries, legacy reduce-only closes, actions' closing legs),
 * with the average entry and what each close realised net of its own fee and
 * its share of the entry's; set
 * beside the exchange's positions after a sync, and drift counted when a
 * follower trades by hand. The paper exchange fills a market entry at the
 * signal's reference price and a close at its table price (SOL 150), with a
 * 0.04% fee.
 */
for (const dialect of DIALECTS) {
  describe(`follower positions on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let f: PaperFollowers;
    let accounts: number[];
    let keys: string[];

    before(async () => {
      h = await startCenterHarness(dialect);
      f = await paperFollowers(h, `book-${dialect}`, [1, 3]);
      ({ accounts, keys } = f);
    });
    after(() => h?.close());

    const send = (signal: Record<string, unknown>) => f.send(signal);
    const book = async (i: number) => (await h.api('GET', `/api/accounts/${accounts[i]}/position-book`)).body.positions;
    const drifting = async () => seriesValue((await call(`${h.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text, 'tradectl_center_position_drift_accounts');

    test('entries, a reduce and a close build the book; each close realises its PnL net of the fees of both sides', async () => {
      await send({ signal_id: `book-open-${dialect}`, side: 'buy', quantity: 2, price: 140, stop_loss: 130, take_profit: 170 });
      assert.deepEqual(
        (await book(1)).map((p: Record<string, unknown>) => [p['symbol'], p['side'], p['quantity'], p['entry_price'], p['realised_pnl'], p['state']]),
        [['SOL/USDT:USDT', 'long', 6, 140, 0, 'not_synced']],
      );
      await send({ signal_id: `book-reduce-${dialect}`, action: 'reduce', close_fraction: 0.5 });
      // Account ×3: 3 closed at 150 against 140 = +30, less the close's fee 3 × 150 × 0.0004 = 0.18
      // and half the entry's, 6 × 140 × 0.0004 / 2 = 0.168.
      const half = await book(1);
      assert.deepEqual(half.map((p: Record<string, unknown>) => [p['quantity'], p['entry_price'], p['realised_pnl']]), [[3, 140, 29.652]]);

      assert.equal((await h.api('POST', '/api/sync/positions', {})).status, 200);
      const synced = await book(1);
      assert.deepEqual(synced.map((p: Record<string, unknown>) => [p['quantity'], p['exchange_quantity'], p['state']]), [[3, 3, 'ok']]);
      assert.equal(await drifting(), 0);

      await send({ signal_id: `book-close-${dialect}`, action: 'close' });
      const closed = await book(1);
      assert.deepEqual(
        closed.map((p: Record<string, unknown>) => [p['quantity'], p['entry_price'], p['realised_pnl'], p['exchange_quantity'], p['state']]),
        [[0, null, 59.304, 3, 'not_synced']],
        'flat on the book; the sync that saw 3 predates the close, so that is not drift',
      );
      assert.equal((await h.api('POST', '/api/sync/positions', {})).status, 200);
      assert.deepEqual(await book(1), [], 'flat on both books');
      assert.deepEqual(await book(0), []);
    });

    test('a follower that trades by hand drifts from the book, and /metrics counts it', async () => {
      await send({ signal_id: `book-open2-${dialect}`, side: 'sell', quantity: 1, price: 160 });
      // The follower buys back half of the short on the exchange, outside tradectl.
      const trader = await h.center.ctx.local.traders.trader({ exchange: 'paper', credentials: new Credentials(keys[0] as string, f.secret), sandbox: false });
      await trader.placeOrder({ symbol: 'SOL/USDT:USDT', side: 'buy', type: 'market', amount: 0.5, price: undefined, clientOrderId: 'byhand1', reduceOnly: true });
      assert.equal((await h.api('POST', '/api/sync/positions', {})).status, 200);
      const drifted = await book(0);
      assert.deepEqual(drifted.map((p: Record<string, unknown>) => [p['side'], p['quantity'], p['exchange_quantity'], p['state']]), [['short', 1, 0.5, 'drift']]);
      assert.equal(await drifting(), 1, 'one account drifts');
      // The close sizes from the exchange's position (0.5) and the book follows.
      await send({ signal_id: `book-close2-${dialect}`, action: 'close' });
      assert.equal((await h.api('POST', '/api/sync/positions', {})).status, 200);
      const after = await book(0);
      assert.deepEqual(after.map((p: Record<string, unknown>) => [p['side'], p['quantity'], p['exchange_quantity'], p['state']]), [['short', 0.5, 0, 'drift']], 'tradectl still books the half it never closed');
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`a filled entry left without its stop is protected by the reconciler on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    before(async () => {
      h = await startCenterHarness(dialect);
      const owner = (await h.api('POST', '/api/users', { username: `guard-${dialect}`, points: 1000 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'guard' });
      const id = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: `guard-key-${dialect}`, api_secret: 'guard-secret' })).body.account.id;
      await h.api('POST', '/api/strategies/guard/bindings', { account_id: id });
    });
    after(() => h?.close());
    const unprotected = async () => seriesValue((await call(`${h.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text, 'tradectl_center_orders_unprotected');

    test('the stop-loss request fails once: the order is filled and counted unprotected until the next pass places it', async () => {
      const original = h.center.ctx.local.traders;
      h.center.ctx.local.traders = failingStops(original);
      let first: Record<string, unknown>;
      try {
        first = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'guard', signal_id: `guard-1-${dialect}`, symbol: 'SOL/USDT:USDT', side: 'buy', quantity: 1, stop_loss: 140, take_profit: 170 })).body.signal.orders[0];
      } finally {
        h.center.ctx.local.traders = original;
      }
      assert.equal(first.status, 'filled');
      assert.equal(first.stop_loss_order_id, null);
      assert.equal(first.unprotected, true, 'the signal view says so');
      assert.ok(first.take_profit_order_id);
      assert.equal(await unprotected(), 1);
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      assert.equal(report.protecting, 1, JSON.stringify(report));
      await h.idle();
      const after = (await h.api('GET', `/api/signals/guard-1-${dialect}`)).body.signal.orders[0];
      assert.ok(after.stop_loss_order_id, JSON.stringify(after));
      assert.equal(after.take_profit_order_id, first.take_profit_order_id, 'the take-profit found, not placed again');
      assert.equal(after.filled_quantity, 1);
      assert.equal(after.unprotected, false);
      assert.equal(await unprotected(), 0);
      const again = await reconcileOnce(h.center.ctx, Date.now() + 2 * (h.center.ctx.config.reconcile_after + 1000));
      assert.equal(again.protecting, 0, 'nothing left to protect');
    });
  });
}
