import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import type { TraderPool } from '../../src/exchange/trader-pool.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';

/**
 * An account that runs out of account_timeout before anything is sent
 * (here: the center just started and its exchange instance takes longer to
 * build than the budget) has nothing on the exchange. Its order must not
 * end there: it stays pending and the reconciler sends it again.
 */
for (const dialect of DIALECTS) {
  describe(`an order timed out before it was sent is sent again, on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let original: TraderPool;
    let cold = true;

    before(async () => {
      h = await startCenterHarness(dialect, { account_timeout: 1 });
      original = h.center.ctx.local.traders;
      // The first build of the account's trader outlasts the 1 s budget, as a cold ccxt import and market load can.
      h.center.ctx.local.traders = {
        stats: () => original.stats(),
        async trader(account) {
          if (cold) {
            cold = false;
            await new Promise((resolve) => setTimeout(resolve, 1_500));
          }
          return original.trader(account);
        },
      };
      const owner = (await h.api('POST', '/api/users', { username: `cold-${dialect}`, points: 100 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'cold' });
      const account = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'cold-key-1', api_secret: 'cold-secret' })).body.account.id;
      await h.api('POST', '/api/strategies/cold/bindings', { account_id: account });
    });
    after(async () => {
      if (h) h.center.ctx.local.traders = original;
      await h?.close();
    });

    test('the first answer leaves it pending with the reason; the reconciler places it once', async () => {
      const accepted = await h.api('POST', '/api/signals', { strategy_code: 'cold', signal_id: 'cold-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      assert.equal(accepted.status, 202, accepted.text);
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      await h.idle();
      const first = (await h.api('GET', '/api/signals/cold-1')).body.signal.orders[0];
      assert.deepEqual([first.status, first.error?.code], ['pending', 'timeout'], JSON.stringify(first));

      const report = await reconcileOnce(h.center.ctx, Date.now() + 61_000);
      assert.equal(report.resent, 1, JSON.stringify(report));
      await h.idle();
      const order = (await h.api('GET', '/api/signals/cold-1')).body.signal.orders[0];
      assert.deepEqual([order.status, order.filled_quantity, order.attempts], ['filled', 0.01, 2], JSON.stringify(order));
    });
  });
}
