import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as v from 'valibot';
import { acceptSignal } from '../../src/center/dispatch/accept.js';
import { sendGroup } from '../../src/center/dispatch/send-group.js';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { SignalSchema } from '../../src/core/wire-execute.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { call } from '../helpers/node-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { seriesValue } from '../helpers/metrics.js';

const NODE_SECRET = 'metrics-node-secret-0123456789ab';
const METRICS_TOKEN = 'center-metrics-token-0123456789';
const quiet = createLogger({ level: 'silent', format: 'json' });

const scrape = (h: CenterHarness, token?: string) => call(`${h.url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
const value = seriesValue;

for (const dialect of DIALECTS) {
  describe(`center /metrics on ${dialect}`, onDialect(dialect), () => {
    let sim: BinanceSim;
    let h: CenterHarness;
    let node: RunningNode;
    const secrets: string[] = [ADMIN_TOKEN, NODE_SECRET];

    before(async () => {
      sim = await startBinanceSim();
      h = await startCenterHarness(dialect, { node_auth_secret: NODE_SECRET, exchange_urls: { binanceusdm: sim.url } });
      node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'mn', node_auth_enabled: true, node_auth_secret: NODE_SECRET, exchange_urls: { binanceusdm: sim.url } }, {}), quiet);
      await loadCcxt();
      await h.api('POST', '/api/nodes', { node_code: 'mn', base_url: node.url });
      assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'mn', secret: NODE_SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'mn'))).ok);
      const owner = (await h.api('POST', '/api/users', { username: 'm' })).body.user.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'ms' });
      for (const [i, nodeCode] of [null, 'mn'].entries()) {
        const creds = { api_key: `mk-${dialect}-${i}-${Date.now()}`, api_secret: `msecret-${dialect}-${i}-${Date.now()}` };
        sim.addAccount({ apiKey: creds.api_key, secret: creds.api_secret });
        secrets.push(creds.api_key, creds.api_secret);
        const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', ...creds, node_code: nodeCode })).body.account;
        await h.api('POST', '/api/strategies/ms/bindings', { account_id: acct.id });
      }
    });
    after(async () => {
      await node?.close();
      await h?.close();
      await sim?.close();
    });

    test('without metrics_token /metrics needs the admin token, refused as the API refuses', async () => {
      const refused = await scrape(h);
      assert.equal(refused.status, 401);
      assert.deepEqual(refused.body, { success: false, error: { code: 'unauthorized', message: 'authentication required' } });
      assert.equal((await scrape(h, 'not-the-admin-token-0123456789')).status, 401);
      const ok = await scrape(h, ADMIN_TOKEN);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    });

    test('a signal moves the request, signal, stage, order and node figures; stages show on the signal', async () => {
      const before = (await scrape(h, ADMIN_TOKEN)).text;
      assert.equal(value(before, 'tradectl_center_nodes{state="online"}'), 1);
      assert.equal(value(before, 'tradectl_center_node_up{node_code="mn"}'), 1);
      assert.equal(value(before, 'tradectl_center_orders_total{status="filled"}'), 0);
      assert.equal(value(before, 'tradectl_center_queue_depth'), undefined, 'no queue series in direct mode');

      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'ms', signal_id: `m-${dialect}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01, stop_loss: 50000 });
      assert.equal(res.status, 201, res.text);
      const view = (await h.api('GET', `/api/signals/m-${dialect}`)).body.signal;
      assert.deepEqual(view.orders.map((o: { status: string }) => o.status), ['filled', 'filled']);
      for (const order of view.orders) {
        for (const stage of ['dispatch', 'transport', 'node_queue', 'exchange', 'protection', 'apply', 'total']) {
          assert.equal(typeof order.stages_ms[stage], 'number', `${stage} of ${JSON.stringify(order)}`);
        }
        const s = order.stages_ms;
        // The parts add up to the whole (each rounded on its own).
        assert.ok(Math.abs(s.dispatch + s.transport + s.node_queue + s.exchange + s.protection + s.apply - s.total) <= 4, JSON.stringify(s));
      }
      assert.equal(view.stages_ms.total, Math.max(...view.orders.map((o: { stages_ms: { total: number } }) => o.stages_ms.total)));

      const text = (await scrape(h, ADMIN_TOKEN)).text;
      assert.equal(value(text, 'tradectl_center_http_requests_total{method="POST",route="/api/signals",status="201"}'), 1);
      assert.equal(value(text, 'tradectl_center_http_requests_total{method="GET",route="/api/signals/:id",status="200"}'), 1, 'the route pattern, not the path');
      assert.ok(!text.includes(`m-${dialect}`), 'no signal id in any label');
      assert.equal(value(text, 'tradectl_center_signals_total{result="accepted"}'), 1);
      assert.equal(value(text, 'tradectl_center_signal_stage_seconds_count{stage="total"}'), 2);
      assert.equal(value(text, 'tradectl_center_signal_stage_seconds_count{stage="exchange"}'), 2);
      assert.equal(value(text, 'tradectl_center_node_request_duration_seconds_count{path="/api/execute",outcome="ok"}'), 1);
      assert.equal(value(text, 'tradectl_center_orders_total{status="filled"}'), 2);
      assert.equal(value(text, 'tradectl_center_orders_open{status="unknown"}'), 0);
      assert.equal(value(text, 'tradectl_center_orders_oldest_age_seconds{status="unknown"}'), 0);
      for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret reached /metrics');
    });

    test('the same job sent twice at once (a redelivery) is one stage observation per order, and one order each', async () => {
      const stageCount = async () => value((await scrape(h, ADMIN_TOKEN)).text, 'tradectl_center_signal_stage_seconds_count{stage="total"}') ?? 0;
      const counted = await stageCount();
      const entries = sim.orders().filter((o) => o.kind === 'order').length;
      const ctx = h.center.ctx;
      const accepted = await acceptSignal(ctx, 'ms', v.parse(SignalSchema, { signal_id: `twice-${dialect}`, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 }), 'req-twice');
      const nodeRow = await ctx.db.kysely.selectFrom('dim_execution_node').selectAll().where('node_code', '=', 'mn').executeTakeFirstOrThrow();
      // Both claim before either applies: the second is a retry, which the node answers from the first.
      await Promise.all([sendGroup(ctx, accepted.signal, nodeRow, accepted.orderIds, false), sendGroup(ctx, accepted.signal, nodeRow, accepted.orderIds, false)]);
      const view = (await h.api('GET', `/api/signals/twice-${dialect}`)).body.signal;
      assert.deepEqual(view.orders.map((o: { status: string }) => o.status), ['filled', 'filled']);
      assert.equal(sim.orders().filter((o) => o.kind === 'order').length, entries + 2, 'one entry per account');
      assert.equal(await stageCount(), counted + 2, 'the repeat answer changed nothing and is not observed');
    });

    test('reconciliation passes are counted', async () => {
      const runs = (text: string) => value(text, 'tradectl_center_reconcile_runs_total{outcome="ok"}') ?? 0;
      const before = runs((await scrape(h, ADMIN_TOKEN)).text);
      await reconcileOnce(h.center.ctx);
      const text = (await scrape(h, ADMIN_TOKEN)).text;
      assert.equal(runs(text), before + 1);
      assert.ok((value(text, 'tradectl_center_reconcile_last_success_timestamp_seconds') ?? 0) > 0);
    });
  });
}

describe('center /metrics with metrics_token (sqlite)', () => {
  let h: CenterHarness;
  before(async () => {
    h = await startCenterHarness('sqlite', { metrics_token: METRICS_TOKEN });
  });
  after(() => h?.close());

  test('only the metrics token opens /metrics, and it opens nothing else', async () => {
    const ok = await scrape(h, METRICS_TOKEN);
    assert.equal(ok.status, 200, ok.text);
    assert.ok(!ok.text.includes(METRICS_TOKEN) && !ok.text.includes(ADMIN_TOKEN));
    for (const token of [undefined, ADMIN_TOKEN, `${METRICS_TOKEN}x`]) {
      const res = await scrape(h, token);
      assert.equal(res.status, 401, String(token));
      assert.deepEqual(res.body.error, { code: 'unauthorized', message: 'authentication required' });
    }
    assert.equal((await h.api('GET', '/api/nodes', undefined, METRICS_TOKEN)).status, 401);
    assert.ok(!h.logs.join('').includes(METRICS_TOKEN), 'the token reached the log');
  });
});
