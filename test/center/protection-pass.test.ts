import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as v from 'valibot';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { clientOrderIdFor } from '../../src/core/client-order-id.js';
import { Credentials } from '../../src/core/credentials.js';
import { SignalSchema } from '../../src/core/wire-execute.js';
import { execute } from '../../src/execution/execute.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { createLogger } from '../../src/process/logger.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { seriesValue } from '../helpers/metrics.js';
import { call } from '../helpers/node-harness.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

/**
 * The reconciler's protection pass, through a real node in front of the
 * Binance USD-M simulator, on both databases: a limit entry that fills in
 * parts gets a stop for each part (the larger placed before the smaller is
 * cancelled), and a stop that outlived its close is cancelled. Every resend
 * is protect-only: no entry or close is ever placed by it.
 */
const SECRET = 'protect-pass-node-secret-0123456789';
const SYMBOL = 'BTC/USDT:USDT';

for (const dialect of DIALECTS) {
  describe(`the protection pass on ${dialect}`, onDialect(dialect), () => {
    let sim: BinanceSim;
    let h: CenterHarness;
    let node: RunningNode;
    let apiKey: string;
    let accountId: number;
    let clock = Date.now();

    before(async () => {
      sim = await startBinanceSim();
      h = await startCenterHarness(dialect, { node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } });
      node = await startNodeServer(
        loadNodeConfig(undefined, { port: 0, node_code: 'pp', node_auth_enabled: true, node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } }, {}),
        createLogger({ level: 'silent', format: 'json' }),
      );
      await loadCcxt();
      await h.api('POST', '/api/nodes', { node_code: 'pp', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'pp', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'pp'))).ok);
      const owner = (await h.api('POST', '/api/users', { username: `pp-${dialect}` })).body.user.id;
      apiKey = `pp-${dialect}-${Date.now()}`;
      sim.addAccount({ apiKey, secret: 'pp-secret', usdt: 100_000 });
      accountId = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key: apiKey, api_secret: 'pp-secret', node_code: 'pp' })).body.account.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'pp' });
      await h.api('POST', '/api/strategies/pp/bindings', { account_id: accountId });
    });
    after(async () => {
      await node?.close();
      await h?.close();
      await sim?.close();
    });

    /** A reconcile pass far enough ahead of the last that every order is due again. */
    const pass = async () => {
      clock = Math.max(clock, Date.now()) + h.center.ctx.config.reconcile_after + 1000;
      const report = await reconcileOnce(h.center.ctx, clock);
      await h.idle();
      return report;
    };
    const gauge = async (name: string) => seriesValue((await call(`${h.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text, name);
    const entries = () => sim.orders(apiKey).filter((o) => o.kind === 'order');
    const stops = (status = 'NEW') => sim.orders(apiKey).filter((o) => o.kind === 'algo' && o.type === 'STOP_MARKET' && o.status === status);
    const orderOf = async (signalId: string) => (await h.api('GET', `/api/signals/${signalId}`)).body.signal.orders[0];
    const book = async () => (await h.api('GET', `/api/accounts/${accountId}/position-book`)).body.positions;

    test('a limit entry that fills in parts: its stop grows with each part, the larger placed before the smaller is cancelled', async () => {
      const signalId = `pp-limit-${dialect}`;
      sim.setMarkPrice('BTCUSDT', 60_000);
      const first = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: signalId, symbol: SYMBOL, side: 'buy', order_type: 'limit', price: 59_000, quantity: 0.03, stop_loss: 55_000, take_profit: 65_000 })).body.signal.orders[0];
      assert.equal(first.status, 'open', JSON.stringify(first));
      assert.equal(first.stop_loss_order_id, null, 'nothing filled, nothing to protect yet');
      assert.equal(first.unprotected, false);

      sim.fillPart(apiKey, first.client_order_id, 0.01);
      assert.equal((await pass()).protecting, 1);
      const part = await orderOf(signalId);
      assert.deepEqual([part.status, part.filled_quantity, part.protected_quantity, part.unprotected], ['partially_filled', 0.01, 0.01, false], JSON.stringify(part));
      assert.deepEqual(stops().map((o) => o.origQty), ['0.010']);

      sim.fillPart(apiKey, first.client_order_id, 0.01);
      assert.equal((await pass()).protecting, 1);
      const more = await orderOf(signalId);
      assert.deepEqual([more.status, more.filled_quantity, more.protected_quantity], ['partially_filled', 0.02, 0.02], JSON.stringify(more));
      assert.deepEqual(stops().map((o) => o.origQty), ['0.020'], 'the stop for the whole fill, the smaller one cancelled');
      assert.deepEqual(stops('CANCELED').map((o) => o.origQty), ['0.010']);
      assert.notEqual(more.stop_loss_order_id, part.stop_loss_order_id, 'the order reports the stop that protects it now');
      assert.deepEqual(
        more.protective_orders.filter((p: { leg: string }) => p.leg === 'stop_loss').map((p: { amount: number; state: string }) => [p.amount, p.state]),
        [[0.01, 'canceled'], [0.02, 'live']],
        'the signal view lists what the order placed and what became of it',
      );
      const held = (await book()).find((p: { side: string }) => p.side === 'long');
      assert.equal(held.quantity, 0.02);
      assert.deepEqual(
        held.protective_orders.map((p: { leg: string; amount: number; trigger_price: number }) => [p.leg, p.amount, p.trigger_price]).sort(),
        [['stop_loss', 0.02, 55_000], ['take_profit', 0.02, 65_000]],
        'the center knows which orders protect the position, and how much',
      );
      assert.equal(held.excess_protection, false);

      // The rest fills when the price comes down to the limit.
      sim.setMarkPrice('BTCUSDT', 58_900);
      assert.equal((await pass()).protecting, 1);
      const full = await orderOf(signalId);
      assert.deepEqual([full.status, full.filled_quantity, full.protected_quantity, full.unprotected], ['filled', 0.03, 0.03, false], JSON.stringify(full));
      assert.deepEqual(stops().map((o) => o.origQty), ['0.030']);
      assert.equal(entries().length, 1, 'one entry: no resend placed another');
      assert.equal(await gauge('tradectl_center_orders_unprotected'), 0);
      assert.equal((await pass()).protecting, 0, 'filled and fully protected: nothing left to do');
    });

    test('a close whose stop could not be cancelled: counted as excess, then cancelled by a protect-only resend that closes nothing', async () => {
      sim.setMarkPrice('BTCUSDT', 60_000);
      await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-close-${dialect}`, action: 'close', symbol: SYMBOL });
      await pass();
      const before = entries().length;
      sim.fault({ kind: 'http_500', method: 'DELETE', path: '/fapi/v1/algoOrder', apiKey, times: 1 });
      const opened = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-open2-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01, stop_loss: 55_000 })).body.signal.orders[0];
      assert.equal(opened.status, 'filled', JSON.stringify(opened));
      const closed = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-close2-${dialect}`, action: 'close', symbol: SYMBOL })).body.signal.orders[0];
      assert.equal(closed.status, 'filled', JSON.stringify(closed));
      assert.match(closed.error?.message ?? '', /protection did not follow/);
      assert.equal(stops().length, 1, 'the stop outlived its position');
      const orphan = (await book()).find((p: { side: string }) => p.side === 'long');
      assert.deepEqual([orphan.quantity, orphan.excess_protection, orphan.protective_orders.length], [0, true, 1]);
      assert.equal(await gauge('tradectl_center_protection_excess'), 1);

      const entriesBefore = entries().length;
      assert.equal((await pass()).protecting, 1);
      assert.equal(stops().length, 0, 'cancelled by the resend');
      assert.equal(entries().length, entriesBefore, 'no close placed again');
      assert.ok(entries().length >= before + 2);
      assert.deepEqual(await book(), [], 'nothing held, nothing protecting');
      assert.equal(await gauge('tradectl_center_protection_excess'), 0);
      assert.equal((await pass()).protecting, 0);
    });

    test('protect-only places no entry and no close, whatever it finds', async () => {
      const account = { account_id: accountId, exchange: 'binanceusdm', credentials: new Credentials(apiKey, 'pp-secret'), sandbox: false, quantity: 0.01 };
      const run = (signal: Record<string, unknown>, id: string) =>
        execute({ request_id: undefined, attempt: 1, retry: true, protectOnly: true, signal: v.parse(SignalSchema, signal), accounts: [{ ...account, client_order_id: clientOrderIdFor(id, accountId) }] }, h.center.ctx.local);
      const count = sim.orders(apiKey).length;
      const [open] = await run({ signal_id: `pp-never-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01, stop_loss: 55_000 }, `pp-never-${dialect}`);
      assert.deepEqual([open?.status, open?.error?.code], ['failed', 'order_not_found'], JSON.stringify(open));
      await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-held-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01 });
      const [close] = await run({ signal_id: `pp-close-never-${dialect}`, action: 'close', symbol: SYMBOL }, `pp-close-never-${dialect}`);
      assert.equal(close?.filled_quantity, 0, JSON.stringify(close));
      const [reduce] = await run({ signal_id: `pp-reduce-never-${dialect}`, action: 'reduce', symbol: SYMBOL, close_fraction: 0.5 }, `pp-reduce-never-${dialect}`);
      assert.equal(reduce?.filled_quantity, 0, JSON.stringify(reduce));
      const [reverse] = await run({ signal_id: `pp-reverse-never-${dialect}`, action: 'reverse', symbol: SYMBOL, side: 'sell', quantity: 0.01 }, `pp-reverse-never-${dialect}`);
      assert.equal(reverse?.filled_quantity, 0, JSON.stringify(reverse));
      assert.deepEqual(reverse?.resting_protection, [], 'a protect-only answer lists what rests on the symbol: nothing');
      assert.equal(sim.orders(apiKey).length, count + 1, "only the signal's own entry was placed");
      assert.equal(sim.positions(apiKey).find((p) => p.symbol === 'BTCUSDT')?.amount, 0.01, 'the position is still held');
    });

    let flats = 0;
    /** Closes whatever the account holds and lets the pass tidy up, so each test starts flat. */
    const flat = async () => {
      sim.setMarkPrice('BTCUSDT', 60_000);
      await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-flat-${++flats}-${dialect}`, action: 'close', symbol: SYMBOL });
      await pass();
      assert.deepEqual([sim.positions(apiKey).filter((p) => p.amount !== 0).length, stops().length], [0, 0], 'flat');
    };
    const hand = () => h.center.ctx.local.traders.trader({ exchange: 'binanceusdm', credentials: new Credentials(apiKey, 'pp-secret'), sandbox: false });

    test('growing a stop never leaves the position without one: a refused larger stop keeps the smaller, and a replacement cancelled by hand is not mistaken for a live one', async () => {
      await flat();
      const signalId = `pp-grow-${dialect}`;
      const first = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: signalId, symbol: SYMBOL, side: 'buy', order_type: 'limit', price: 59_000, quantity: 0.04, stop_loss: 55_000 })).body.signal.orders[0];
      sim.fillPart(apiKey, first.client_order_id, 0.01);
      await pass();
      assert.deepEqual(stops().map((o) => o.origQty), ['0.010']);

      // The larger stop is refused (rate limit): the smaller one is not cancelled.
      sim.fault({ kind: 'rate_limit', method: 'POST', path: '/fapi/v1/algoOrder', apiKey });
      sim.fillPart(apiKey, first.client_order_id, 0.01);
      await pass();
      const refused = await orderOf(signalId);
      assert.deepEqual([refused.filled_quantity, refused.protected_quantity, refused.unprotected], [0.02, 0.01, true], JSON.stringify(refused));
      assert.deepEqual(stops().map((o) => o.origQty), ['0.010'], 'the smaller stop stays until a larger one rests');
      assert.equal(await gauge('tradectl_center_orders_unprotected'), 1);

      // The larger is placed, but cancelling the smaller fails: both rest.
      sim.fault({ kind: 'http_500', method: 'DELETE', path: '/fapi/v1/algoOrder', apiKey });
      await pass();
      assert.deepEqual(stops().map((o) => o.origQty).sort(), ['0.010', '0.020']);
      // Someone cancels the larger by hand.
      const trader = await hand();
      const larger = (await trader.openOrders(SYMBOL)).find((o) => o.amount === 0.02);
      assert.ok(larger);
      await trader.cancelOrder(larger);
      assert.deepEqual(stops().map((o) => o.origQty), ['0.010']);

      // The next pass grows the smaller again, under a new id, before cancelling it.
      await pass();
      assert.deepEqual(stops().map((o) => o.origQty), ['0.020'], 'one stop, for the whole fill');
      const grown = await orderOf(signalId);
      assert.deepEqual([grown.protected_quantity, grown.unprotected], [0.02, false], JSON.stringify(grown));
      assert.equal(await gauge('tradectl_center_orders_unprotected'), 0);
    });

    test("a cancel whose answer was lost: the protect-only resend's snapshot shows the stop gone, and the pass stops", async () => {
      await flat();
      await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-lost-open-${dialect}`, symbol: SYMBOL, side: 'buy', quantity: 0.01, stop_loss: 55_000 });
      sim.fault({ kind: 'http_503_after', method: 'DELETE', path: '/fapi/v1/algoOrder', apiKey });
      const closed = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: `pp-lost-close-${dialect}`, action: 'close', symbol: SYMBOL })).body.signal.orders[0];
      assert.equal(closed.status, 'filled', JSON.stringify(closed));
      assert.equal(stops().length, 0, 'the exchange did cancel it');
      assert.equal(await gauge('tradectl_center_protection_excess'), 1, 'the center cannot know that yet');
      assert.equal((await pass()).protecting, 1);
      assert.deepEqual(await book(), [], 'the snapshot showed nothing resting: the stop is gone');
      assert.equal(await gauge('tradectl_center_protection_excess'), 0);
      assert.equal((await pass()).protecting, 0, 'nothing left to send');
    });

    test('a node that does not announce protect_only gets no protect-only resend', async () => {
      await flat();
      const signalId = `pp-old-node-${dialect}`;
      const first = (await h.api('POST', '/api/signals?wait=true', { strategy_code: 'pp', signal_id: signalId, symbol: SYMBOL, side: 'buy', order_type: 'limit', price: 59_000, quantity: 0.02, stop_loss: 55_000 })).body.signal.orders[0];
      sim.fillPart(apiKey, first.client_order_id, 0.01);
      const k = h.center.ctx.db.kysely;
      await k.updateTable('dim_execution_node').set({ features: null }).where('node_code', '=', 'pp').execute();
      try {
        const count = sim.orders(apiKey).length;
        await pass();
        assert.equal(sim.orders(apiKey).length, count, 'nothing sent to a node that would answer it as a plain resend');
      } finally {
        assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'pp', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'pp'))).ok);
      }
      await pass();
      assert.deepEqual(stops().map((o) => o.origQty), ['0.010'], 'protected once the node says it can be');
    });
  });
}
