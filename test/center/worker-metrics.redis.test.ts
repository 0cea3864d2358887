// Needs redis-server (and MariaDB for the mysql run): a worker's GET /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCenterMetrics } from '../../src/center/metrics.js';
import { connectRedis } from '../../src/center/queue/redis-client.js';
import { startWorker, type RunningWorker } from '../../src/center/queue/worker.js';
import { startWorkerMetrics, workerMetricsHost, type WorkerMetricsListener } from '../../src/center/queue/worker-metrics.js';
import { createCenterContext } from '../../src/center/server.js';
import type { CenterContext } from '../../src/center/context.js';
import { loadCenterConfig } from '../../src/cli/center-actions.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { runCli, startCli } from '../helpers/cli.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { call } from '../helpers/node-harness.js';
import { scrape, scrapeUntil, seriesValue } from '../helpers/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { tempDir } from '../helpers/temp-dir.js';
import { needs } from '../helpers/services.js';

const SECRET = 'worker-metrics-node-secret-01234';
const METRICS_TOKEN = 'worker-metrics-token-0123456789';
const quiet = createLogger({ level: 'silent', format: 'json' });
const QUEUE = { use_node_execution_queue: true, node_request_timeout: 3, queue_visibility_timeout: 4, queue_max_attempts: 2, node_execute_poll_timeout: 0.3 };

const value = seriesValue;

interface Setup {
  sim: BinanceSim;
  redis: TestRedis;
  h: CenterHarness;
  node: RunningNode;
  /** Every secret the processes hold: none may reach /metrics or a log line. */
  secrets: string[];
  close(): Promise<void>;
}

/** A center in queue mode, one node and two accounts on it; no worker yet. */
async function setup(dialect: 'sqlite' | 'mysql', settings: Record<string, unknown> = {}): Promise<Setup> {
  const sim = await startBinanceSim();
  const redis = await startRedis();
  const h = await startCenterHarness(dialect, { ...QUEUE, redis_url: redis.url, node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url }, ...settings });
  const node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'wn', node_auth_enabled: true, node_auth_secret: SECRET, account_timeout: 2, exchange_timeout: 2, exchange_urls: { binanceusdm: sim.url } }, {}), quiet);
  await loadCcxt();
  await h.api('POST', '/api/nodes', { node_code: 'wn', base_url: node.url });
  assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'wn', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'wn'))).ok);
  const owner = (await h.api('POST', '/api/users', { username: 'w' })).body.user.id;
  await h.api('POST', '/api/strategies', { strategy_code: 'ws' });
  const secrets = [ADMIN_TOKEN, SECRET, METRICS_TOKEN];
  for (let i = 0; i < 2; i++) {
    const creds = { api_key: `wk-${dialect}-${i}-${Date.now()}`, api_secret: `wsecret-${dialect}-${i}-${Date.now()}` };
    sim.addAccount({ apiKey: creds.api_key, secret: creds.api_secret });
    secrets.push(creds.api_key, creds.api_secret);
    const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', ...creds, node_code: 'wn' })).body.account;
    await h.api('POST', '/api/strategies/ws/bindings', { account_id: acct.id });
  }
  return {
    sim,
    redis,
    h,
    node,
    secrets,
    async close() {
      await node.close();
      await h.close();
      await redis.stop();
      await sim.close();
    },
  };
}

const signalBody = (id: string) => ({ strategy_code: 'ws', signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });

async function settled(h: CenterHarness, id: string, ms = 15_000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const orders = (await h.api('GET', `/api/signals/${id}`)).body.signal.orders as Array<{ status: string }>;
    const statuses = orders.map((o) => o.status);
    if (statuses.every((s) => s !== 'pending' && s !== 'unknown') || Date.now() > end) return statuses;
    await sleep(50);
  }
}

for (const dialect of DIALECTS) {
  describe(`a worker's /metrics on ${dialect}`, onDialect(dialect, 'redis'), () => {
    let s: Setup;
    let ctx: CenterContext;
    let worker: RunningWorker;
    let metrics: WorkerMetricsListener;
    const logs: string[] = [];

    before(async () => {
      s = await setup(dialect);
      const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (line: string) => logs.push(line) } });
      ctx = await createCenterContext(s.h.center.ctx.config, logger, {}, 'worker');
      metrics = await startWorkerMetrics(ctx, 0);
      worker = startWorker(ctx, connectRedis(s.redis.url, quiet, 'test-read'), connectRedis(s.redis.url, quiet, 'test-cmd'), {
        concurrency: 4,
        pollTimeoutMs: 300,
        visibilityMs: ctx.config.queue_visibility_timeout,
        maxAttempts: ctx.config.queue_max_attempts,
      });
    });
    after(async () => {
      await worker?.stop();
      await metrics?.close();
      await ctx?.db?.close();
      await s?.close();
    });

    test('serves the stage histogram and node-call timings of the jobs it sent; the database series stay on the center', async () => {
      assert.equal((await s.h.api('POST', '/api/signals', signalBody(`wm-${dialect}`))).status, 202);
      assert.deepEqual(await settled(s.h, `wm-${dialect}`), ['filled', 'filled']);

      // The worker counts a job done after acknowledging it, which is after
      // the results (what settled() saw) are committed: wait for that count.
      const done = 'tradectl_center_worker_jobs_total{outcome="done"}';
      const res = await scrapeUntil(metrics.url, ADMIN_TOKEN, (text) => (value(text, done) ?? 0) > 0);
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = res.text;
      assert.equal(value(text, 'tradectl_center_signal_stage_seconds_count{stage="total"}'), 2);
      assert.equal(value(text, 'tradectl_center_signal_stage_seconds_count{stage="dispatch"}'), 2);
      assert.equal(value(text, 'tradectl_center_node_request_duration_seconds_count{path="/api/execute",outcome="ok"}'), 1);
      assert.equal(value(text, 'tradectl_center_worker_jobs_total{outcome="done"}'), 1);
      // At 0 before any job fails, so an alert's increase() sees the first failure.
      assert.equal(value(text, 'tradectl_center_worker_jobs_total{outcome="failed"}'), 0);
      assert.equal(value(text, 'tradectl_center_worker_jobs_total{outcome="dead_letter"}'), 0);
      for (const centerOnly of ['tradectl_center_orders_total', 'tradectl_center_nodes', 'tradectl_center_queue_depth', 'tradectl_center_reconcile_last_success_timestamp_seconds']) {
        assert.ok(!text.includes(`${centerOnly}{`) && !text.includes(`${centerOnly} `), `${centerOnly} is the center's alone`);
      }
      assert.ok(!text.includes(`wm-${dialect}`), 'no signal id in any label');
      for (const secret of s.secrets) assert.ok(!text.includes(secret), 'a secret reached /metrics');

      // The center queued the job and counts the orders; the stages were the worker's.
      const center = (await scrape(s.h.url, ADMIN_TOKEN)).text;
      assert.equal(value(center, 'tradectl_center_signal_stage_seconds_count{stage="total"}'), undefined);
      assert.equal(value(center, 'tradectl_center_orders_total{status="filled"}'), 2);
      assert.match(logs.join(''), new RegExp(`"url":"${metrics.url}".*"msg":"worker metrics listening"`));
    });

    test('answers only GET /metrics and /health: the data API is not there', async () => {
      assert.equal((await call(`${metrics.url}/health`)).body.status, 'ok');
      const api = await call(`${metrics.url}/api/nodes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(api.status, 404);
      assert.equal(api.body.error.code, 'not_found');
      assert.equal((await call(`${metrics.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 404);
    });
  });
}

describe("a worker's /metrics refuses as the center's does", () => {
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (line: string) => logs.push(line) } });
  // The listener needs the config and a registry only: no database.
  const listener = (settings: Record<string, unknown>) => {
    const config = loadCenterConfig(undefined, { data_dir: tempDir('wm'), ...settings }, {});
    return startWorkerMetrics({ config, metrics: createCenterMetrics(), logger }, 0);
  };
  const refusedAsJson = async (url: string, token?: string) => {
    const res = await scrape(url, token);
    assert.equal(res.status, 401, `${String(token)}: ${res.text}`);
    assert.deepEqual(res.body, { success: false, error: { code: 'unauthorized', message: 'authentication required' } });
  };

  test('without metrics_token it needs the admin token', async () => {
    const m = await listener({ center_api_token: ADMIN_TOKEN });
    try {
      await refusedAsJson(m.url);
      await refusedAsJson(m.url, 'not-the-admin-token-0123456789');
      assert.equal((await scrape(m.url, ADMIN_TOKEN)).status, 200);
    } finally {
      await m.close();
    }
  });

  test('with metrics_token only that token opens it', async () => {
    const m = await listener({ center_api_token: ADMIN_TOKEN, metrics_token: METRICS_TOKEN });
    try {
      for (const token of [undefined, ADMIN_TOKEN, `${METRICS_TOKEN}x`]) await refusedAsJson(m.url, token);
      const ok = await scrape(m.url, METRICS_TOKEN);
      assert.equal(ok.status, 200);
      assert.ok(!ok.text.includes(METRICS_TOKEN) && !ok.text.includes(ADMIN_TOKEN));
      assert.ok(!logs.join('').includes(METRICS_TOKEN) && !logs.join('').includes(ADMIN_TOKEN), 'a token reached the log');
    } finally {
      await m.close();
    }
  });

  test('without any token it is open on loopback and refuses a public address', async () => {
    const m = await listener({});
    try {
      assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await scrape(m.url)).status, 200);
    } finally {
      await m.close();
    }
    await assert.rejects(listener({ worker_metrics_host: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0 without metrics_token or center_api_token/);
    const guarded = loadCenterConfig(undefined, { worker_metrics_host: '0.0.0.0', metrics_token: METRICS_TOKEN }, {});
    assert.deepEqual(workerMetricsHost(guarded), { host: '0.0.0.0' });
  });

  test('`center worker` says which key is wrong and exits 2', async () => {
    const dir = tempDir('wm-cli');
    const open = await runCli(['center', 'worker', '--metrics-port', '0'], { TRADECTL_DATA_DIR: dir, TRADECTL_WORKER_METRICS_HOST: '0.0.0.0' }, dir);
    assert.equal(open.code, 2, open.stderr);
    assert.match(open.stderr, /worker_metrics_host: refusing to listen on 0\.0\.0\.0 without metrics_token/);
    const bad = await runCli(['center', 'worker', '--metrics-port', 'ninety'], { TRADECTL_DATA_DIR: dir }, dir);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /worker_metrics_port: expected an integer from 0 to 65535/);
  });
});

describe('`tradectl center worker --metrics-port` (sqlite)', needs('redis'), () => {
  let s: Setup;
  before(async () => {
    s = await setup('sqlite', { metrics_token: METRICS_TOKEN });
  });
  after(() => s?.close());

  test('logs its metrics URL, serves the jobs it ran, and closes the listener on SIGTERM', async () => {
    const env = {
      TRADECTL_DATA_DIR: s.h.center.ctx.config.data_dir as string,
      TRADECTL_USE_NODE_EXECUTION_QUEUE: 'true',
      TRADECTL_REDIS_URL: s.redis.url,
      TRADECTL_NODE_AUTH_SECRET: SECRET,
      TRADECTL_CENTER_API_TOKEN: ADMIN_TOKEN,
      TRADECTL_METRICS_TOKEN: METRICS_TOKEN,
      TRADECTL_NODE_REQUEST_TIMEOUT: '3',
      TRADECTL_QUEUE_VISIBILITY_TIMEOUT: '4',
      TRADECTL_NODE_EXECUTE_POLL_TIMEOUT: '0.3',
      TRADECTL_LOG_FORMAT: 'json',
    };
    const worker = await startCli(['center', 'worker', '--metrics-port', '0'], env, /worker started/);
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"worker metrics listening"/.exec(worker.output())?.[1];
    assert.ok(url, worker.output());

    assert.equal((await s.h.api('POST', '/api/signals', signalBody('wm-cli'))).status, 202);
    assert.deepEqual(await settled(s.h, 'wm-cli'), ['filled', 'filled']);
    assert.equal((await scrape(url, ADMIN_TOKEN)).status, 401, 'metrics_token is set: the admin token does not open it');
    const done = 'tradectl_center_worker_jobs_total{outcome="done"}';
    const text = (await scrapeUntil(url, METRICS_TOKEN, (page) => (value(page, done) ?? 0) > 0)).text;
    assert.equal(value(text, 'tradectl_center_signal_stage_seconds_count{stage="total"}'), 2);
    assert.equal(value(text, 'tradectl_center_worker_jobs_total{outcome="done"}'), 1);

    worker.child.kill('SIGTERM');
    assert.equal(await exited, 0, worker.output());
    assert.match(worker.output(), /worker stopped/);
    await assert.rejects(fetch(`${url}/health`), 'the listener is closed');
    for (const secret of s.secrets) assert.ok(!worker.output().includes(secret), 'a secret reached the worker log');
  });
});
