import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { createLogger } from '../../src/process/logger.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';

const NODE_SECRET = 'node-secret-shared-with-center-0123';

for (const dialect of DIALECTS) {
  describe(`center end to end on ${dialect}`, onDialect(dialect), () => {
    let sim: BinanceSim;
    let h: CenterHarness;
    const nodes: RunningNode[] = [];
    const nodeLogs: string[] = [];
    const creds: Record<string, { api_key: string; api_secret: string }> = {};
    let accountIds: number[] = [];

    before(async () => {
      sim = await startBinanceSim();
      h = await startCenterHarness(dialect, { node_auth_secret: NODE_SECRET, node_auth_mode: 'hmac', exchange_urls: { binanceusdm: sim.url } });
      const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (l: string) => nodeLogs.push(l) } });
      for (const code of ['node-a', 'node-b']) {
        const config = loadNodeConfig(undefined, { port: 0, node_code: code, node_auth_enabled: true, node_auth_secret: NODE_SECRET, node_auth_mode: 'hmac', exchange_urls: { binanceusdm: sim.url } }, {});
        const node = await startNodeServer(config, logger);
        nodes.push(node);
        assert.equal((await h.api('POST', '/api/nodes', { node_code: code, name: code, base_url: node.url })).status, 201);
        const beat = await sendHeartbeat({ centerUrl: h.url, nodeCode: code, secret: NODE_SECRET, mode: 'hmac', timeoutMs: 5000 }, heartbeatOf(node.runtime, code));
        assert.ok(beat.ok, JSON.stringify(beat));
      }
      // A registered node that never sends a heartbeat is offline.
      await h.api('POST', '/api/nodes', { node_code: 'node-dead', base_url: 'http://127.0.0.1:1' });

      const owner = (await h.api('POST', '/api/users', { username: 'owner', points: 50 })).body.user.id;
      const placements: Array<string | null> = [null, 'node-a', 'node-a', 'node-b', 'node-dead'];
      for (const [i, node] of placements.entries()) {
        const c = { api_key: `e2e-key-${dialect}-${i}-${Date.now()}`, api_secret: `e2e-secret-${dialect}-${i}-${Date.now()}` };
        sim.addAccount({ apiKey: c.api_key, secret: c.api_secret });
        const res = await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', ...c, node_code: node, label: `acct-${i}` });
        assert.equal(res.status, 201, res.text);
        creds[res.body.account.id] = c;
        accountIds.push(res.body.account.id);
      }
      await h.api('POST', '/api/strategies', { strategy_code: 'trend' });
      for (const id of accountIds) await h.api('POST', '/api/strategies/trend/bindings', { account_id: id, multiplier: id === accountIds[3] ? 2 : 1 });
    });
    after(async () => {
      for (const node of nodes) await node.close();
      await h?.close();
      await sim?.close();
    });

    test('a signal reaches the local account and both nodes; the offline node is recorded, not dropped', async () => {
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'trend', signal_id: 'e2e-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, stop_loss: 58000, take_profit: 63000 });
      assert.equal(res.status, 201, res.text);
      const orders = res.body.signal.orders as Array<Record<string, any>>;
      assert.equal(orders.length, 5);
      const byAccount = new Map(orders.map((o) => [o['account_id'], o]));
      for (const id of accountIds.slice(0, 4)) {
        const o = byAccount.get(id) as Record<string, any>;
        assert.equal(o['status'], 'filled', JSON.stringify(o));
        assert.ok(o['stop_loss_order_id'] && o['take_profit_order_id']);
        assert.equal(sim.orders(creds[id]?.api_key).filter((x) => x.kind === 'order').length, 1);
      }
      assert.equal(byAccount.get(accountIds[3])?.['filled_quantity'], 0.02, 'the binding multiplier applies');
      // Claimed once for every group together: a first send, never a retry (which would look each order up first).
      for (const id of accountIds.slice(0, 4)) assert.equal(byAccount.get(id)?.['attempts'], 1);
      assert.equal(sim.requestCount('GET', '/fapi/v1/order'), 0, 'no lookup before placing');
      assert.equal(byAccount.get(accountIds[0])?.['node_code'], null);
      assert.equal(byAccount.get(accountIds[1])?.['node_code'], 'node-a');
      const dead = byAccount.get(accountIds[4]) as Record<string, any>;
      assert.equal(dead['status'], 'failed');
      assert.equal(dead['error'].code, 'node_unavailable');
      assert.equal(sim.orders(creds[accountIds[4] as number]?.api_key).length, 0);
      assert.equal(res.body.signal.status, 'completed');
      assert.equal(typeof orders[0]?.['latency_ms'].accepted_to_result, 'number');
    });

    test('the same signal posted again returns the first result and places nothing', async () => {
      const before = sim.orders().length;
      const again = await h.api('POST', '/api/signals', { strategy_code: 'trend', signal_id: 'e2e-1', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      await h.idle();
      assert.equal(sim.orders().length, before);
      const view = await h.api('GET', '/api/signals/e2e-1');
      assert.equal(view.body.signal.summary.filled, 4);
    });

    test('settlement charged the owner once per fill', async () => {
      const settlement = await h.api('GET', '/api/settlement');
      // notionals: 600 ×3 + 1200 = 3000; fee 0.1% = 3; no inviters: all to the pool
      assert.equal(settlement.body.profit_pool, '3');
      const users = await h.api('GET', '/api/users');
      assert.equal(users.body.users[0].points, '47');
    });

    test('the node list shows online, offline and account counts', async () => {
      const res = await h.api('GET', '/api/nodes');
      const byCode = new Map((res.body.nodes as Array<Record<string, any>>).map((n) => [n['node_code'], n]));
      assert.equal(byCode.get('node-a')?.['online'], true);
      assert.equal(byCode.get('node-a')?.['account_count'], 2);
      assert.equal(byCode.get('node-a')?.['capacity'], 64);
      assert.equal(byCode.get('node-dead')?.['online'], false);
      assert.match(byCode.get('node-dead')?.['offline_reason'], /never sent a heartbeat/);
    });

    test('sync writes balances and positions for accounts on the center and on nodes', async () => {
      const balance = await h.api('POST', '/api/sync/balance', { account_ids: accountIds.slice(0, 4) });
      assert.equal(balance.status, 200, balance.text);
      assert.equal(balance.body.synced, 4);
      const positions = await h.api('POST', '/api/sync/positions', {});
      assert.equal(positions.body.synced, 4);
      assert.equal(positions.body.failed.length, 1, 'the dead node is reported');
      const pos = await h.api('GET', `/api/accounts/${accountIds[3]}/positions`);
      assert.equal(pos.body.positions[0].contracts, 0.02);
      const bal = await h.api('GET', `/api/accounts/${accountIds[1]}/balances`);
      assert.equal(bal.body.balances[0].currency, 'USDT');
    });

    test('moving an account to another node routes its next order there', async () => {
      const moved = await h.api('PUT', `/api/accounts/${accountIds[1]}/node`, { node_code: 'node-b' });
      assert.equal(moved.body.account.node.node_code, 'node-b');
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'trend', signal_id: 'e2e-2', symbol: 'BTC/USDT:USDT', side: 'sell', quantity: 0.01 });
      const o = (res.body.signal.orders as Array<Record<string, any>>).find((x) => x['account_id'] === accountIds[1]);
      assert.equal(o?.['node_code'], 'node-b');
      assert.equal(o?.['status'], 'filled');
      await h.api('PUT', `/api/accounts/${accountIds[1]}/node`, { node_code: 'node-a' });
    });

    test('no credential appears in any API answer or log line', async () => {
      const answers = [await h.api('GET', '/api/accounts'), await h.api('GET', `/api/accounts/${accountIds[0]}`), await h.api('GET', '/api/signals/e2e-1'), await h.api('GET', '/api/nodes')];
      const haystack = [...answers.map((a) => a.text), ...h.logs, ...nodeLogs].join('\n');
      for (const c of Object.values(creds)) {
        assert.ok(!haystack.includes(c.api_key), 'api key leaked');
        assert.ok(!haystack.includes(c.api_secret), 'api secret leaked');
      }
      assert.ok(!haystack.includes(NODE_SECRET));
      assert.match(answers[1]?.text ?? '', /"api_key":"e2e-…/);
    });
  });
}
