import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CenterContext } from '../../src/center/context.js';
import { connectRedis } from '../../src/center/queue/redis-client.js';
import { startWorker, type RunningWorker } from '../../src/center/queue/worker.js';
import { createCenterContext } from '../../src/center/server.js';
import { createLogger } from '../../src/process/logger.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { ADMIN_TOKEN, startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { scrapeUntil } from '../helpers/metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';
import { needs } from '../helpers/services.js';

// Needs redis-server (queue mode); the center runs on SQLite: the id's path does not depend on the dialect.
const SECRET = 'request-id-node-secret-0123456789';

interface LogLine {
  msg: string;
  request_id?: string;
  signal_id?: string;
  node_code?: string | null;
}
const parse = (lines: string[]): LogLine[] => lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as LogLine);

interface Setup {
  h: CenterHarness;
  node: RunningNode;
  nodeLogs: string[];
  close(): Promise<void>;
}

async function setup(sim: BinanceSim, settings: Record<string, unknown>): Promise<Setup> {
  const h = await startCenterHarness('sqlite', { node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url }, ...settings });
  const nodeLogs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (l: string) => nodeLogs.push(l) } });
  const node = await startNodeServer(loadNodeConfig(undefined, { port: 0, node_code: 'rn', node_auth_enabled: true, node_auth_secret: SECRET, exchange_urls: { binanceusdm: sim.url } }, {}), logger);
  await loadCcxt();
  await h.api('POST', '/api/nodes', { node_code: 'rn', base_url: node.url });
  assert.ok((await sendHeartbeat({ centerUrl: h.url, nodeCode: 'rn', secret: SECRET, mode: 'token', timeoutMs: 5000 }, heartbeatOf(node.runtime, 'rn'))).ok);
  const owner = (await h.api('POST', '/api/users', { username: 'r' })).body.user.id;
  await h.api('POST', '/api/strategies', { strategy_code: 'rs' });
  const key = `rk-${Date.now()}-${Math.random()}`;
  sim.addAccount({ apiKey: key, secret: 'rsecret' });
  const acct = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'binanceusdm', api_key: key, api_secret: 'rsecret', node_code: 'rn' })).body.account;
  await h.api('POST', '/api/strategies/rs/bindings', { account_id: acct.id });
  return {
    h,
    node,
    nodeLogs,
    async close() {
      await node.close();
      await h.close();
    },
  };
}

async function settled(h: CenterHarness, id: string): Promise<string[]> {
  for (let i = 0; i < 400; i++) {
    const statuses = ((await h.api('GET', `/api/signals/${id}`)).body.signal.orders as Array<{ status: string }>).map((o) => o.status);
    if (statuses.every((s) => s !== 'pending' && s !== 'unknown')) return statuses;
    await sleep(50);
  }
  throw new Error(`signal ${id} did not settle`);
}

/** The id the center sent with this signal's job, and every node line that carries it. */
function jobLines(centerLines: LogLine[], nodeLines: LogLine[], signalId: string) {
  const answered = centerLines.filter((l) => l.msg === 'job answered' && l.signal_id === signalId && l.node_code === 'rn');
  assert.equal(answered.length, 1, 'one job for the node');
  const id = answered[0]?.request_id as string;
  assert.match(id, /^[0-9a-f-]{36}$/);
  return { id, center: centerLines.filter((l) => l.request_id === id), node: nodeLines.filter((l) => l.request_id === id) };
}

let sim: BinanceSim;
before(async () => {
  sim = await startBinanceSim();
});
after(() => sim?.close());

describe('request id, direct mode', () => {
  let s: Setup;
  before(async () => {
    s = await setup(sim, {});
  });
  after(() => s?.close());

  test("the center's id for a job reaches the node and is in both sides' lines for it", async () => {
    assert.equal((await s.h.api('POST', '/api/signals?wait=true', { strategy_code: 'rs', signal_id: 'rid-direct', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 })).status, 201);
    const { id, center, node } = jobLines(parse(s.h.logs), parse(s.nodeLogs), 'rid-direct');
    assert.deepEqual(center.map((l) => l.msg), ['sending job', 'job answered']);
    assert.ok(node.some((l) => l.msg === 'execute received'), 'node: execute received');
    assert.ok(node.some((l) => l.msg === 'execute answered' && l.signal_id === 'rid-direct'), 'node: execute answered');
    // Another signal is another job, with another id.
    await s.h.api('POST', '/api/signals?wait=true', { strategy_code: 'rs', signal_id: 'rid-direct-2', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
    assert.notEqual(jobLines(parse(s.h.logs), parse(s.nodeLogs), 'rid-direct-2').id, id);
  });
});

describe('request id, queue mode', needs('redis'), () => {
  let redis: TestRedis;
  let s: Setup;
  let worker: RunningWorker;
  let workerCtx: CenterContext;
  const workerLogs: string[] = [];
  before(async () => {
    redis = await startRedis();
    s = await setup(sim, { use_node_execution_queue: true, redis_url: redis.url, node_request_timeout: 5, queue_visibility_timeout: 10, node_execute_poll_timeout: 0.3 });
    // A worker with its own logger, as a separate `center worker` process would have.
    const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (l: string) => workerLogs.push(l) } });
    workerCtx = await createCenterContext(s.h.center.ctx.config, logger);
    worker = startWorker(workerCtx, connectRedis(redis.url, logger, 'rid-read'), connectRedis(redis.url, logger, 'rid-cmd'), { concurrency: 2, pollTimeoutMs: 300, visibilityMs: 10_000, maxAttempts: 3 });
  });
  after(async () => {
    await worker?.stop();
    await workerCtx?.db?.close();
    await s?.close();
    await redis?.stop();
  });

  test('the center gives the queued job an id; the worker sends it and the node logs it', async () => {
    assert.equal((await s.h.api('POST', '/api/signals', { strategy_code: 'rs', signal_id: 'rid-queue', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 })).status, 202);
    assert.deepEqual(await settled(s.h, 'rid-queue'), ['filled']);
    const queued = parse(s.h.logs).filter((l) => l.msg === 'job queued' && l.signal_id === 'rid-queue');
    assert.equal(queued.length, 1);
    const { id, center: workerLines, node } = jobLines(parse(workerLogs), parse(s.nodeLogs), 'rid-queue');
    assert.equal(queued[0]?.request_id, id, 'the worker sent the id the center queued the job with');
    assert.deepEqual(workerLines.map((l) => l.msg), ['sending job', 'job answered']);
    assert.ok(node.some((l) => l.msg === 'execute answered' && l.signal_id === 'rid-queue'));

    // The center's /metrics shows the queue.
    // The worker acknowledges the job after committing its results: wait for the ack.
    const queue = s.h.center.ctx.config.node_execute_queue;
    const text = (await scrapeUntil(s.h.url, ADMIN_TOKEN, (page) => page.includes(`tradectl_center_queue_depth{queue="${queue}"} 0`))).text;
    assert.ok(text.includes(`tradectl_center_queue_available{queue="${queue}"} 1`), text);
    assert.ok(text.includes(`tradectl_center_queue_enqueued_total{queue="${queue}"} 1`));
    assert.ok(text.includes(`tradectl_center_queue_fallbacks_total{queue="${queue}"} 0`));
    assert.ok(text.includes(`tradectl_center_queue_depth{queue="${queue}"} 0`));
    assert.ok(text.includes(`tradectl_center_queue_dead_letters_total{queue="${queue}"} 0`));
  });
});
