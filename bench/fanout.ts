import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase, mysqlUrl, type TestDatabase } from '../test/helpers/databases.js';
import { monotonicUs } from './cpu-profile.js';
import type { FloorAnswer } from './fanout-floor.js';
import { spawnWithUrl, spawnWithUrls, startSim, type Spawned } from './processes.js';
import { percentile, round } from './stats.js';

export interface FanoutOptions {
  accounts: number;
  nodes: number;
  /**
   * Processes the nodes run in (default: one per CPU, at most `nodes`).
   * Fewer than `nodes`: host processes (bench/node-host.ts) serving the
   * nodes round-robin. Equal to `nodes`: one `tradectl node serve` each, as
   * deployed on separate machines; on a 2-core box twenty V8 processes then
   * compete for the CPU in a way twenty machines would not.
   */
  nodeProcesses?: number | undefined;
  /** Measured signals per database (after `warmup` unmeasured ones). */
  signals: number;
  warmup: number;
  latencyMs: number;
  /** Accounts the naive one-POST-per-account baseline runs over (then scaled to `accounts`). */
  naiveAccounts: number;
  dialects: Array<'sqlite' | 'mysql'>;
  /**
   * Process counts to split the floor's ccxt calls over (default: as many
   * as node processes, and one per CPU). The first one is the ratio's floor:
   * the same calls from as many processes as the nodes run in.
   */
  floorProcesses?: number[] | undefined;
  /** Write V8 CPU profiles of each center and of node 1 here (slows the run; the figures are then not comparable). */
  profileDir?: string | undefined;
}

export interface FanoutDialectRow {
  database: 'sqlite' | 'mysql';
  signals: number;
  /** The center's own accepted_at → completed_at (every order applied and settled), ms. */
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  /** Client-side wall time, POST sent → completion seen by polling (every `POLL_MS`), ms. */
  client_p50_ms: number;
  /** Accepted → pending orders written and sent (the signal's dispatched_at). */
  dispatched_p50_ms: number;
  /** utime + stime of the center process per account, from /proc/<pid>/stat. */
  center_cpu_ms_per_account: number;
  /** The same for all node processes together. */
  nodes_cpu_ms_per_account: number;
  /** The same for the local MariaDB server (mysql only, when its process is visible here). */
  db_server_cpu_ms_per_account: number | null;
  /** On the node, request arrival → the account's answer (entry, then stop-loss ‖ take-profit). */
  account_p50_ms: number;
  account_p99_ms: number;
  /**
   * p50 of each signal's end-to-end over the first floor's round run right
   * after it: the machine's slow and fast spells fall on both halves of a
   * pair, so this moves less between runs than the ratio of the two p50s.
   */
  paired_ratio_p50: number;
  /**
   * Where the time went, by stage (dispatch, transport, node_queue, exchange,
   * protection, apply, total): p50 over all measured orders, and p50 over
   * the measured signals of each signal's slowest order.
   */
  stages_p50_ms: { order: Record<string, number>; slowest: Record<string, number> };
  /** End-to-end of the unmeasured warm-up signals; the very first one also pays each node's ccxt instances and market load. */
  warmup_ms: number[];
  setup_s: number;
}

export interface FanoutResult {
  accounts: number;
  nodes: number;
  node_processes: number;
  latency_ms: number;
  cpus: number;
  rows: FanoutDialectRow[];
  /** The first is the floor the ratios use. */
  floors: FloorFigures[];
  ratio_p50: Record<string, number>;
  ratio_p99: Record<string, number>;
  /** End-to-end p50 over the p50 of each floor, by database then floor process count. */
  ratio_p50_by_floor: Record<string, Record<string, number>>;
  naive: { accounts_run: number; seconds_run: number; scaled_to: number; scaled_seconds: number; ms_per_account: number; ratio_vs_fanout_p50: number };
  market_loads: { per_node: number[]; total: number; orders: number; per_1000_orders: number };
  /** The measured signals' time spans on the monotonic clock (µs), to cut CPU profiles to them. */
  measured_windows_us: Array<[number, number]>;
  /** The same for the first floor's measured rounds (its profile, with --fanout-profile, is in DIR/floor). */
  floor_windows_us: Array<[number, number]>;
}

export interface FloorFigures {
  processes: number;
  rounds: number;
  p50_ms: number;
  p99_ms: number;
  account_p50_ms: number;
  account_p99_ms: number;
  cpu_ms_per_account: number;
}

const BIN = 'bin/tradectl.js';
/** bench/node-host.ts compiled (bench/tmp is git-ignored). */
const HOST_SCRIPT = 'bench/tmp/node-host.mjs';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SYMBOL = 'BTC/USDT:USDT';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a live process in ms (field 14 and 15 of /proc/<pid>/stat). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/**
 * The pid of the local MariaDB / MySQL server behind `url`, if it runs on
 * this machine: the one started with `--port=<its port>` (the tests' own
 * server), else one without a port argument (a system server on 3306).
 */
function databaseServerPid(url: string): number | undefined {
  const port = new URL(url).port || '3306';
  let fallback: number | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!/^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const given = args.find((a) => a.startsWith('--port='))?.slice('--port='.length);
      if (given === port) return Number(entry);
      if (given === undefined && port === '3306') fallback = Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return fallback;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i] as T, i);
      }
    }),
  );
}

interface OrderView {
  account_id: number;
  status: string;
  stop_loss_order_id: string | null;
  take_profit_order_id: string | null;
  error: { code: string; message: string } | null;
  stop_loss_error: { code: string; message: string } | null;
  latency_ms: { on_node: number | null; accepted_to_result: number | null };
  stages_ms: Record<string, number | null>;
}
interface SignalView {
  status: string;
  /** Each stage's slowest order (src/center/dispatch/stage-timings.ts). */
  stages_ms: Record<string, number | null>;
  latency_ms: { accepted_to_dispatched: number | null; accepted_to_completed: number | null };
  orders: OrderView[];
}

function centerApi(url: string, token: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    // The bench reads a few known fields of the center's documented answers.
    return JSON.parse(text) as T;
  };
}

/**
 * Fan-out: one signal to `accounts` accounts spread over `nodes` execution
 * nodes (each a real `tradectl node serve` process, or several real node
 * servers per host process with `nodeProcesses`) in front of one
 * simulator process with latency L, through a real `tradectl center serve`
 * on SQLite and on MariaDB. Alternated with it, in the same run, the floor
 * (the same ccxt calls from warm instances, no center, no node) and, once,
 * the naive design (one POST per account, sequentially).
 */
export async function fanout(options: FanoutOptions, progress: (line: string) => void = () => undefined): Promise<FanoutResult> {
  const keys: RunKeys = { secret: randomBytes(16).toString('hex'), token: randomBytes(16).toString('hex'), masterKey: randomBytes(32).toString('hex') };
  const started: Spawned[] = [];
  const floorChildren: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const profile = (name: string) => (options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []);
  try {
    const sim = await startSim(options.accounts);
    started.push(sim);
    await fetch(`${sim.url}/__sim/latency`, { method: 'POST', body: JSON.stringify({ ms: options.latencyMs }) });

    const nodeEnv = {
      TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`,
      TRADECTL_NODE_AUTH_ENABLED: 'true',
      TRADECTL_NODE_AUTH_SECRET: keys.secret,
      TRADECTL_HOST: '127.0.0.1',
      TRADECTL_LOG_FORMAT: 'json',
      TRADECTL_LOG_LEVEL: 'info',
    };
    const nodeProcesses = Math.max(1, Math.min(options.nodeProcesses ?? cpus().length, options.nodes));
    const nodes = await startNodes(options.nodes, nodeProcesses, nodeEnv, started, profile);
    const topology = nodeProcesses === options.nodes ? 'one tradectl node serve process each' : `in ${nodeProcesses} host processes`;
    progress(`  ${options.nodes} nodes (${topology}) and the simulator (${options.accounts} accounts, latency ${options.latencyMs} ms) up`);

    const floorCounts = [...new Set(options.floorProcesses ?? [nodeProcesses, cpus().length])];
    const floors: Floor[] = [];
    for (const [i, processes] of floorCounts.entries()) {
      // The first floor's first child is profiled too, to compare with the node's costs.
      const floorProfile = i === 0 && options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, 'floor')}`] : [];
      floors.push(await startFloor(sim.url, options.accounts, processes, floorChildren, floorProfile));
    }
    // Warm the floors as the nodes are warmed: connections open, JIT done.
    for (let i = 0; i < options.warmup; i++) for (const floor of floors) await floor.run();

    const measured: DialectMeasurement[] = [];
    for (const dialect of options.dialects) {
      const center = await startCenter(dialect, keys, cleanups, profile);
      try {
        measured.push(await measureDialect(dialect, center, nodes, floors, keys, options, progress));
      } finally {
        await center.stop();
      }
    }
    const naive = await runNaive(nodes.urls, keys.secret, options);
    return resultOf(options, nodeProcesses, measured, floors, naive, await marketLoads(nodes.urls));
  } finally {
    for (const child of floorChildren) child.kill('SIGTERM');
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

/** The secrets one run shares between its center and its nodes. */
interface RunKeys {
  secret: string;
  token: string;
  masterKey: string;
}

/** A `tradectl center serve` on `dialect`, with its data directory (and MariaDB database) removed by `cleanups`. */
async function startCenter(dialect: 'sqlite' | 'mysql', keys: RunKeys, cleanups: Array<() => Promise<void>>, profile: (name: string) => string[]): Promise<Spawned> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tradectl-bf-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    TRADECTL_LOG_FORMAT: 'json',
    TRADECTL_LOG_LEVEL: 'info',
    TRADECTL_CENTER_PORT: '0',
    TRADECTL_CENTER_API_TOKEN: keys.token,
    TRADECTL_NODE_AUTH_SECRET: keys.secret,
    TRADECTL_MASTER_KEY: keys.masterKey,
    TRADECTL_DATA_DIR: dataDir,
    // The nodes' own heartbeats go nowhere; one by hand marks each online for the whole run.
    TRADECTL_NODE_HEARTBEAT_TIMEOUT: '86400',
    TRADECTL_RECONCILE_INTERVAL: '3600',
  };
  if (dialect === 'mysql') {
    const db: TestDatabase = await freshDatabase('mysql');
    cleanups.push(() => db.drop());
    env['TRADECTL_DB_URL'] = db.target.location;
  }
  return spawnWithUrl(process.execPath, [...profile(`center-${dialect}`), BIN, 'center', 'serve'], env, /"url":"(http[^"]+)".*center listening/);
}

/** Samples of each named stage, to report their p50s. */
class StageSamples {
  private readonly byStage = new Map<string, number[]>();

  add(stages: Record<string, number | null>): void {
    for (const [stage, ms] of Object.entries(stages)) {
      if (ms === null) continue;
      const values = this.byStage.get(stage) ?? [];
      values.push(ms);
      this.byStage.set(stage, values);
    }
  }

  p50s(): Record<string, number> {
    return Object.fromEntries([...this.byStage].map(([stage, values]) => [stage, round(percentile(values, 50))]));
  }
}

/** CPU time of the center, the nodes and (on MariaDB) the database server, summed over the measured signals. */
class CpuMeter {
  center = 0;
  nodes = 0;
  db = 0;

  constructor(
    private readonly centerPid: number | undefined,
    private readonly nodeCpu: () => number,
    readonly dbPid: number | undefined,
  ) {}

  /** Starts a window; the function it returns ends it and adds what was spent. */
  start(): () => void {
    const c0 = cpuMs(this.centerPid);
    const d0 = this.dbPid === undefined ? 0 : cpuMs(this.dbPid);
    const n0 = this.nodeCpu();
    return () => {
      this.center += cpuMs(this.centerPid) - c0;
      this.nodes += this.nodeCpu() - n0;
      this.db += (this.dbPid === undefined ? 0 : cpuMs(this.dbPid)) - d0;
    };
  }
}

interface DialectMeasurement {
  row: FanoutDialectRow;
  p50: number;
  p99: number;
  windows: Array<[number, number]>;
}

/**
 * Sends the warm-up and measured signals through one center, each followed
 * by a round of every floor, so the machine's noise falls on both.
 */
async function measureDialect(
  dialect: 'sqlite' | 'mysql',
  center: Spawned,
  nodes: Nodes,
  floors: Floor[],
  keys: RunKeys,
  options: FanoutOptions,
  progress: (line: string) => void,
): Promise<DialectMeasurement> {
  const setupStart = performance.now();
  const api = centerApi(center.url, keys.token);
  await populate(api, center.url, keys.secret, nodes.urls, options.accounts);
  const setupS = (performance.now() - setupStart) / 1000;
  progress(`  ${dialect}: center up and ${options.accounts} users / accounts / bindings created in ${round(setupS, 1)} s`);

  const e2e: number[] = [];
  const pairedRatios: number[] = [];
  const client: number[] = [];
  const dispatched: number[] = [];
  const perAccount: number[] = [];
  const warmupMs: number[] = [];
  const windows: Array<[number, number]> = [];
  const orderStages = new StageSamples();
  const slowestStages = new StageSamples();
  const cpu = new CpuMeter(center.child.pid, nodes.cpuMs, dialect === 'mysql' ? databaseServerPid(await mysqlUrl()) : undefined);
  for (let i = 0; i < options.warmup + options.signals; i++) {
    const measured = i >= options.warmup;
    const signalId = `bf-${dialect}-${i}-${Date.now().toString(36)}`;
    const w0 = monotonicUs();
    const stopCpu = cpu.start();
    const t0 = performance.now();
    // Polls the cheap signal list: ?wait=true would build the 1,000-order view inside the CPU window.
    await api('POST', '/api/signals', { strategy_code: 'fan', signal_id: signalId, symbol: SYMBOL, side: 'buy', quantity: 0.002, stop_loss: 50_000, take_profit: 70_000 });
    await untilCompleted(api, signalId);
    const wall = performance.now() - t0;
    if (measured) stopCpu();
    const view = (await api<{ signal: SignalView }>('GET', `/api/signals/${signalId}`)).signal;
    checkAllPlaced(signalId, view, options.accounts);
    const endToEnd = view.latency_ms.accepted_to_completed as number;
    if (measured) {
      e2e.push(endToEnd);
      client.push(wall);
      dispatched.push(view.latency_ms.accepted_to_dispatched as number);
      for (const o of view.orders) {
        perAccount.push(o.latency_ms.on_node as number);
        orderStages.add(o.stages_ms);
      }
      slowestStages.add(view.stages_ms);
      windows.push([w0, monotonicUs()]);
    } else warmupMs.push(endToEnd);
    const floorMs: number[] = [];
    for (const floor of floors) floorMs.push(await floor.run(measured));
    if (measured) pairedRatios.push(endToEnd / (floorMs[0] as number));
    const floorText = floors.map((f, j) => `floor/${f.processes}p ${Math.round(floorMs[j] as number)} ms`).join(', ');
    progress(`  ${dialect} signal ${i + 1}/${options.warmup + options.signals}${measured ? '' : ' (warm-up)'}: end-to-end ${endToEnd} ms, ${floorText}`);
  }
  const count = options.signals * options.accounts;
  const row: FanoutDialectRow = {
    database: dialect,
    signals: options.signals,
    e2e_p50_ms: round(percentile(e2e, 50)),
    e2e_p99_ms: round(percentile(e2e, 99)),
    paired_ratio_p50: round(percentile(pairedRatios, 50), 3),
    client_p50_ms: round(percentile(client, 50)),
    dispatched_p50_ms: round(percentile(dispatched, 50)),
    center_cpu_ms_per_account: round(cpu.center / count, 3),
    nodes_cpu_ms_per_account: round(cpu.nodes / count, 3),
    db_server_cpu_ms_per_account: cpu.dbPid === undefined ? null : round(cpu.db / count, 3),
    account_p50_ms: round(percentile(perAccount, 50)),
    account_p99_ms: round(percentile(perAccount, 99)),
    stages_p50_ms: { order: orderStages.p50s(), slowest: slowestStages.p50s() },
    warmup_ms: warmupMs,
    setup_s: round(setupS, 1),
  };
  return { row, p50: percentile(e2e, 50), p99: percentile(e2e, 99), windows };
}

interface NaiveRun {
  accounts: number;
  seconds: number;
}

/** The naive design on the same nodes and simulator: one POST per account, each answered before the next is sent. */
async function runNaive(nodeUrls: string[], secret: string, options: FanoutOptions): Promise<NaiveRun> {
  const accounts = Math.min(options.naiveAccounts, options.accounts);
  const start = performance.now();
  for (let a = 1; a <= accounts; a++) {
    const nodeUrl = nodeUrls[(a - 1) % nodeUrls.length] as string;
    const id = `nv${a}r${Date.now().toString(36)}`;
    const body = JSON.stringify({
      request_id: id,
      signal: { signal_id: id, symbol: SYMBOL, side: 'buy', quantity: 0.002, stop_loss: 50_000, take_profit: 70_000 },
      accounts: [{ account_id: a, exchange: 'binanceusdm', api_key: `key-${a}`, api_secret: `secret-${a}`, quantity: 0.002, client_order_id: id }],
    });
    const res = await fetch(`${nodeUrl}/api/execute`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-center-token': secret }, body });
    const json = (await res.json()) as { results?: Array<{ status: string; take_profit_order_id?: string | null }> };
    const r = json.results?.[0];
    if (r?.status !== 'filled' || !r.take_profit_order_id) throw new Error(`naive POST for account ${a}: ${JSON.stringify(json).slice(0, 300)}`);
  }
  return { accounts, seconds: (performance.now() - start) / 1000 };
}

/** Market loads each node has made since it started, from its /health. */
function marketLoads(nodeUrls: string[]): Promise<number[]> {
  return Promise.all(
    nodeUrls.map(async (url) => {
      const health = (await (await fetch(`${url}/health`)).json()) as { markets: { loads: Record<string, number> } };
      return Object.values(health.markets.loads).reduce((s, x) => s + x, 0);
    }),
  );
}

function resultOf(options: FanoutOptions, nodeProcesses: number, measured: DialectMeasurement[], floors: Floor[], naive: NaiveRun, loads: number[]): FanoutResult {
  const p50s = Object.fromEntries(measured.map((m) => [m.row.database, m.p50]));
  const p99s = Object.fromEntries(measured.map((m) => [m.row.database, m.p99]));
  const scaledS = (naive.seconds * options.accounts) / naive.accounts;
  const referenceP50 = p50s['sqlite'] ?? Object.values(p50s)[0] ?? Number.NaN;
  const orders = 3 * (options.dialects.length * (options.warmup + options.signals) * options.accounts + naive.accounts);
  const totalLoads = loads.reduce((s, x) => s + x, 0);
  const floorFigures = floors.map((f) => f.figures());
  const main = floorFigures[0] as FloorFigures;
  return {
    accounts: options.accounts,
    nodes: options.nodes,
    node_processes: nodeProcesses,
    latency_ms: options.latencyMs,
    cpus: cpus().length,
    rows: measured.map((m) => m.row),
    floors: floorFigures,
    ratio_p50: Object.fromEntries(Object.entries(p50s).map(([k, v]) => [k, round(v / main.p50_ms, 3)])),
    ratio_p99: Object.fromEntries(Object.entries(p99s).map(([k, v]) => [k, round(v / main.p99_ms, 3)])),
    ratio_p50_by_floor: Object.fromEntries(Object.entries(p50s).map(([k, v]) => [k, Object.fromEntries(floorFigures.map((f) => [String(f.processes), round(v / f.p50_ms, 3)]))])),
    naive: {
      accounts_run: naive.accounts,
      seconds_run: round(naive.seconds, 2),
      scaled_to: options.accounts,
      scaled_seconds: round(scaledS, 1),
      ms_per_account: round((naive.seconds * 1000) / naive.accounts),
      ratio_vs_fanout_p50: round((scaledS * 1000) / referenceP50, 1),
    },
    market_loads: { per_node: loads, total: totalLoads, orders, per_1000_orders: round((totalLoads * 1000) / orders, 3) },
    measured_windows_us: measured.flatMap((m) => m.windows),
    floor_windows_us: (floors[0] as Floor).windows,
  };
}

interface Nodes {
  /** Node i's base URL (node code bn{i+1}). */
  urls: string[];
  /** CPU time of every process the nodes run in, together. */
  cpuMs(): number;
}

/**
 * Starts `count` nodes: one `tradectl node serve` each when `processes`
 * equals `count`, else `processes` node-host processes with the nodes dealt
 * round-robin. Started a few at a time so twenty ccxt imports do not starve
 * each other past the start timeout; each is registered in `started` at
 * once, so a failed start of another still stops it.
 */
async function startNodes(count: number, processes: number, env: Record<string, string>, started: Spawned[], profile: (name: string) => string[]): Promise<Nodes> {
  const urls: string[] = new Array(count);
  const pids: Array<number | undefined> = [];
  if (processes === count) {
    await pool(Array.from({ length: count }, (_, i) => i), 4, async (i) => {
      const node = await spawnWithUrl(process.execPath, [...(i === 0 ? profile('node-1') : []), BIN, 'node', 'serve', '--port', '0'], env, /"url":"(http[^"]+)"/);
      started.push(node);
      urls[i] = node.url;
      pids.push(node.child.pid);
    });
  } else {
    // Compiled as dist/ is (one ESM bundle, packages from node_modules), so
    // the hosts run the code `tradectl node serve` runs, not tsx's transform
    // of the sources (its helpers showed in the hosts' profiles).
    await build({ absWorkingDir: ROOT, entryPoints: ['bench/node-host.ts'], outfile: HOST_SCRIPT, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' });
    await pool(Array.from({ length: processes }, (_, p) => p), 4, async (p) => {
      const hosted = Array.from({ length: count }, (_, i) => i).filter((i) => i % processes === p);
      const args = [...(p === 0 ? profile('node-host-1') : []), HOST_SCRIPT, String(hosted.length)];
      const host = await spawnWithUrls(process.execPath, args, env, /"hosted_node_url":"(http[^"]+)"/, hosted.length);
      started.push({ ...host, url: host.urls[0] as string });
      hosted.forEach((i, k) => (urls[i] = host.urls[k] as string));
      pids.push(host.child.pid);
    });
  }
  return { urls, cpuMs: () => pids.reduce((sum: number, pid) => sum + cpuMs(pid), 0) };
}

/**
 * Registers the nodes (and marks them online), then `accounts` users, each
 * invited by an earlier one so settlement pays two referral levels as in
 * production, one account per user (key-N, on node N mod nodes) and its
 * binding to strategy `fan`.
 */
async function populate(api: ReturnType<typeof centerApi>, centerUrl: string, secret: string, nodes: string[], accounts: number): Promise<void> {
  for (const [i, url] of nodes.entries()) {
    const code = `bn${i + 1}`;
    await api('POST', '/api/nodes', { node_code: code, base_url: url });
    const beat = JSON.stringify({ node_code: code, version: 'bench', status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 64 });
    const path = `/api/nodes/${code}/heartbeat`;
    const res = await fetch(`${centerUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-center-token': secret }, body: beat });
    if (!res.ok) throw new Error(`heartbeat for ${code}: HTTP ${res.status}`);
  }
  await api('POST', '/api/strategies', { strategy_code: 'fan' });
  const users: number[] = [];
  // Users one by one, since each names an earlier one as inviter.
  for (let n = 1; n <= accounts; n++) {
    const inviter = n > 1 ? users[Math.floor((n - 2) / 2)] : undefined;
    const made = await api<{ user: { id: number } }>('POST', '/api/users', { username: `fan${n}`, points: 1000, ...(inviter ? { inviter_id: inviter } : {}) });
    users.push(made.user.id);
  }
  await pool(users, 8, async (userId, i) => {
    const n = i + 1;
    const made = await api<{ account: { id: number } }>('POST', '/api/accounts', { user_id: userId, exchange: 'binanceusdm', api_key: `key-${n}`, api_secret: `secret-${n}`, node_code: `bn${((n - 1) % nodes.length) + 1}` });
    await api('POST', '/api/strategies/fan/bindings', { account_id: made.account.id });
  });
}

const POLL_MS = 100;

/** Polls the cheap signal list (not the 1,000-order view) until the signal is completed. */
async function untilCompleted(api: ReturnType<typeof centerApi>, signalId: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const list = await api<{ signals: Array<{ signal_id: string; status: string }> }>('GET', '/api/signals?limit=1');
    const top = list.signals[0];
    if (top?.signal_id === signalId && top.status === 'completed') return;
    // Each poll is an HTTP request and a query on the center being measured,
    // 1-2 ms of its CPU under load: polling every 25 ms cost it 45-55 ms per
    // signal (center CPU 0.192 / 0.209 against 0.148 / 0.151 ms per account at
    // 100 ms, paired runs). The figures are the center's own timestamps, so
    // polling less often does not change them; only `client_p50_ms` is coarser.
    await sleep(POLL_MS);
  }
  throw new Error(`signal ${signalId} did not complete within 120 s`);
}

function checkAllPlaced(signalId: string, view: SignalView, accounts: number): void {
  const bad = view.orders.filter((o) => o.status !== 'filled' || !o.stop_loss_order_id || !o.take_profit_order_id);
  if (view.orders.length !== accounts || bad.length > 0) {
    const first = bad[0];
    throw new Error(`signal ${signalId}: ${view.orders.length} orders, ${bad.length} not filled with both legs, e.g. ${JSON.stringify(first)}`);
  }
}

interface Floor {
  processes: number;
  /** Measured rounds' spans on the monotonic clock (µs). */
  windows: Array<[number, number]>;
  /** One round: every account at once; resolves with its wall time, recording it when `measured`. */
  run(measured?: boolean): Promise<number>;
  figures(): FloorFigures;
}

/** Forks `processes` floor children, each with an even share of the accounts. */
async function startFloor(simUrl: string, accounts: number, processes: number, all: ChildProcess[], profileArgs: string[] = []): Promise<Floor> {
  const count = Math.max(1, Math.min(processes, accounts));
  const shares: string[][] = Array.from({ length: count }, () => []);
  for (let n = 1; n <= accounts; n++) shares[(n - 1) % count]?.push(String(n));
  const children: ChildProcess[] = [];
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const profile = children.length === 0 ? profileArgs : [];
          const child = fork(join(ROOT, 'bench/fanout-floor.ts'), [simUrl, ...share], { execArgv: [...profile, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          children.push(child);
          all.push(child);
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`floor child exited ${code} before it was ready`)));
        }),
    ),
  );
  let rounds = 0;
  let cpuTotal = 0;
  const windows: Array<[number, number]> = [];
  const walls: number[] = [];
  const perAccount: number[] = [];
  return {
    processes: count,
    windows,
    async run(measured = false) {
      const id = `f${count}p${++rounds}r${Date.now().toString(36)}`;
      const w0 = monotonicUs();
      const cpu0 = children.reduce((sum, child) => sum + cpuMs(child.pid), 0);
      const t = performance.now();
      const answers = await Promise.all(children.map((child) => floorRoundOn(child, id)));
      const ms = performance.now() - t;
      const cpu = children.reduce((sum, child) => sum + cpuMs(child.pid), 0) - cpu0;
      const failures = answers.flatMap((a) => a.failures);
      if (failures.length > 0) throw new Error(`floor round ${id}: ${failures.length} accounts failed, e.g. ${failures[0]}`);
      if (measured) {
        windows.push([w0, monotonicUs()]);
        walls.push(ms);
        perAccount.push(...answers.flatMap((a) => a.per_account_ms));
        cpuTotal += cpu;
      }
      return ms;
    },
    figures: () => ({
      processes: count,
      rounds: walls.length,
      p50_ms: round(percentile(walls, 50)),
      p99_ms: round(percentile(walls, 99)),
      account_p50_ms: round(percentile(perAccount, 50)),
      account_p99_ms: round(percentile(perAccount, 99)),
      cpu_ms_per_account: round(cpuTotal / (walls.length * accounts), 3),
    }),
  };
}

function floorRoundOn(child: ChildProcess, round: string): Promise<FloorAnswer> {
  return new Promise((resolve) => {
    const onMessage = (message: FloorAnswer) => {
      if (message.round !== round) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ round });
  });
}
