import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { createLogger } from '../../src/process/logger.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import type { Json } from '../helpers/node-harness.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

/**
 * Sizing per binding through the center, on both databases: each binding's
 * mode against the Binance USD-M simulator's live balances, through a real
 * node and in the center's own process; the order's quantity becomes what
 * the node chose; leverage and margin per binding; what the binding API
 * refuses. BTCUSDT: step 0.001 BTC, minimum 0.001 BTC and 100 USDT of value.
 */
const SECRET = 'sizing-node-secret-0123456789abcdef';
const SYMBOL = 'BTC/USDT:USDT';

for (const dialect of DIALECTS) {
  describe(`sizing per binding on ${dialect}`, onDialect(dialect), () => {
    let sim: BinanceSim;
    let h: CenterHarness;
    let node: RunningNode;
    let owner: number;
    let serial = 0;

    before(async () => {
      sim = await startBinanceSim();
      h = await startCenterHarness(dialect, { node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } });
      node = await startNodeServer(
        loadNodeConfig(undefined, { port: 0, node_code: 'sz', node_auth_enabled: true, node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } }, {}),
        createLogger({ level: 'silent', format: 'json' }),
      );
      await loadCcxt();
      await h.api('POST', '/api/nodes', { node_code: 'sz', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'sz', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'sz'))).ok);
      owner = (await h.api('POST', '/api/users', { username: `sz-${dialect}` })).body.user.id;
    });
    after(async () => {
      await node?.close();
      await h?.close();
      await sim?.close();
    });

    /** An account on the simulator with `usdt`, on the node (or in the center with `local`). */
    const account = async (usdt: number, local = false) => {
      const apiKey = `sz-${dialect}-${++serial}-${Date.now()}`;
      sim.addAccount({ apiKey, secret: 'sz-secret', usdt });
      const created = await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key: apiKey, api_secret: 'sz-secret', ...(local ? {} : { node_code: 'sz' }) });
      assert.equal(created.status, 201, created.text);
      return { id: created.body.account.id as number, apiKey };
    };
    const bind = async (strategy: string, accountId: number, fields: Record<string, unknown>) => {
      const res = await h.api('POST', `/api/strategies/${strategy}/bindings`, { account_id: accountId, ...fields });
      assert.equal(res.status, 201, res.text);
    };
    const entries = (apiKey: string) => sim.orders(apiKey).filter((o) => o.kind === 'order');

    test('each binding sized its own way from its live balance, through a node and in the center; leverage and margin per binding', async () => {
      const strategy = `sz-modes-${dialect}`;
      // The strategy's defaults: 600 USDT per signal at leverage 3.
      const made = await h.api('POST', '/api/strategies', { strategy_code: strategy, sizing: 'fixed_notional', sizing_value: 600, leverage: 3 });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual([made.body.strategy.sizing, made.body.strategy.sizing_value, made.body.strategy.min_size, made.body.strategy.leverage], ['fixed_notional', 600, null, 3]);

      const equity = await account(10_000);
      const inherits = await account(10_000);
      const risk = await account(10_000);
      const tooSmall = await account(1_000);
      const roundedUp = await account(1_000);
      const inCenter = await account(10_000, true);
      const capped = await account(100_000);
      const multiplied = await account(100_000);
      await bind(strategy, equity.id, { sizing: 'equity_percent', sizing_value: 2 });
      await bind(strategy, inherits.id, {});
      await bind(strategy, risk.id, { sizing: 'risk_percent', sizing_value: 1 });
      await bind(strategy, tooSmall.id, { sizing: 'equity_percent', sizing_value: 5 });
      await bind(strategy, roundedUp.id, { sizing: 'equity_percent', sizing_value: 5, min_size: 'round_up' });
      await bind(strategy, inCenter.id, { sizing: 'equity_percent', sizing_value: 2 });
      await bind(strategy, capped.id, { sizing: 'multiplier', multiplier: 1, max_position_notional: 300, leverage: 20, margin_mode: 'isolated' });
      await bind(strategy, multiplied.id, { sizing: 'multiplier', multiplier: 2 });
      const view = (await h.api('GET', `/api/strategies/${strategy}`)).body.strategy;
      assert.deepEqual(
        view.bindings.find((b: Json) => b.account_id === capped.id),
        { id: view.bindings.find((b: Json) => b.account_id === capped.id).id, account_id: capped.id, multiplier: 1, enabled: true, sizing: 'multiplier', sizing_value: null, min_size: null, max_position_notional: 300, leverage: 20, margin_mode: 'isolated' },
      );

      sim.setMarkPrice('BTCUSDT', 60_000);
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: strategy, signal_id: `sz-modes-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01, stop_loss: 58_000, leverage: 5 });
      assert.equal(res.status, 201, res.text);
      const orders = new Map<number, Json>(res.body.signal.orders.map((o: Json) => [o.account_id, o]));
      const of = (a: { id: number }) => orders.get(a.id) as Json;
      const filled = (a: { id: number }) => [of(a).status, of(a).filled_quantity, of(a).quantity];

      // 2% of 10,000 = 200 USDT = 0.00333 BTC → 0.003, on the node and in the center alike.
      assert.deepEqual(filled(equity), ['filled', 0.003, 0.003], JSON.stringify(of(equity)));
      assert.deepEqual(filled(inCenter), ['filled', 0.003, 0.003], JSON.stringify(of(inCenter)));
      assert.equal(of(inCenter).execution, 'center');
      assert.deepEqual(
        { ...of(equity).sizing, reason: undefined },
        { mode: 'equity_percent', value: 2, min_size: 'skip', max_notional: null, quantity: 0.003, equity: 10_000, price: 60_000, reason: undefined },
      );
      assert.equal(of(equity).sizing.reason, '2% of equity 10000 USDT at 60000 = 0.00333333 BTC, rounded down to 0.003');
      // The strategy's 600 USDT = 0.01 BTC.
      assert.deepEqual(filled(inherits), ['filled', 0.01, 0.01]);
      assert.equal(of(inherits).sizing.mode, 'fixed_notional');
      // 1% of 10,000 = 100 USDT at risk over 2,000 per BTC = 0.05 BTC.
      assert.deepEqual(filled(risk), ['filled', 0.05, 0.05]);
      // 5% of 1,000 = 50 USDT: below the minimum (0.002 BTC = 120 USDT).
      assert.deepEqual([of(tooSmall).status, of(tooSmall).error.code, of(tooSmall).quantity], ['rejected', 'below_minimum', 0], JSON.stringify(of(tooSmall)));
      assert.equal(entries(tooSmall.apiKey).length, 0, 'nothing on the simulator for the skipped follower');
      assert.deepEqual(filled(roundedUp), ['filled', 0.002, 0.002]);
      assert.match(of(roundedUp).sizing.reason, /raised to the minimum 0\.002 BTC/);
      // 0.01 × 1 = 600 USDT, capped at 300 = 0.005.
      assert.deepEqual(filled(capped), ['filled', 0.005, 0.005], JSON.stringify(of(capped)));
      assert.deepEqual(filled(multiplied), ['filled', 0.02, 0.02]);
      assert.equal(of(multiplied).sizing, null, 'a plain multiplier binding is sized by the center, as before');

      // Leverage: the binding's, else the strategy's (over the signal's 5); margin: the binding's, else the account's own.
      assert.equal(sim.leverage(capped.apiKey, 'BTCUSDT'), 20);
      assert.equal(sim.marginType(capped.apiKey, 'BTCUSDT'), 'ISOLATED');
      assert.deepEqual([of(capped).leverage, of(capped).margin_mode], [20, 'isolated']);
      for (const a of [equity, inherits, inCenter, multiplied]) {
        assert.equal(sim.leverage(a.apiKey, 'BTCUSDT'), 3);
        assert.equal(sim.marginType(a.apiKey, 'BTCUSDT'), 'CROSSED');
      }
      for (const a of [equity, inherits, risk, roundedUp, inCenter, capped, multiplied]) assert.equal(entries(a.apiKey).length, 1);
    });

    test('risk_percent without a stop-loss: that follower is skipped with stop_loss_required, the others trade', async () => {
      const strategy = `sz-risk-${dialect}`;
      await h.api('POST', '/api/strategies', { strategy_code: strategy });
      const risky = await account(10_000);
      const plain = await account(10_000);
      await bind(strategy, risky.id, { sizing: 'risk_percent', sizing_value: 1 });
      await bind(strategy, plain.id, {});
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: strategy, signal_id: `sz-risk-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01 });
      const orders = new Map<number, Json>(res.body.signal.orders.map((o: Json) => [o.account_id, o]));
      assert.deepEqual([orders.get(risky.id).status, orders.get(risky.id).error.code], ['skipped', 'stop_loss_required'], JSON.stringify(orders.get(risky.id)));
      assert.equal(entries(risky.apiKey).length, 0);
      assert.deepEqual([orders.get(plain.id).status, orders.get(plain.id).filled_quantity], ['filled', 0.01]);
    });

    test('a sized order whose answer was lost is looked up, never placed or sized again; its quantity is what was placed', async () => {
      const strategy = `sz-lost-${dialect}`;
      await h.api('POST', '/api/strategies', { strategy_code: strategy, sizing: 'equity_percent', sizing_value: 2 });
      const follower = await account(10_000);
      await bind(strategy, follower.id, {});
      // The order is placed and its answer lost; the node's one lookup fails too: unknown.
      sim.fault({ kind: 'http_503_after', method: 'POST', path: '/fapi/v1/order', apiKey: follower.apiKey });
      sim.fault({ kind: 'http_500', method: 'GET', path: '/fapi/v1/order', apiKey: follower.apiKey });
      const signalId = `sz-lost-${dialect}`;
      const first = (await h.api('POST', '/api/signals?wait=true', { strategy_code: strategy, signal_id: signalId, symbol: SYMBOL, side: 'buy', quantity: 0.01 })).body.signal.orders[0];
      assert.equal(first.status, 'unknown', JSON.stringify(first));
      assert.equal(first.sizing.reason, '2% of equity 10000 USDT at 60000 = 0.00333333 BTC, rounded down to 0.003');
      const balanceCalls = sim.requestCount('GET', '/fapi/v3/account');
      await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      await h.idle();
      const settled = (await h.api('GET', `/api/signals/${signalId}`)).body.signal.orders[0];
      assert.deepEqual([settled.status, settled.filled_quantity, settled.quantity], ['filled', 0.003, 0.003], JSON.stringify(settled));
      assert.equal(entries(follower.apiKey).length, 1, 'one entry: the lookup found it');
      assert.equal(sim.requestCount('GET', '/fapi/v3/account'), balanceCalls, 'not sized again');
    });

    test('a node that does not announce sizing is never sent a sized order: it would place the signal quantity', async () => {
      const strategy = `sz-outdated-${dialect}`;
      await h.api('POST', '/api/strategies', { strategy_code: strategy });
      const sized = await account(10_000);
      const plain = await account(10_000);
      await bind(strategy, sized.id, { sizing: 'equity_percent', sizing_value: 2 });
      await bind(strategy, plain.id, { multiplier: 1 });
      // As a node of an earlier version reports itself: no features.
      await h.center.ctx.db.kysely.updateTable('dim_execution_node').set({ features: null }).where('node_code', '=', 'sz').execute();
      try {
        const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: strategy, signal_id: `sz-outdated-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01 });
        const orders = new Map<number, Json>(res.body.signal.orders.map((o: Json) => [o.account_id, o]));
        assert.deepEqual([orders.get(sized.id).status, orders.get(sized.id).error?.code], ['failed', 'node_outdated'], JSON.stringify(orders.get(sized.id)));
        assert.equal(entries(sized.apiKey).length, 0, 'nothing placed for the sized account');
        assert.equal(orders.get(plain.id).status, 'filled', 'a plain multiplier account still trades on that node');
      } finally {
        assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'sz', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'sz'))).ok);
      }
    });

    test('the binding and strategy APIs refuse bad sizing with a 400 naming the field', async () => {
      const strategy = `sz-bad-${dialect}`;
      await h.api('POST', '/api/strategies', { strategy_code: strategy });
      const a = await account(1_000);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ sizing: 'moon' }, 'sizing'],
        [{ sizing: 'equity_percent' }, 'sizing_value'],
        [{ sizing: 'equity_percent', sizing_value: 101 }, 'sizing_value'],
        [{ sizing_value: 5 }, 'sizing_value'],
        [{ sizing: 'fixed_notional', sizing_value: -5 }, 'sizing_value'],
        [{ min_size: 'sometimes' }, 'min_size'],
        [{ max_position_notional: 0 }, 'max_position_notional'],
        [{ leverage: 201 }, 'leverage'],
        [{ leverage: 2.5 }, 'leverage'],
        [{ margin_mode: 'portfolio' }, 'margin_mode'],
      ];
      for (const [fields, field] of cases) {
        const res = await h.api('POST', `/api/strategies/${strategy}/bindings`, { account_id: a.id, ...fields });
        assert.equal(res.status, 400, `${JSON.stringify(fields)}: ${res.text}`);
        assert.equal(res.body.error.field, field, res.text);
      }
      const made = await h.api('POST', '/api/strategies', { strategy_code: `${strategy}-2`, sizing: 'risk_percent' });
      assert.deepEqual([made.status, made.body.error.field], [400, 'sizing_value'], made.text);
      const patched = await h.api('PATCH', `/api/strategies/${strategy}`, { sizing: 'fixed_notional' });
      assert.deepEqual([patched.status, patched.body.error.field], [400, 'sizing_value'], patched.text);
      const fine = await h.api('PATCH', `/api/strategies/${strategy}`, { sizing: 'fixed_notional', sizing_value: '250.5', min_size: 'round_up', margin_mode: 'ISOLATED' });
      assert.equal(fine.status, 200, fine.text);
      assert.deepEqual([fine.body.strategy.sizing, fine.body.strategy.sizing_value, fine.body.strategy.min_size, fine.body.strategy.margin_mode], ['fixed_notional', 250.5, 'round_up', 'isolated']);
      const cleared = await h.api('PATCH', `/api/strategies/${strategy}`, { sizing: null, sizing_value: null });
      assert.deepEqual([cleared.status, cleared.body.strategy.sizing, cleared.body.strategy.min_size], [200, null, 'round_up']);
    });
  });
}
