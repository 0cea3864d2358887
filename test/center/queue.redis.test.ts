import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { CenterContext } from '../../src/center/context.js';
import { JobQueue } from '../../src/center/queue/job-queue.js';
import { connectRedis } from '../../src/center/queue/redis-client.js';
import { startWorker, type RunningWorker } from '../../src/center/queue/worker.js';
import { createCenterContext } from '../../src/center/server.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { startCli } from '../helpers/cli.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { needs } from '../helpers/services.js';

const SECRET = 'queue-node-secret-0123456789abcd';
const quiet = createLogger({ level: 'silent', format: 'json' });
// The center waits longer than the node's own per-account budget (as in
// production), and a job outlives the center's wait before redelivery.
const QUEUE = { use_node_execution_queue: true, node_request_timeout: 3, queue_visibility_timeout: 4, queue_max_attempts: 2, node_execute_poll_timeout: 0.3 };

interface Setup {
  sim: BinanceSim;
  redis: TestRedis;
  h: CenterHarness;
  node: RunningNode;
  keys: string[];
  workers: RunningWorker[];
  worker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

async function setup(dialect: 'sqlite' | 'mysql', accounts = 3): Promise<Setup> {
  const sim = await startBinanceSim();
  const redis = await startRedis();
  const h = await startCenterHarness(dialect, { ...QUEUE, redis_url: redis.url, node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } });
  const node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'qn', node_auth_enabled: true, node_auth_secret: SECRET, account_timeout: 2, exchange_timeout: 2, exchange_urls: { binanceusdm: sim.url } }, {}), quiet);
  // ccxt is loaded on first use; load it now so the first signal is not the one that waits.
  await loadCcxt();
  await h.api('POST', '/api/nodes', { node_code: 'qn', base_url: node.url });
  assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'qn', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'qn'))).ok);
  const owner = (await h.api('POST', '/api/users', { username: 'q' })).body.user.id;
  await h.api('POST', '/api/strategies', { strategy_code: 'qs' });
  const keys: string[] = [];
  for (let i = 0; i < accounts; i++) {
    const key = `qk-${dialect}-${i}-${Date.now()}`;
    sim.addAccount({ apiKey: key, secret: `qs-${i}` });
    const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key: key, api_secret: `qs-${i}`, node_code: 'qn' })).body.account;
    await h.api('POST', '/api/strategies/qs/bindings', { account_id: acct.id });
    keys.push(key);
  }
  const workers: RunningWorker[] = [];
  const contexts: CenterContext[] = [];
  return {
    sim,
    redis,
    h,
    node,
    keys,
    workers,
    // A worker with its own context, as a separate `center worker` process would have.
    async worker() {
      const ctx = await createCenterContext(h.center.ctx.config, quiet);
      contexts.push(ctx);
      const w = startWorker(ctx, connectRedis(redis.url, quiet, 'test-read'), connectRedis(redis.url, quiet, 'test-cmd'), {
        concurrency: 4,
        pollTimeoutMs: 300,
        visibilityMs: h.center.ctx.config.queue_visibility_timeout,
        maxAttempts: h.center.ctx.config.queue_max_attempts,
      });
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.stop();
      for (const ctx of contexts) await ctx.db.close();
      await node.close();
      await h.close();
      await redis.stop();
      await sim.close();
    },
  };
}

const entries = (s: Setup) => s.keys.map((k) => s.sim.orders(k).filter((o) => o.kind === 'order').length);
const signalBody = (id: string) => ({ strategy_code: 'qs', signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });

async function settled(s: Setup, id: string, ms = 15_000): Promise<Array<Record<string, any>>> {
  const end = Date.now() + ms;
  for (;;) {
    const view = await s.h.api('GET', `/api/signals/${id}`);
    const orders = view.body.signal.orders as Array<Record<string, any>>;
    if (orders.every((o) => o['status'] !== 'pending' && o['status'] !== 'unknown')) return orders;
    if (Date.now() > end) return orders;
    await sleep(50);
  }
}

for (const dialect of DIALECTS) {
  describe(`queue mode end to end on ${dialect}`, onDialect(dialect, 'redis'), () => {
    let s: Setup;
    before(async () => {
      s = await setup(dialect);
    });
    after(() => s?.close());

    test('signals go through the queue to two workers and each order is placed once', async () => {
      await s.worker();
      await s.worker();
      for (let i = 0; i < 4; i++) assert.equal((await s.h.api('POST', '/api/signals', signalBody(`q-${dialect}-${i}`))).status, 202);
      for (let i = 0; i < 4; i++) {
        const orders = await settled(s, `q-${dialect}-${i}`);
        assert.deepEqual(orders.map((o) => o['status']), ['filled', 'filled', 'filled']);
        // Accepting leaves queued orders to the worker that sends them: its claim is their first attempt, not a retry.
        assert.deepEqual(orders.map((o) => o['attempts']), [1, 1, 1]);
      }
      assert.deepEqual(entries(s), [4, 4, 4]);
      const queue = await s.h.api('GET', '/api/queue');
      assert.equal(queue.body.enabled, true);
      assert.equal(queue.body.enqueued, 4);
      assert.equal(queue.body.fallbacks, 0);
      assert.equal(queue.body.pending, 0);
      assert.equal(queue.body.depth, 0);
    });

    test('a reduce-only signal reaches the exchange through the queue as reduce-only, and opens nothing', async () => {
      if (s.workers.length === 0) await s.worker();
      const id = `q-close-${dialect}`;
      assert.equal((await s.h.api('POST', '/api/signals', { ...signalBody(id), side: 'sell', quantity: 0.01, reduce_only: true })).status, 202);
      assert.deepEqual((await settled(s, id)).map((o) => o['status']), ['filled', 'filled', 'filled']);
      for (const key of s.keys) {
        const close = s.sim.orders(key).find((o) => o.kind === 'order' && o.side === 'SELL');
        assert.equal(close?.reduceOnly, true, 'sent with reduceOnly');
      }
      // Each account is now 0.03 long; a reduce-only sell of more is refused by the exchange instead of flipping it short.
      const tooBig = `q-flip-${dialect}`;
      assert.equal((await s.h.api('POST', '/api/signals', { ...signalBody(tooBig), side: 'sell', quantity: 1, reduce_only: true })).status, 202);
      assert.deepEqual((await settled(s, tooBig)).map((o) => o['status']), ['rejected', 'rejected', 'rejected']);
      const view = (await s.h.api('GET', `/api/signals/${tooBig}`)).body.signal;
      assert.equal(view.reduce_only, true);
      assert.equal(view.orders[0].error.code, 'invalid_order', JSON.stringify(view.orders[0]));
    });
  });
}

describe('queue mode when things break (sqlite)', needs('redis'), () => {
  let s: Setup;
  before(async () => {
    s = await setup('sqlite', 1);
  });
  after(() => s?.close());

  test('with Redis down the center sends directly and counts the fallback; the worker reconnects when it returns', async () => {
    await s.worker();
    await s.redis.stop();
    const res = await s.h.api('POST', '/api/signals?wait=true', signalBody('down-1'));
    assert.equal(res.body.signal.orders[0].status, 'filled');
    const queue = await s.h.api('GET', '/api/queue');
    assert.equal(queue.body.available, false);
    assert.equal(queue.body.fallbacks, 1);
    await s.redis.start();
    await sleep(2500);
    assert.equal((await s.h.api('POST', '/api/signals', signalBody('up-1'))).status, 202);
    assert.equal((await settled(s, 'up-1'))[0]?.['status'], 'filled');
    const after = await s.h.api('GET', '/api/queue');
    assert.equal(after.body.available, true);
    assert.equal(after.body.enqueued, 1, 'the second signal went through the queue');
    assert.deepEqual(entries(s), [2]);
  });

  test('a poison job stops after queue_max_attempts and is recorded in the dead-letter stream', async () => {
    const redis = new Redis(s.redis.url);
    try {
      const queue = new JobQueue(redis, 'node-execute');
      await queue.enqueue({ v: 1, signal_row_id: 999_999, node_id: 1, order_ids: [999_999], retry: false, enqueued_at: Date.now() });
      await redis.xadd('node-execute', '*', 'job', '{not json');
      const end = Date.now() + 15_000;
      while (Date.now() < end && (await redis.xlen('node-execute:dead')) < 2) await sleep(100);
      const dead = (await redis.xrange('node-execute:dead', '-', '+')) as Array<[string, string[]]>;
      const reasons = dead.map(([, fields]) => fields[fields.indexOf('reason') + 1]);
      assert.ok(reasons.includes('malformed job payload'), JSON.stringify(reasons));
      assert.ok(reasons.some((r) => /gave up after 2 attempts: signal row 999999 does not exist/.test(r ?? '')), JSON.stringify(reasons));
      const stats = await s.h.api('GET', '/api/queue');
      assert.equal(stats.body.dead_letters, 2);
      assert.equal(stats.body.depth, 0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('a worker killed while it holds a job (sqlite)', needs('redis'), () => {
  let s: Setup;
  before(async () => {
    s = await setup('sqlite', 1);
  });
  after(() => s?.close());

  test('its job is redelivered to another worker and the order is placed once', async () => {
    const config = s.h.center.ctx.config;
    const dataDir = config.data_dir as string;
    const env = {
      TRADECTL_DATA_DIR: dataDir,
      TRADECTL_USE_NODE_EXECUTION_QUEUE: 'true',
      TRADECTL_REDIS_URL: s.redis.url,
      TRADECTL_NODE_AUTH_SECRET: SECRET,
      TRADECTL_NODE_REQUEST_TIMEOUT: '3',
      TRADECTL_QUEUE_VISIBILITY_TIMEOUT: '4',
      TRADECTL_NODE_EXECUTE_POLL_TIMEOUT: '0.3',
      TRADECTL_LOG_FORMAT: 'json',
    };
    assert.ok(readFileSync(join(dataDir, 'master.key'), 'utf8').length > 0);
    // Markets loaded first, so the node's only slow call is the order itself.
    assert.equal((await s.h.api('POST', '/api/sync/balance', {})).body.synced, 1);
    const doomed = await startCli(['center', 'worker'], env, /worker started/);
    // The exchange is slow, so the job is in the dying worker's hands.
    s.sim.setLatency(1500);
    const before = s.sim.requestCount('POST', '/fapi/v1/order');
    assert.equal((await s.h.api('POST', '/api/signals', signalBody('kill-1'))).status, 202);
    const end = Date.now() + 10_000;
    while (s.sim.requestCount('POST', '/fapi/v1/order') === before && Date.now() < end) await sleep(20);
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed.child.once('exit', resolve));
    s.sim.setLatency(0);
    await s.worker();
    const orders = await settled(s, 'kill-1', 20_000);
    assert.equal(orders[0]?.['status'], 'filled', JSON.stringify(orders));
    assert.deepEqual(entries(s), [1], 'placed once');
    const queue = await s.h.api('GET', '/api/queue');
    assert.ok(queue.body.redeliveries >= 1, JSON.stringify(queue.body));
    assert.equal(queue.body.pending, 0);
  });

  test('SIGTERM stops a worker process after the job in hand, with exit 0', async () => {
    const env = {
      TRADECTL_DATA_DIR: s.h.center.ctx.config.data_dir as string,
      TRADECTL_USE_NODE_EXECUTION_QUEUE: 'true',
      TRADECTL_REDIS_URL: s.redis.url,
      TRADECTL_NODE_AUTH_SECRET: SECRET,
      TRADECTL_NODE_REQUEST_TIMEOUT: '5',
      TRADECTL_QUEUE_VISIBILITY_TIMEOUT: '10',
      TRADECTL_LOG_FORMAT: 'json',
    };
    for (const w of s.workers.splice(0)) await w.stop();
    const worker = await startCli(['center', 'worker'], env, /worker started/);
    s.sim.setLatency(800);
    assert.equal((await s.h.api('POST', '/api/signals', signalBody('term-1'))).status, 202);
    const before = s.sim.requestCount('POST', '/fapi/v1/order');
    const end = Date.now() + 10_000;
    while (s.sim.requestCount('POST', '/fapi/v1/order') === before && Date.now() < end) await sleep(20);
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
    worker.child.kill('SIGTERM');
    assert.equal(await exited, 0, worker.output());
    s.sim.setLatency(0);
    const view = await s.h.api('GET', '/api/signals/term-1');
    assert.equal(view.body.signal.orders[0].status, 'filled', 'the job in hand was finished and applied before exiting');
    assert.match(worker.output(), /worker stopped/);
  });
});
