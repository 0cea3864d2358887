import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { actionOrderId, clientOrderIdFor } from '../../src/core/client-order-id.js';
import { bookOrders, exposureOf, isRegular } from './position-book.js';
import { freePort } from '../helpers/free-port.js';

/**
 * `npm run chaos -- --rounds N`: the whole system as separate processes (the
 * exchange simulator, Redis, two execution nodes, the center in queue mode,
 * two workers; with `--direct`, the center sends to the nodes itself and
 * there is no Redis and no worker); each round fires signals, SIGKILLs one process at a random
 * moment, restarts it, waits for reconciliation, then checks every
 * (signal, account) against the simulator's own order book: each must be
 * there exactly once. Exits 1 on any duplicated or lost order.
 */
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    signals: { type: 'string', default: '3' },
    seed: { type: 'string' },
    mysql: { type: 'string' },
    latency: { type: 'string', default: '150' },
    verbose: { type: 'boolean', default: false },
    direct: { type: 'boolean', default: false },
    logs: { type: 'string' },
    /** The exchange whose simulator the accounts trade on: binanceusdm (default), okx, bybit or bitget. */
    exchange: { type: 'string', default: 'binanceusdm' },
    /** Each round is a position's life (open with stop-loss and take-profit, reduce half, close) instead of opens. */
    actions: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const SIGNALS = Number(values.signals);
const EXCHANGE = values.exchange;
/** Perpetuals only: the rounds alternate buys and sells, which a spot account without the coins cannot follow. */
const CHAOS_EXCHANGES = new Set(['binanceusdm', 'okx', 'bybit', 'bitget']);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !Number.isInteger(SIGNALS) || SIGNALS < 1 || !CHAOS_EXCHANGES.has(EXCHANGE)) {
  process.stderr.write('usage: npm run chaos -- [--rounds N] [--signals per round] [--latency ms] [--seed S] [--mysql mysql://…/db] [--exchange binanceusdm|okx|bybit|bitget] [--verbose] [--logs dir]\n');
  process.exit(2);
}

let seed = Number(values.seed ?? Date.now() % 1_000_000);
const random = () => {
  // mulberry32: a seeded run can be replayed with --seed
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const initialSeed = seed;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/tradectl.js');
const log = (line: string) => process.stdout.write(`${line}\n`);
const debug = (line: string) => values.verbose && process.stderr.write(`${line}\n`);

interface Proc {
  name: string;
  child?: ChildProcess;
  start(): Promise<void>;
  kill(): Promise<void>;
}

function managed(name: string, command: string, args: string[], env: Record<string, string>, ready: RegExp): Proc {
  const proc: Proc = {
    name,
    async start() {
      const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      proc.child = child;
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.slice(-2000)}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d;
          if (ready.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', (d: Buffer) => {
          out += d;
          debug(`[${name}] ${String(d).trim()}`);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited ${code} while starting: ${out.slice(-2000)}`));
        });
      });
      if (values['logs']) {
        const file = createWriteStream(join(values['logs'], `${name}.log`), { flags: 'a' });
        child.stdout?.pipe(file);
        child.stderr?.pipe(file);
      } else {
        child.stdout?.resume();
      }
    },
    async kill() {
      const child = proc.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}

const dir = mkdtempSync(join(tmpdir(), 'tradectl-chaos-'));
if (values['logs']) mkdirSync(values['logs'], { recursive: true });
const token = randomBytes(16).toString('hex');
const secret = randomBytes(16).toString('hex');
const ports = { sim: await freePort(), redis: await freePort(), center: await freePort(), n1: await freePort(), n2: await freePort() };
const center = `http://127.0.0.1:${ports.center}`;
const sim = `http://127.0.0.1:${ports.sim}`;
const ACCOUNTS = 6;

const common: Record<string, string> = {
  TRADECTL_LOG_FORMAT: 'json',
  TRADECTL_LOG_LEVEL: 'info',
  TRADECTL_NODE_AUTH_SECRET: secret,
  TRADECTL_EXCHANGE_URLS: `${EXCHANGE}=${sim}`,
  TRADECTL_ACCOUNT_TIMEOUT: '1.5',
  TRADECTL_EXCHANGE_TIMEOUT: '1',
};
const centerEnv: Record<string, string> = {
  ...common,
  TRADECTL_LOG_LEVEL: 'info',
  TRADECTL_DATA_DIR: dir,
  TRADECTL_CENTER_PORT: String(ports.center),
  TRADECTL_CENTER_API_TOKEN: token,
  ...(values.direct
    ? {}
    : { TRADECTL_USE_NODE_EXECUTION_QUEUE: 'true', TRADECTL_REDIS_URL: `redis://127.0.0.1:${ports.redis}`, TRADECTL_QUEUE_VISIBILITY_TIMEOUT: '3', TRADECTL_NODE_EXECUTE_POLL_TIMEOUT: '0.5' }),
  TRADECTL_NODE_REQUEST_TIMEOUT: '2',
  TRADECTL_RECONCILE_INTERVAL: '0.5',
  TRADECTL_RECONCILE_AFTER: '2.5',
  TRADECTL_SIGNAL_MAX_AGE: '86400',
  TRADECTL_NODE_HEARTBEAT_TIMEOUT: '30',
  ...(values.mysql ? { TRADECTL_DB_URL: values.mysql, TRADECTL_MASTER_KEY: randomBytes(32).toString('hex') } : {}),
};
const nodeEnv = (code: string, port: number): Record<string, string> => ({
  ...common,
  TRADECTL_PORT: String(port),
  TRADECTL_NODE_CODE: code,
  TRADECTL_CENTER_URL: center,
  TRADECTL_HEARTBEAT_INTERVAL: '1',
  TRADECTL_NODE_AUTH_ENABLED: 'true',
  TRADECTL_HOST: '127.0.0.1',
});

const simProc = managed('sim', process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--exchange', EXCHANGE, '--port', String(ports.sim), '--accounts', String(ACCOUNTS)], {}, /"url"/);
const redisProc = managed('redis', 'redis-server', ['--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, /Ready to accept connections/);
const centerProc = managed('center', process.execPath, [BIN, 'center', 'serve'], centerEnv, /center listening/);
const nodes = [managed('node-1', process.execPath, [BIN, 'node', 'serve'], nodeEnv('n1', ports.n1), /execution node listening/), managed('node-2', process.execPath, [BIN, 'node', 'serve'], nodeEnv('n2', ports.n2), /execution node listening/)];
const workers = values.direct ? [] : [1, 2].map((i) => managed(`worker-${i}`, process.execPath, [BIN, 'center', 'worker', '--concurrency', '4'], centerEnv, /worker started/));
const all = [simProc, ...(values.direct ? [] : [redisProc]), centerProc, ...nodes, ...workers];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${center}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: await res.json() };
}

/** Retries while the center is down (it may be the round's victim). */
async function untilAccepted<T>(what: string, fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > end) throw new Error(`${what}: ${(error as Error).message}`);
      await sleep(100);
    }
  }
}

const totals = { rounds: 0, signals: 0, expected: 0, onExchange: 0, duplicated: 0, lost: 0, unsettled: 0, unprotected: 0, orphaned: 0, leftOpen: 0, kills: {} as Record<string, number> };

/** Every order of `ids` final (nothing pending or unknown), within 90 s. */
async function settledAll(ids: string[]): Promise<boolean> {
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    let settled = true;
    for (const id of ids) {
      const view = await untilAccepted(`view ${id}`, () => api('GET', `/api/signals/${id}`));
      const orders = view.json.signal.orders as Array<{ status: string }>;
      if (orders.some((o) => o.status === 'pending' || o.status === 'unknown')) settled = false;
    }
    if (settled) return true;
    await sleep(200);
  }
  return false;
}

async function post(signal: Record<string, unknown>): Promise<void> {
  await untilAccepted(`post ${String(signal['signal_id'])}`, async () => {
    const res = await api('POST', '/api/signals', { strategy_code: 'chaos', symbol: 'BTC/USDT:USDT', ...signal });
    if (res.status >= 300 && res.status !== 200) throw new Error(`HTTP ${res.status}`);
  });
}

/**
 * One position's life on every account while a process is killed: open
 * 0.004 with a stop-loss and a take-profit, reduce half, close; each step
 * settles before the next is sent. Checked on the simulator's book: each
 * entry and each closing order once, every open position fully covered by
 * its stops after the reduce, and nothing left at the end (no position, no
 * protective order).
 */
async function actionRound(round: number, victim: Proc, killAfter: number, accountIds: number[]): Promise<void> {
  const base = `chaos-${initialSeed}-${round}`;
  const steps: Array<Record<string, unknown>> = [
    { signal_id: `${base}-open`, side: 'buy', quantity: 0.004, stop_loss: 50_000, take_profit: 70_000 },
    { signal_id: `${base}-reduce`, action: 'reduce', close_fraction: 0.5 },
    { signal_id: `${base}-close`, action: 'close' },
  ];
  const killing = (async () => {
    await sleep(killAfter);
    await victim.kill();
    totals.kills[victim.name] = (totals.kills[victim.name] ?? 0) + 1;
    await sleep(100 + Math.floor(random() * 400));
    await victim.start();
  })();
  let settled = true;
  let unprotected = 0;
  for (const [i, step] of steps.entries()) {
    await post(step);
    settled = (await settledAll([String(step['signal_id'])])) && settled;
    // After the reduce: every account holds half, covered by its stop-loss in full.
    if (i === 1) {
      for (let n = 1; n <= accountIds.length; n++) if ((await exposureOf(sim, `key-${n}`)).unprotected) unprotected++;
    }
  }
  await killing;
  const book = await bookOrders(sim);
  const counts = new Map<string, number>();
  for (const o of book) if (isRegular(o)) counts.set(o.clientOrderId, (counts.get(o.clientOrderId) ?? 0) + 1);
  let duplicated = 0;
  let lost = 0;
  for (const accountId of accountIds) {
    const entry = counts.get(clientOrderIdFor(`${base}-open`, accountId)) ?? 0;
    if (entry === 0) lost++;
    duplicated += Math.max(0, entry - 1);
    for (const id of [`${base}-reduce`, `${base}-close`]) duplicated += Math.max(0, (counts.get(actionOrderId(clientOrderIdFor(id, accountId), 'close', 'long')) ?? 0) - 1);
  }
  let orphaned = 0;
  let leftOpen = 0;
  for (let n = 1; n <= accountIds.length; n++) {
    const end = await exposureOf(sim, `key-${n}`);
    orphaned += end.orphaned;
    if (end.positions.length > 0) leftOpen++;
  }
  totals.rounds++;
  totals.signals += steps.length;
  totals.expected += accountIds.length;
  totals.onExchange += accountIds.length - lost;
  totals.duplicated += duplicated;
  totals.lost += lost;
  totals.unprotected += unprotected;
  totals.orphaned += orphaned;
  totals.leftOpen += leftOpen;
  if (!settled) totals.unsettled++;
  const bad = duplicated || lost || unprotected || orphaned || leftOpen;
  if (round % 10 === 0 || round === ROUNDS || bad) {
    log(`round ${round}/${ROUNDS}: duplicated ${totals.duplicated}, lost ${totals.lost}, unprotected ${totals.unprotected}, orphaned ${totals.orphaned}, left open ${totals.leftOpen}${bad ? `  <- round ${round} killed ${victim.name} after ${killAfter} ms` : ''}`);
  }
}
try {
  await simProc.start();
  // Exchange latency keeps orders in flight long enough for the kills to land mid-way.
  await fetch(`${sim}/__sim/latency`, { method: 'POST', body: JSON.stringify({ ms: Number(values.latency) }) });
  if (!values.direct) await redisProc.start();
  await centerProc.start();
  for (const node of nodes) await node.start();
  for (const code of ['n1', 'n2']) await api('POST', '/api/nodes', { node_code: code, base_url: `http://127.0.0.1:${code === 'n1' ? ports.n1 : ports.n2}` });
  const user = (await api('POST', '/api/users', { username: 'chaos', points: 1_000_000 })).json.user.id;
  await api('POST', '/api/strategies', { strategy_code: 'chaos' });
  const accountIds: number[] = [];
  for (let i = 1; i <= ACCOUNTS; i++) {
    const node = i <= 2 ? null : i <= 4 ? 'n1' : 'n2';
    // test/sim/main.ts registers key-i / secret-i, and pass-i where the exchange signs with a passphrase.
    const passphrase = EXCHANGE === 'okx' || EXCHANGE === 'bitget' ? { passphrase: `pass-${i}` } : {};
    const account = (await api('POST', '/api/accounts', { user_id: user, exchange: EXCHANGE, api_key: `key-${i}`, api_secret: `secret-${i}`, ...passphrase, node_code: node })).json.account;
    accountIds.push(account.id);
    await api('POST', '/api/strategies/chaos/bindings', { account_id: account.id });
  }
  for (const worker of workers) await worker.start();
  // Wait until both nodes' heartbeats have marked them online.
  await untilAccepted('nodes online', async () => {
    const list = (await api('GET', '/api/nodes')).json.nodes as Array<{ online: boolean }>;
    if (!list.every((n) => n.online)) throw new Error('offline');
  });
  log(`chaos: seed ${initialSeed}, ${ROUNDS} rounds × ${SIGNALS} signals × ${ACCOUNTS} accounts (2 in the center, 2 on each node), ${values.direct ? 'direct' : 'queue'} mode, ${values.mysql ? 'MySQL' : 'SQLite'}, ${EXCHANGE}, exchange latency ${values.latency} ms`);

  const victims = [centerProc, ...nodes, ...workers];
  for (let round = 1; values.actions && round <= ROUNDS; round++) {
    const victim = victims[Math.floor(random() * victims.length)] as Proc;
    await actionRound(round, victim, Math.floor(random() * 3 * (200 + 3 * Number(values.latency))), accountIds);
  }
  for (let round = 1; !values.actions && round <= ROUNDS; round++) {
    const ids = Array.from({ length: SIGNALS }, (_, i) => `chaos-${initialSeed}-${round}-${i}`);
    const victim = victims[Math.floor(random() * victims.length)] as Proc;
    const killAfter = Math.floor(random() * (200 + 3 * Number(values.latency)));
    const posting = Promise.all(
      ids.map((id) =>
        untilAccepted(`post ${id}`, async () => {
          const res = await api('POST', '/api/signals', { strategy_code: 'chaos', signal_id: id, symbol: 'BTC/USDT:USDT', side: round % 2 ? 'buy' : 'sell', quantity: 0.002 });
          if (res.status >= 300 && res.status !== 200) throw new Error(`HTTP ${res.status}`);
        }),
      ),
    );
    await sleep(killAfter);
    await victim.kill();
    totals.kills[victim.name] = (totals.kills[victim.name] ?? 0) + 1;
    await sleep(100 + Math.floor(random() * 400));
    await victim.start();
    await posting;

    // Reconciliation: every order final (nothing pending or unknown).
    let settled = false;
    const end = Date.now() + 90_000;
    while (!settled && Date.now() < end) {
      settled = true;
      for (const id of ids) {
        const view = await untilAccepted(`view ${id}`, () => api('GET', `/api/signals/${id}`));
        const orders = view.json.signal.orders as Array<{ status: string }>;
        if (orders.some((o) => o.status === 'pending' || o.status === 'unknown')) settled = false;
      }
      if (!settled) await sleep(200);
    }

    // Entries only: the Binance USD-M simulator marks them kind 'order', the exchange-neutral ones type 'market' / 'limit'.
    const book = (await (await fetch(`${sim}/__sim/orders`)).json()) as Array<{ clientOrderId: string; kind?: string; type?: string }>;
    const isEntry = (o: (typeof book)[number]) => o.kind === 'order' || o.type === 'market' || o.type === 'limit';
    const counts = new Map<string, number>();
    for (const o of book) if (isEntry(o)) counts.set(o.clientOrderId, (counts.get(o.clientOrderId) ?? 0) + 1);
    let duplicated = 0;
    let lost = 0;
    let onExchange = 0;
    const missing: string[] = [];
    for (const id of ids) {
      for (const accountId of accountIds) {
        const n = counts.get(clientOrderIdFor(id, accountId)) ?? 0;
        onExchange += n;
        if (n > 1) duplicated += n - 1;
        if (n === 0) {
          lost++;
          missing.push(id);
        }
      }
    }
    // What the center recorded for each lost order: the first thing to read when one is lost.
    for (const id of new Set(missing)) {
      const orders = (await api('GET', `/api/signals/${id}`)).json.signal.orders as Array<{ account_id: number; status: string; attempts?: number; error: unknown; executed_on?: unknown }>;
      for (const o of orders) if (!counts.get(clientOrderIdFor(id, o.account_id))) log(`  lost: ${id} account ${o.account_id}: ${JSON.stringify(o)}`);
    }
    totals.rounds++;
    totals.signals += ids.length;
    totals.expected += ids.length * accountIds.length;
    totals.onExchange += onExchange;
    totals.duplicated += duplicated;
    totals.lost += lost;
    if (!settled) totals.unsettled++;
    debug(`round ${round}: killed ${victim.name} after ${killAfter} ms; orders ${onExchange}, duplicated ${duplicated}, lost ${lost}${settled ? '' : ', NOT settled'}`);
    if (round % 10 === 0 || round === ROUNDS || duplicated || lost) {
      log(`round ${round}/${ROUNDS}: orders ${totals.onExchange}/${totals.expected}, duplicated ${totals.duplicated}, lost ${totals.lost}${duplicated || lost ? `  <- round ${round} killed ${victim.name} after ${killAfter} ms` : ''}`);
    }
  }
} finally {
  for (const proc of [...all].reverse()) await proc.kill().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

log('');
log('rounds, signals, expected orders, orders on exchange, duplicated, lost');
log(`${totals.rounds}, ${totals.signals}, ${totals.expected}, ${totals.onExchange}, ${totals.duplicated}, ${totals.lost}`);
if (values.actions) log(`positions without a full stop after the reduce: ${totals.unprotected}; protective orders left after the close: ${totals.orphaned}; positions left open: ${totals.leftOpen}`);
log(`kills: ${Object.entries(totals.kills).map(([k, v]) => `${k} ${v}`).join(', ')}; rounds not settled within 90 s: ${totals.unsettled}`);
const clean = totals.duplicated === 0 && totals.lost === 0 && totals.unsettled === 0 && totals.unprotected === 0 && totals.orphaned === 0 && totals.leftOpen === 0;
process.exit(clean && totals.rounds === ROUNDS ? 0 : 1);
