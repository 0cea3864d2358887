import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { round } from './stats.js';
import { nodeOverhead } from './node-overhead.js';
import { sizingOverhead } from './sizing-overhead.js';
import { queueLatency } from './queue-latency.js';
import { bundleStartup } from './bundle-startup.js';
import { fanout, type FanoutResult, type FloorFigures } from './fanout.js';
import { summariseProfile } from './cpu-profile.js';

/**
 * `npm run bench`: every figure is a ratio against a baseline measured in the
 * same run, because these machines are shared and noisy. Writes the same
 * figures as JSON under bench/results/.
 *
 *   npm run bench -- --samples 300 --latency 0,50
 *   npm run bench -- --only fanout --fanout-accounts 100 --fanout-nodes 4 --fanout-signals 5
 *   npm run bench -- --only sizing --samples 100 --latency 0,50
 */
const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    latency: { type: 'string', default: '0,20,50' },
    'queue-samples': { type: 'string', default: '200' },
    'startup-runs': { type: 'string', default: '25' },
    out: { type: 'string', default: 'bench/results' },
    /** Comma-separated sections to run: overhead, sizing, queue, startup, fanout (default: all). */
    only: { type: 'string', default: 'overhead,sizing,queue,startup,fanout' },
    'fanout-latency': { type: 'string', default: '50' },
    'fanout-accounts': { type: 'string', default: '1000' },
    'fanout-nodes': { type: 'string', default: '20' },
    /** Processes the nodes run in (default: one per CPU, each hosting several nodes; as many as nodes: one `tradectl node serve` each). */
    'fanout-node-processes': { type: 'string' },
    'fanout-signals': { type: 'string', default: '12' },
    'fanout-warmup': { type: 'string', default: '3' },
    'fanout-naive-accounts': { type: 'string', default: '100' },
    'fanout-db': { type: 'string', default: 'sqlite,mysql' },
    'fanout-profile': { type: 'string' },
    /** Floors to run, as process counts (default: the node count, then one per CPU); the first is the ratio's. */
    'fanout-floor-processes': { type: 'string' },
  },
});

const samples = Number(values.samples);
const warmup = Number(values.warmup);
const latencies = String(values.latency).split(',').map(Number);
if (!Number.isInteger(samples) || samples < 10 || latencies.some((l) => !Number.isFinite(l) || l < 0)) {
  process.stderr.write('usage: npm run bench -- [--samples N>=10] [--warmup N] [--latency ms,ms,…] [--out dir]\n');
  process.exit(2);
}

const sections = new Set(String(values.only).split(',').map((s) => s.trim()));
const unknownSection = [...sections].find((s) => !['overhead', 'sizing', 'queue', 'startup', 'fanout'].includes(s));
const dialects = String(values['fanout-db']).split(',').map((s) => s.trim());
if (unknownSection !== undefined || dialects.some((d) => d !== 'sqlite' && d !== 'mysql')) {
  process.stderr.write('usage: --only overhead,sizing,queue,startup,fanout and --fanout-db sqlite,mysql\n');
  process.exit(2);
}

const started = new Date();
// Every process of the bench (center, nodes, floor, simulator) inherits NODE_OPTIONS, so V8 settings apply to all alike.
const nodeOptions = process.env['NODE_OPTIONS']?.trim() || null;
process.stdout.write(`tradectl bench: ${cpus().length} CPUs, node ${process.version}${nodeOptions ? `, NODE_OPTIONS=${nodeOptions} (every process)` : ''}, ${samples} samples per cell\n\n`);

const figures: Record<string, unknown> = {};
if (sections.has('overhead')) {
  const overhead = await nodeOverhead({ latencies, samples, warmup });
  figures['node_overhead'] = overhead;
  process.stdout.write('Node overhead: POST /api/execute (one account) vs the same ccxt calls made directly, same simulator\n');
  console.table(
    overhead.map((r) => ({
      scenario: r.scenario,
      'sim latency ms': r.latency_ms,
      'direct p50': r.direct_p50_ms,
      'node p50': r.node_p50_ms,
      'ratio p50': r.ratio_p50,
      'direct p99': r.direct_p99_ms,
      'node p99': r.node_p99_ms,
      'ratio p99': r.ratio_p99,
      'added p50 ms': r.added_p50_ms,
      'bare hop p50 ms': r.hop_p50_ms,
    })),
  );
  process.stdout.write(
    'goal: ratio p50 <= 1.15 at exchange-like latency. "added" is node p50 - direct p50 (the HTTP hop plus the node\'s work);\n' +
      '"bare hop" is a hello-world Hono round trip with the same client and body, so added - bare hop is the node\'s own work.\n',
  );
}

if (sections.has('sizing')) {
  const sizing = await sizingOverhead({ latencies, samples, warmup });
  figures['sizing_overhead'] = sizing;
  process.stdout.write('\nSizing: one account\'s market entry through POST /api/execute, sized by the center (multiplier) vs by the node (equity_percent), same run\n');
  console.table(
    sizing.map((r) => ({
      'sim latency ms': r.latency_ms,
      'multiplier p50': r.multiplier_p50_ms,
      'equity_percent p50': r.equity_percent_p50_ms,
      'ratio p50': r.ratio_p50,
      'multiplier p99': r.multiplier_p99_ms,
      'equity_percent p99': r.equity_percent_p99_ms,
      'ratio p99': r.ratio_p99,
    })),
  );
  const calls = sizing[0];
  if (calls) process.stdout.write(`exchange calls per signal: multiplier ${JSON.stringify(calls.multiplier_calls)}; equity_percent ${JSON.stringify(calls.equity_percent_calls)}\n(the balance and the ticker are read in parallel, before the entry)\n`);
}

if (sections.has('queue')) {
  const queue = await queueLatency({ samples: Number(values['queue-samples']), warmup: 20, latencyMs: 20 });
  process.stdout.write('\nQueue mode: accepted → result for one account on one node (sim latency 20 ms), direct center vs queue center + 1 worker\n');
  console.table(queue.rows);
  process.stdout.write(
    `queue adds ${queue.added_p50_ms} ms at p50 (ratio ${queue.ratio_p50}), ${queue.added_p99_ms} ms at p99, ${queue.added_mean_ms} ms on average (goal: <= +2 ms p50);\n` +
      "times are the center's own millisecond timestamps, so p50s move in whole milliseconds\n",
  );
  figures['queue_latency'] = queue;
}

if (sections.has('startup')) {
  const startup = await bundleStartup(Number(values['startup-runs']));
  process.stdout.write('\nStandalone node (tradectl bundle, default exchanges) vs a bare Hono hello-world, both esbuild + Node SEA, same run\n');
  console.table([
    { executable: 'execution-node', MiB: round(startup.node_executable_bytes / 1048576), 'first /health p50 ms': startup.node_first_health_p50_ms, 'best ms': startup.node_first_health_min_ms },
    { executable: 'hello-world', MiB: round(startup.hello_executable_bytes / 1048576), 'first /health p50 ms': startup.hello_first_health_p50_ms, 'best ms': startup.hello_first_health_min_ms },
  ]);
  process.stdout.write(`size ratio ${startup.size_ratio}, startup ratio ${startup.startup_ratio_p50} at p50, ${startup.startup_ratio_min} best of ${startup.runs} (goal <= 1.2)\n`);
  figures['bundle_startup'] = startup;
}

if (sections.has('fanout')) {
  const fan = await fanout(
    {
      accounts: Number(values['fanout-accounts']),
      nodes: Number(values['fanout-nodes']),
      nodeProcesses: values['fanout-node-processes'] === undefined ? undefined : Number(values['fanout-node-processes']),
      signals: Number(values['fanout-signals']),
      warmup: Number(values['fanout-warmup']),
      latencyMs: Number(values['fanout-latency']),
      naiveAccounts: Number(values['fanout-naive-accounts']),
      dialects: dialects as Array<'sqlite' | 'mysql'>,
      profileDir: values['fanout-profile'],
      floorProcesses: values['fanout-floor-processes']?.split(',').map(Number),
    },
    (line) => process.stdout.write(`${line}\n`),
  );
  printFanout(fan);
  figures['fanout'] = fan;
  const dir = values['fanout-profile'];
  if (dir) {
    const inDir = (sub: string) => (existsSync(sub) ? readdirSync(sub).filter((f) => f.endsWith('.cpuprofile')).sort() : []);
    const profiles = [
      ...inDir(dir).map((f) => summariseProfile(`${dir}/${f}`, 15, fan.measured_windows_us)),
      ...inDir(`${dir}/floor`).map((f) => summariseProfile(`${dir}/floor/${f}`, 15, fan.floor_windows_us)),
    ];
    for (const p of profiles) {
      process.stdout.write(`\nCPU profile ${p.file} (${p.total_ms} ms sampled while the measured signals ran, or for a floor profile its measured rounds): self time by origin (% of all), then busiest functions (% of non-idle)\n`);
      console.table(p.by_origin.slice(0, 10));
      console.table(p.top_functions);
    }
    figures['fanout_profiles'] = profiles;
  }
}

mkdirSync(values.out as string, { recursive: true });
const file = `${values.out}/bench-${started.toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ started_at: started.toISOString(), cpus: cpus().length, node: process.version, node_options: nodeOptions, samples, ...figures }, null, 2)}\n`);
process.stdout.write(`\nwrote ${file}\n`);
process.exit(0);

function printFanout(f: FanoutResult): void {
  process.stdout.write(
    `\nFan-out: one signal -> ${f.accounts} accounts on ${f.nodes} nodes (${f.node_processes === f.nodes ? 'one tradectl node serve process each' : `${f.node_processes} processes hosting ${round(f.nodes / f.node_processes, 1)} each`}), simulator latency ${f.latency_ms} ms, entry + stop-loss + take-profit each\n`,
  );
  console.table([
    ...f.rows.map((r) => ({
      path: `center (${r.database}) + nodes`,
      'p50 ms': r.e2e_p50_ms,
      'p99 ms': r.e2e_p99_ms,
      'ratio p50': f.ratio_p50[r.database],
      'ratio p99': f.ratio_p99[r.database],
      'account p50 ms': r.account_p50_ms,
      'account p99 ms': r.account_p99_ms,
      'center CPU ms/account': r.center_cpu_ms_per_account,
      'nodes CPU ms/account': r.nodes_cpu_ms_per_account,
      'MariaDB CPU ms/account': r.db_server_cpu_ms_per_account ?? undefined,
      'accepted->sent p50 ms': r.dispatched_p50_ms,
      samples: r.signals,
    })),
    ...f.floors.map((floor, i) => ({
      path: `floor: ccxt only, ${floor.processes} processes`,
      'p50 ms': floor.p50_ms,
      'p99 ms': floor.p99_ms,
      'ratio p50': i === 0 ? 1 : round(floor.p50_ms / (f.floors[0] as FloorFigures).p50_ms, 3),
      'ratio p99': i === 0 ? 1 : round(floor.p99_ms / (f.floors[0] as FloorFigures).p99_ms, 3),
      'account p50 ms': floor.account_p50_ms,
      'account p99 ms': floor.account_p99_ms,
      'nodes CPU ms/account': floor.cpu_ms_per_account,
      samples: floor.rounds,
    })),
  ]);
  const naive = f.naive;
  const scaled = naive.accounts_run === naive.scaled_to ? '' : `, run over ${naive.accounts_run} accounts and SCALED x${round(naive.scaled_to / naive.accounts_run, 1)}`;
  const first = f.floors[0] as FloorFigures;
  const byFloor = Object.entries(f.ratio_p50_by_floor)
    .map(([db, ratios]) => `${db}: ${Object.entries(ratios).map(([p, r]) => `${r}x the ${p}-process floor`).join(', ')}`)
    .join('; ');
  process.stdout.write(
    `goal: fan-out end-to-end <= 1.3 x the floor; "ratio" is p50 (p99) over the ${first.processes}-process floor's. End-to-end is the center's own\n` +
      'accepted_at -> completed_at (every order, fill and settlement row committed); "account" is one account\'s entry, then stop-loss and\n' +
      'take-profit together (on the node from the request\'s arrival; in the floor from the first call). A floor makes the same ccxt calls\n' +
      'from warm instances with the node\'s instance settings (no throttle, no copy of the last response, markets shared), alternated\n' +
      'with the fan-out signals, split over as many processes as the nodes run in and over one process per CPU (the best this machine\n' +
      'can do). By default the nodes run in one process per CPU, so the two are the same floor; --fanout-node-processes 20 runs one\n' +
      'tradectl node serve per node instead, whose floor then pays the same cost of twenty V8 processes sharing the CPUs. CPU is\n' +
      'utime + stime from /proc/<pid>/stat.\n' +
      `fan-out p50 vs each floor: ${byFloor}\n` +
      `paired (p50 of each signal over the floor round run right after it, steadier on a noisy machine): ${f.rows.map((r) => `${r.database} ${r.paired_ratio_p50}x`).join(', ')}\n` +
      `naive (one POST /api/execute per account, sequentially): ${naive.ms_per_account} ms per account, ${naive.scaled_seconds} s for ${naive.scaled_to} accounts${scaled}; ` +
      `naive / fan-out p50 = ${naive.ratio_vs_fanout_p50}x\n` +
      f.rows.map((r) => `stages p50 (${r.database}), per order | slowest order: ${Object.entries(r.stages_p50_ms.order).map(([stage, ms]) => `${stage} ${ms} | ${r.stages_p50_ms.slowest[stage] ?? '-'}`).join(', ')} ms\n`).join('') +
      `warm-up signals (not in the figures; the first also creates every node's ccxt instances): ${f.rows.map((r) => `${r.database} ${r.warmup_ms.join(', ')} ms`).join('; ')}\n` +
      'throttle: ccxt\'s per-instance throttle is off in the node (src/exchange/trader-pool.ts) and in the floor. On by default, it spaces\n' +
      'one instance\'s calls by rateLimit (50 ms for binanceusdm), which would hold an account\'s take-profit behind its stop-loss; Binance\'s\n' +
      'limits are per account (orders) and per IP (request weight) and are enforced by the exchange with 429, reported as rate_limited.\n' +
      `market loads: ${f.market_loads.total} for ${f.market_loads.orders} orders (${f.market_loads.per_1000_orders} per 1,000 orders), per node: ${f.market_loads.per_node.join(' ')} (goal: 1 per exchange per node)\n`,
  );
}
