/* eslint-disable @typescript-eslint/no-explicit-any -- JSON views and wrapped traders are read loosely in these regression tests */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { createLogger } from '../../src/process/logger.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';

const SECRET = 'late-node-secret-0123456789abcdef';
for (const dialect of DIALECTS) {
  describe(`late actions on a remote node, ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let node: RunningNode;
    const accounts: number[] = [];
    before(async () => {
      h = await startCenterHarness(dialect, { node_auth_secret: SECRET });
      node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'ln', node_auth_enabled: true, node_auth_secret: SECRET }, {}), createLogger({ level: 'silent', format: 'json' }));
      await h.api('POST', '/api/nodes', { node_code: 'ln', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'ln', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'ln'))).ok);
      const owner = (await h.api('POST', '/api/users', { username: 'late', points: 1000 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'late' });
      for (const i of [0, 1]) {
        const res = await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: `late-${dialect}-${i}`, api_secret: 's', node_code: 'ln' });
        assert.equal(res.status, 201, res.text);
        accounts.push(res.body.account.id);
        await h.api('POST', '/api/strategies/late/bindings', { account_id: res.body.account.id });
      }
    });
    after(async () => { await node?.close(); await h?.close(); });
    const send = async (s: Record<string, unknown>) => (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'late', symbol: 'SOL/USDT:USDT', ...s })).body.signal;

    test('past signal_max_age, an unconfirmed update_protection expires and a remote close that filled is still found and booked', async () => {
      await send({ signal_id: `l-open-${dialect}`, side: 'buy', quantity: 1 });
      const moved = await send({ signal_id: `l-move-${dialect}`, action: 'update_protection', stop_loss: 100 });
      const closed = await send({ signal_id: `l-close-${dialect}`, action: 'close' });
      assert.deepEqual(closed.orders.map((o: any) => o.status), ['filled', 'filled']);
      const k = h.center.ctx.db.kysely;
      // Both answers lost: the update_protection on account 0, the close on account 1 (its fill not recorded).
      const moveOrder = moved.orders.find((o: any) => o.account_id === accounts[0]).order_id;
      const closeOrder = closed.orders.find((o: any) => o.account_id === accounts[1]).order_id;
      await k.deleteFrom('fact_leg_fill').where('order_id', '=', closeOrder).execute();
      await k.deleteFrom('fact_order_leg').where('order_id', '=', closeOrder).execute();
      await k.updateTable('fact_order').set({ status: 'unknown', filled_quantity: '0', filled_price: null }).where('id', 'in', [moveOrder, closeOrder]).execute();
      const past = Date.now() - h.center.ctx.config.signal_max_age - h.center.ctx.config.reconcile_after - 1000;
      await k.updateTable('fact_order').set({ updated_at: past }).where('id', 'in', [moveOrder, closeOrder]).execute();
      await k.updateTable('fact_signal').set({ accepted_at: past }).where('signal_id', 'in', [`l-move-${dialect}`, `l-close-${dialect}`]).execute();
      for (let pass = 0; pass < 3; pass++) await reconcileOnce(h.center.ctx);
      const after = await k.selectFrom('fact_order').select(['id', 'status', 'error_code']).where('id', 'in', [moveOrder, closeOrder]).execute();
      assert.deepEqual(after.map((o) => [o.id === moveOrder ? 'move' : 'close', o.status, o.error_code]).sort(), [['close', 'filled', null], ['move', 'failed', 'expired']]);
    });
  });
}
