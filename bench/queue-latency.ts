import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnWithUrl, startNode, startRedis, startSim, type Spawned } from './processes.js';
import { percentile, round } from './stats.js';

export interface QueueRow {
  mode: 'direct' | 'queue';
  p50_ms: number;
  p99_ms: number;
  samples: number;
}

export interface QueueLatency {
  rows: QueueRow[];
  added_p50_ms: number;
  added_p99_ms: number;
  /** Mean minus mean: the timestamps are whole milliseconds, so p50s move in 1 ms steps and the means show what is between. */
  added_mean_ms: number;
  ratio_p50: number;
}

const BIN = 'bin/tradectl.js';

/**
 * Queue mode's added latency: the same signal (one account on one node,
 * simulator latency as given) through a center in direct mode and through a
 * center in queue mode with one worker, alternated in one run. The figure is
 * the center's own accepted → result time for the order (its recorded
 * timestamps), so the client's polling adds nothing.
 */
export async function queueLatency(options: { samples: number; warmup: number; latencyMs: number }): Promise<QueueLatency> {
  const secret = randomBytes(16).toString('hex');
  const token = randomBytes(16).toString('hex');
  const dirs = [mkdtempSync(join(tmpdir(), 'tradectl-bq-')), mkdtempSync(join(tmpdir(), 'tradectl-bd-'))];
  const started: Spawned[] = [];
  try {
    const sim = await startSim(2);
    started.push(sim);
    await fetch(`${sim.url}/__sim/latency`, { method: 'POST', body: JSON.stringify({ ms: options.latencyMs }) });
    const redis = await startRedis();
    started.push(redis);
    const node = await startNode({ TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`, TRADECTL_NODE_AUTH_ENABLED: 'true', TRADECTL_NODE_AUTH_SECRET: secret, TRADECTL_HOST: '127.0.0.1' });
    started.push(node);
    const base = { TRADECTL_LOG_FORMAT: 'json', TRADECTL_LOG_LEVEL: 'info', TRADECTL_CENTER_PORT: '0', TRADECTL_CENTER_API_TOKEN: token, TRADECTL_NODE_AUTH_SECRET: secret, TRADECTL_RECONCILE_INTERVAL: '3600' };
    const queued = { ...base, TRADECTL_DATA_DIR: dirs[0] as string, TRADECTL_USE_NODE_EXECUTION_QUEUE: 'true', TRADECTL_REDIS_URL: redis.url, TRADECTL_NODE_EXECUTE_POLL_TIMEOUT: '30' };
    const centers = {
      queue: await spawnWithUrl(process.execPath, [BIN, 'center', 'serve'], queued, /"url":"(http[^"]+)".*center listening/),
      direct: await spawnWithUrl(process.execPath, [BIN, 'center', 'serve'], { ...base, TRADECTL_DATA_DIR: dirs[1] as string }, /"url":"(http[^"]+)".*center listening/),
    };
    started.push(centers.queue, centers.direct);
    const worker = await spawnWithUrl(process.execPath, [BIN, 'center', 'worker'], { ...queued, TRADECTL_CENTER_PORT: '0' }, /(worker started)/);
    started.push(worker);

    const api = async (center: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${center}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return (await res.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- bench reads a few known fields
    };
    for (const center of [centers.queue.url, centers.direct.url]) {
      await api(center, 'POST', '/api/nodes', { node_code: 'bn', base_url: node.url });
      // The node's heartbeats go nowhere here; one by hand marks it online.
      const beat = { node_code: 'bn', version: 'bench', status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 64 };
      await fetch(`${center}/api/nodes/bn/heartbeat`, { method: 'POST', headers: { 'x-center-token': secret, 'content-type': 'application/json' }, body: JSON.stringify(beat) });
      const user = (await api(center, 'POST', '/api/users', { username: 'b' })).user.id;
      const account = (await api(center, 'POST', '/api/accounts', { user_id: user, exchange: 'binanceusdm', api_key: 'key-1', api_secret: 'secret-1', node_code: 'bn' })).account.id;
      await api(center, 'POST', '/api/strategies', { strategy_code: 'b' });
      await api(center, 'POST', '/api/strategies/b/bindings', { account_id: account });
    }

    const one = async (center: string, id: string): Promise<number> => {
      await api(center, 'POST', '/api/signals', { strategy_code: 'b', signal_id: id, symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.002 });
      for (;;) {
        const view = await api(center, 'GET', `/api/signals/${id}`);
        const order = view.signal?.orders?.[0];
        if (order && order.status !== 'pending') {
          if (order.status !== 'filled') throw new Error(`bench order ${id} ended ${order.status}: ${JSON.stringify(order.error)}`);
          return order.latency_ms.accepted_to_result as number;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const samples: Record<'queue' | 'direct', number[]> = { queue: [], direct: [] };
    for (let i = 0; i < options.warmup + options.samples; i++) {
      for (const mode of ['direct', 'queue'] as const) {
        const ms = await one(centers[mode].url, `bq-${mode}-${i}-${Date.now()}`);
        if (i >= options.warmup) samples[mode].push(ms);
      }
    }
    const rows = (['direct', 'queue'] as const).map((mode) => ({ mode, p50_ms: round(percentile(samples[mode], 50)), p99_ms: round(percentile(samples[mode], 99)), samples: options.samples }));
    const [direct, queue] = rows as [QueueRow, QueueRow];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      rows,
      added_p50_ms: round(queue.p50_ms - direct.p50_ms),
      added_p99_ms: round(queue.p99_ms - direct.p99_ms),
      added_mean_ms: round(mean(samples.queue) - mean(samples.direct), 2),
      ratio_p50: round(queue.p50_ms / direct.p50_ms, 3),
    };
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
