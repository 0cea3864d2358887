import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CenterContext } from '../../src/center/context.js';
import { acceptSignal } from '../../src/center/dispatch/accept.js';
import { dispatchOrders } from '../../src/center/dispatch/dispatcher.js';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import type { Trader } from '../../src/exchange/trader.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { scrape, seriesValue } from '../helpers/metrics.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

const SECRET = 'reconcile-node-secret-0123456789';

for (const dialect of DIALECTS) {
  describe(`reconciliation on ${dialect}`, onDialect(dialect), () => {
    let sim: BinanceSim;
    let h: CenterHarness;
    let node: RunningNode;
    const keys: Record<string, string> = {};

    before(async () => {
      sim = await startBinanceSim();
      h = await startCenterHarness(dialect, { node_auth_secret: SECRET, node_request_timeout: 1, exchange_urls: { binanceusdm: sim.url } });
      const logger = createLogger({ level: 'silent', format: 'json' });
      node = await startNodeServer(
        loadNodeConfig(undefined, { port: 0, node_code: 'rn', node_auth_enabled: true, node_auth_secret: SECRET, exchange_timeout: 3, exchange_urls: { binanceusdm: sim.url } }, {}),
        logger,
      );
      // ccxt loads on first use; load it now so no test's first order waits for it
      // (the center's node_request_timeout is deliberately short here).
      await loadCcxt();
      await h.api('POST', '/api/nodes', { node_code: 'rn', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'rn', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'rn'))).ok);
      const owner = (await h.api('POST', '/api/users', { username: 'r' })).body.user.id;
      for (const [label, place] of [['local', null], ['remote', 'rn']] as const) {
        const apiKey = `rk-${label}-${dialect}-${Date.now()}`;
        sim.addAccount({ apiKey, secret: `rs-${label}` });
        const res = await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key: apiKey, api_secret: `rs-${label}`, node_code: place });
        keys[label] = apiKey;
        await h.api('POST', '/api/strategies', { strategy_code: `s-${label}` });
        await h.api('POST', `/api/strategies/s-${label}/bindings`, { account_id: res.body.account.id });
      }
      await h.api('POST', '/api/strategies', { strategy_code: 's-both' });
      for (const id of [1, 2]) await h.api('POST', '/api/strategies/s-both/bindings', { account_id: id });
    });
    after(async () => {
      await node?.close();
      await h?.close();
      await sim?.close();
    });

    const ctx = () => h.center.ctx;
    const later = (ms = 0) => Date.now() + ctx().config.reconcile_after + 1000 + ms;
    const entries = (label: string) => sim.orders(keys[label]).filter((o) => o.kind === 'order');
    const signal = (id: string) => ({ signal_id: id, action: 'open' as const, symbol: 'BTC/USDT:USDT', side: 'buy' as const, quantity: 0.01, order_type: 'market' as const, price: undefined, stop_loss: undefined, take_profit: undefined, leverage: undefined, reduce_only: false, margin_mode: undefined });

    test('a crash between writing and sending: the reconciler sends the pending orders once', async () => {
      const before = { local: entries('local').length, remote: entries('remote').length };
      const accepted = await acceptSignal(ctx(), 's-both', signal(`crash-${dialect}`), 'req-crash');
      assert.equal(accepted.orderIds.length, 2);
      // A second stranded signal: the same accounts now have two orders each to settle.
      await acceptSignal(ctx(), 's-both', signal(`crash2-${dialect}`), 'req-crash2');
      assert.equal((await reconcileOnce(ctx())).checked, 0, 'young pending orders are left to their dispatcher');
      const report = await reconcileOnce(ctx(), later());
      assert.equal(report.resent, 4);
      assert.equal((await h.api('GET', `/api/signals/crash2-${dialect}`)).body.signal.status, 'completed');
      const view = await h.api('GET', `/api/signals/crash-${dialect}`);
      assert.deepEqual(view.body.signal.orders.map((o: { status: string }) => o.status), ['filled', 'filled']);
      assert.equal(view.body.signal.status, 'completed');
      assert.equal((await reconcileOnce(ctx(), later())).checked, 0);
      assert.equal(entries('local').length, before.local + 2);
      assert.equal(entries('remote').length, before.remote + 2);
    });

    test('a node answer lost in transit leaves the order unknown; the reconciler finds it and places nothing', async () => {
      sim.fault({ kind: 'timeout_after', method: 'POST', path: '/fapi/v1/order', apiKey: keys['remote'] });
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 's-remote', signal_id: `lost-${dialect}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      const [order] = res.body.signal.orders;
      assert.equal(order.status, 'unknown', JSON.stringify(order));
      assert.equal(order.error.code, 'unknown_outcome');
      const count = entries('remote').length;
      while (node.runtime.inFlight.size > 0) await sleep(50);
      const report = await reconcileOnce(ctx(), later());
      assert.equal(report.settled, 1);
      const after = await h.api('GET', `/api/signals/lost-${dialect}`);
      assert.equal(after.body.signal.orders[0].status, 'filled');
      assert.equal(entries('remote').length, count, 'found, not placed again');
    });

    test('a node that is restarting leaves its orders pending; once it is back the reconciler places them once', async () => {
      const port = node.port;
      await node.close();
      const count = entries('remote').length;
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 's-remote', signal_id: `restart-${dialect}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      const [pending] = res.body.signal.orders;
      assert.equal(pending.status, 'pending', JSON.stringify(pending));
      assert.equal(pending.error.code, 'node_unavailable');
      assert.equal((await reconcileOnce(ctx(), later())).waiting, 1, 'nothing can be learned while the node is down');
      node = await startNodeServer(
        loadNodeConfig(undefined, { port, node_code: 'rn', node_auth_enabled: true, node_auth_secret: SECRET, exchange_timeout: 3, exchange_urls: { binanceusdm: sim.url } }, {}),
        createLogger({ level: 'silent', format: 'json' }),
      );
      const report = await reconcileOnce(ctx(), later());
      assert.equal(report.resent, 1);
      const view = await h.api('GET', `/api/signals/restart-${dialect}`);
      assert.equal(view.body.signal.orders[0].status, 'filled');
      assert.equal(view.body.signal.orders[0].error, null);
      assert.equal(entries('remote').length, count + 1);
    });

    test('an old signal whose order never reached the exchange is failed as expired, not placed late', async () => {
      const count = entries('local').length;
      await acceptSignal(ctx(), 's-local', signal(`old-${dialect}`), 'req-old');
      const report = await reconcileOnce(ctx(), later(ctx().config.signal_max_age));
      assert.equal(report.expired, 1);
      const view = await h.api('GET', `/api/signals/old-${dialect}`);
      assert.equal(view.body.signal.orders[0].status, 'failed');
      assert.equal(view.body.signal.orders[0].error.code, 'expired');
      assert.equal(entries('local').length, count);
    });

    test('a credential that cannot be decrypted fails its own group; the other group is still sent', async () => {
      const k = ctx().db.kysely;
      const remote = await k.selectFrom('fact_exchange_account').select(['id', 'api_secret_enc']).where('execution_node_id', 'is not', null).executeTakeFirstOrThrow();
      const counts = { local: entries('local').length, remote: entries('remote').length };
      // Sealed with another master key, as after a wrong key rotation.
      await k.updateTable('fact_exchange_account').set({ api_secret_enc: `v1:${Buffer.alloc(48, 7).toString('base64')}` }).where('id', '=', remote.id).execute();
      try {
        const accepted = await acceptSignal(ctx(), 's-both', signal(`sealed-${dialect}`), 'req-sealed');
        await assert.rejects(dispatchOrders(ctx(), accepted.signal, accepted.orderIds, false), /cannot be decrypted/);
        // The in-process group runs on after the failure was reported: wait for its answer.
        const statuses = async () => {
          const orders = (await h.api('GET', `/api/signals/sealed-${dialect}`)).body.signal.orders as Array<{ node_code: string | null; status: string }>;
          return new Map(orders.map((o) => [o.node_code, o.status]));
        };
        let byNode = await statuses();
        for (let i = 0; i < 150 && byNode.get(null) !== 'filled'; i++) {
          await sleep(20);
          byNode = await statuses();
        }
        assert.equal(byNode.get(null), 'filled');
        assert.equal(entries('local').length, counts.local + 1);
        assert.equal(byNode.get('rn'), 'pending', 'left for the reconciler, never sent');
        assert.equal(entries('remote').length, counts.remote);
      } finally {
        await k.updateTable('fact_exchange_account').set({ api_secret_enc: remote.api_secret_enc }).where('id', '=', remote.id).execute();
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`reconciliation around orders that cannot be applied on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    const BAD = 504;
    const ACCOUNTS = 6;
    /** What the exchange reports: every `bad-` order filled beyond what the books can hold (6e16 USDT), the good one normally. */
    const signal = (id: string) => ({ signal_id: id, action: 'open' as const, symbol: 'BTC/USDT:USDT', side: 'buy' as const, quantity: 0.01, order_type: 'market' as const, price: undefined, stop_loss: undefined, take_profit: undefined, leverage: undefined, reduce_only: false });
    const trader: Trader = {
      exchange: 'paper',
      // An entry placed now fills like the bad ones.
      placeOrder: async (request) => ({ id: `x-${request.clientOrderId}`, clientOrderId: request.clientOrderId, status: 'closed', amount: 1e12, filled: 1e12, average: 60000, fee: null }),
      findOrder: async (_symbol, clientOrderId) => {
        const good = clientOrderId.startsWith('good');
        return { id: `x-${clientOrderId}`, clientOrderId, status: 'closed', amount: good ? 0.01 : 1e12, filled: good ? 0.01 : 1e12, average: 60000, fee: null };
      },
      setLeverage: async () => undefined,
      setMarginMode: async () => undefined,
      fetchBalances: async () => [],
      marketSizing: async () => { throw new Error('not sized here'); },
      lastPrice: async () => undefined,
      fetchPositions: async () => [],
      openOrders: async () => [],
      cancelOrder: async () => false,
      positionMode: () => 'one_way',
    };
    let ctx: CenterContext;
    let good: number;
    const T = Date.now();

    before(async () => {
      h = await startCenterHarness(dialect);
      ctx = { ...h.center.ctx, local: { ...h.center.ctx.local, traders: { trader: async () => trader, stats: () => ({ market_loads: {}, cached_instances: 0, exchanges_loaded: [] }) } } };
      const k = ctx.db.kysely;
      const owner = (await h.api('POST', '/api/users', { username: `fair-${dialect}`, points: 100 })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'fair' });
      const accounts: number[] = [];
      for (let i = 0; i <= ACCOUNTS; i++) accounts.push((await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: `fair-key-${i}`, api_secret: 'fair-secret' })).body.account.id);
      await h.api('POST', '/api/strategies/fair/bindings', { account_id: accounts[0] });
      const strategy = (await k.selectFrom('dim_strategy').select('id').where('strategy_code', '=', 'fair').executeTakeFirstOrThrow()).id;
      const signals: number[] = [];
      for (let s = 0; s < BAD / ACCOUNTS; s++) {
        const row = await k
          .insertInto('fact_signal')
          .values({ signal_id: `fair-${s}`, strategy_id: strategy, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', order_type: 'market', price: null, stop_loss: null, take_profit: null, leverage: null, reduce_only: 0, request_id: `r-${s}`, status: 'dispatched', accepted_at: T - 100_000, dispatched_at: T - 100_000, completed_at: null })
          .executeTakeFirstOrThrow();
        signals.push(Number(row.insertId));
      }
      const order = (signal: number, account: number, clientOrderId: string, updatedAt: number) => ({
        signal_row_id: signal, account_id: account, user_id: owner, execution_node_id: null, client_order_id: clientOrderId, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01',
        status: 'unknown', filled_quantity: '0', error_code: 'unknown_outcome', error_message: 'lost', attempts: 1, created_at: T - 100_000, updated_at: updatedAt,
      });
      // The unappliable orders first (lower ids), last tried 70 s ago; the good one waited longer, 90 s.
      const bad = Array.from({ length: BAD }, (_, i) => order(signals[Math.floor(i / ACCOUNTS)] as number, accounts[i % ACCOUNTS] as number, `bad-${i}`, T - 70_000));
      for (let i = 0; i < bad.length; i += 100) await k.insertInto('fact_order').values(bad.slice(i, i + 100)).execute();
      good = Number((await k.insertInto('fact_order').values(order(signals[0] as number, accounts[ACCOUNTS] as number, 'good-1', T - 90_000)).executeTakeFirstOrThrow()).insertId);
    });
    after(() => h?.close());

    /** The bad orders by "status error_code touched-at-T?". */
    const statuses = async () => {
      const rows = await ctx.db.kysely.selectFrom('fact_order').select(['status', 'error_code', 'updated_at']).where('client_order_id', 'like', 'bad-%').execute();
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const key = `${r.status} ${r.error_code} ${r.updated_at === T ? 'now' : 'before'}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    const unappliedCount = async () => seriesValue((await scrape(h.url, ADMIN_TOKEN)).text, 'tradectl_center_reconcile_orders_total{result="unapplied"}');

    test('more than a pass of unappliable orders: one pass settles the good order; the others go to the back, still unknown', async () => {
      assert.equal(await unappliedCount(), 0);
      const report = await reconcileOnce(ctx, T);
      assert.deepEqual(report, { checked: 500, settled: 1, resent: 0, expired: 0, waiting: 0, unapplied: 499, protecting: 0 });
      const order = await ctx.db.kysely.selectFrom('fact_order').selectAll().where('id', '=', good).executeTakeFirstOrThrow();
      assert.equal(order.status, 'filled');
      assert.equal((await ctx.db.kysely.selectFrom('fact_fill').select('notional_units').where('order_id', '=', good).executeTakeFirstOrThrow()).notional_units, 600n * 10n ** 8n);
      assert.deepEqual(await statuses(), { 'unknown apply_failed now': 499, 'unknown unknown_outcome before': 5 });
      const failed = await ctx.db.kysely.selectFrom('fact_order').select('error_message').where('client_order_id', '=', 'bad-0').executeTakeFirstOrThrow();
      assert.match(failed.error_message ?? '', /could not be applied: amount out of range/);
      assert.equal(await unappliedCount(), 499);
      const ok = seriesValue((await scrape(h.url, ADMIN_TOKEN)).text, 'tradectl_center_reconcile_runs_total{outcome="ok"}') ?? 0;
      assert.ok(ok >= 1, 'the pass itself succeeded');
    });

    test('an order that failed waits reconcile_after before it is tried again, while the rest get their turn', async () => {
      assert.deepEqual(await reconcileOnce(ctx, T), { checked: 5, settled: 0, resent: 0, expired: 0, waiting: 0, unapplied: 5, protecting: 0 });
      assert.equal((await reconcileOnce(ctx, T)).checked, 0, 'nothing is due again yet');
      assert.deepEqual(await statuses(), { 'unknown apply_failed now': BAD });
      const again = await reconcileOnce(ctx, T + ctx.config.reconcile_after);
      assert.equal(again.checked, 500);
      assert.equal(again.unapplied, 500);
      const rows = await ctx.db.kysely.selectFrom('fact_order').select('status').where('client_order_id', 'like', 'bad-%').execute();
      assert.equal(rows.length, BAD, 'never dropped');
      assert.ok(rows.every((r) => r.status === 'unknown'), 'never marked failed: the exchange may hold a real fill');
    });

    test('an answer that cannot be applied leaves its order unknown and due after reconcile_after, not first in line for ever', async () => {
      const sent = Date.now();
      const accepted = await acceptSignal(ctx, 'fair', signal(`fair-live-${dialect}`), 'req-fair-live');
      await dispatchOrders(ctx, accepted.signal, accepted.orderIds, false);
      const row = async () => ctx.db.kysely.selectFrom('fact_order').selectAll().where('id', '=', accepted.orderIds[0] as number).executeTakeFirstOrThrow();
      const marked = await row();
      assert.deepEqual([marked.status, marked.error_code], ['unknown', 'apply_failed']);
      assert.match(marked.error_message ?? '', /could not be applied: amount out of range/);
      assert.ok(marked.updated_at >= sent);
      // Not due a moment before (the pass looks at the bad orders left from the last test).
      await reconcileOnce(ctx, marked.updated_at + ctx.config.reconcile_after - 1);
      assert.equal((await row()).updated_at, marked.updated_at, 'not due yet');
      // Due: it waited longest, so it is looked at first; it still cannot be applied and goes to the back again.
      const due = marked.updated_at + ctx.config.reconcile_after;
      const report = await reconcileOnce(ctx, due);
      assert.equal(report.checked, 1);
      assert.equal(report.unapplied, 1);
      const after = await row();
      assert.deepEqual([after.status, after.error_code, after.updated_at], ['unknown', 'apply_failed', due]);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`orders the reconciler cannot settle now take turns with the rest on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    const T = Date.now();
    const STUCK = 501;
    let good: number;

    before(async () => {
      h = await startCenterHarness(dialect);
      const k = h.center.ctx.db.kysely;
      // A node that never sent a heartbeat: nothing about its orders can be learned.
      await h.api('POST', '/api/nodes', { node_code: 'gone', base_url: 'http://127.0.0.1:1' });
      const owner = (await h.api('POST', '/api/users', { username: `turns-${dialect}` })).body.user.id;
      const stuckAccount = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'turns-key-gone', api_secret: 'turns-secret', node_code: 'gone' })).body.account.id;
      const localAccount = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'turns-key-local', api_secret: 'turns-secret' })).body.account.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'turns' });
      const strategy = (await k.selectFrom('dim_strategy').select('id').where('strategy_code', '=', 'turns').executeTakeFirstOrThrow()).id;
      const node = (await k.selectFrom('dim_execution_node').select('id').where('node_code', '=', 'gone').executeTakeFirstOrThrow()).id;
      const signalRow = (id: string, acceptedAt: number) => ({ signal_id: id, strategy_id: strategy, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01', order_type: 'market', price: null, stop_loss: null, take_profit: null, leverage: null, reduce_only: 0, request_id: id, status: 'dispatched', accepted_at: acceptedAt, dispatched_at: acceptedAt, completed_at: null });
      const order = (signal: number, account: number, nodeId: number | null, clientOrderId: string, updatedAt: number) => ({
        signal_row_id: signal, account_id: account, user_id: owner, execution_node_id: nodeId, client_order_id: clientOrderId, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: '0.01',
        status: 'unknown', filled_quantity: '0', error_code: 'unknown_outcome', error_message: 'lost', attempts: 1, created_at: updatedAt, updated_at: updatedAt,
      });
      const stuck = [];
      for (let i = 0; i < STUCK; i++) {
        const signal = Number((await k.insertInto('fact_signal').values(signalRow(`turns-${i}`, T - 90_000)).executeTakeFirstOrThrow()).insertId);
        stuck.push(order(signal, stuckAccount, node, `tcturns${i}`, T - 80_000));
      }
      for (let i = 0; i < stuck.length; i += 100) await k.insertInto('fact_order').values(stuck.slice(i, i + 100)).execute();
      // Due later than all of them, so it is last in a line ordered by waiting time alone.
      const signal = Number((await k.insertInto('fact_signal').values(signalRow('turns-good', T - 70_000)).executeTakeFirstOrThrow()).insertId);
      good = Number((await k.insertInto('fact_order').values(order(signal, localAccount, null, 'tcturnsgood', T - 65_000)).executeTakeFirstOrThrow()).insertId);
    });
    after(() => h?.close());

    test("a pass full of an offline node's orders does not keep the next pass from the others", async () => {
      const first = await reconcileOnce(h.center.ctx, T);
      assert.deepEqual([first.checked, first.waiting], [500, 500]);
      const second = await reconcileOnce(h.center.ctx, T);
      assert.deepEqual([second.checked, second.waiting, second.resent], [500, 499, 1], JSON.stringify(second));
      await h.idle();
      const order = await h.center.ctx.db.kysely.selectFrom('fact_order').select(['status', 'reconciled_at']).where('id', '=', good).executeTakeFirstOrThrow();
      assert.deepEqual(order, { status: 'filled', reconciled_at: T });
      const stuck = await h.center.ctx.db.kysely.selectFrom('fact_order').select(({ fn }) => fn.countAll<number>().as('n')).where('status', '=', 'unknown').where('execution_node_id', 'is not', null).executeTakeFirstOrThrow();
      assert.equal(Number(stuck.n), STUCK, 'still waiting for their node, never dropped');
    });
  });
}
