import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { round } from './stats.js';
import { nodeOverhead } from './node-overhead.js';
import { queueLatency } from './queue-latency.js';
import { bundleStartup } from './bundle-startup.js';

/**
 * `npm run bench`: every figure is a ratio against a baseline measured in the
 * same run, because these machines are shared and noisy. Writes the same
 * figures as JSON under bench/results/.
 *
 *   npm run bench -- --samples 300 --latency 0,50
 */
const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    latency: { type: 'string', default: '0,20,50' },
    'queue-samples': { type: 'string', default: '200' },
    'startup-runs': { type: 'string', default: '15' },
    out: { type: 'string', default: 'bench/results' },
  },
});

const samples = Number(values.samples);
const warmup = Number(values.warmup);
const latencies = String(values.latency).split(',').map(Number);
if (!Number.isInteger(samples) || samples < 10 || latencies.some((l) => !Number.isFinite(l) || l < 0)) {
  process.stderr.write('usage: npm run bench -- [--samples N>=10] [--warmup N] [--latency ms,ms,…] [--out dir]\n');
  process.exit(2);
}

const started = new Date();
process.stdout.write(`tradectl bench: ${cpus().length} CPUs, node ${process.version}, ${samples} samples per cell\n\n`);

const overhead = await nodeOverhead({ latencies, samples, warmup });
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

const queue = await queueLatency({ samples: Number(values['queue-samples']), warmup: 20, latencyMs: 20 });
process.stdout.write('\nQueue mode: accepted → result for one account on one node (sim latency 20 ms), direct center vs queue center + 1 worker\n');
console.table(queue.rows);
process.stdout.write(`queue adds ${queue.added_p50_ms} ms at p50 (ratio ${queue.ratio_p50}), ${queue.added_p99_ms} ms at p99 (goal: <= +2 ms p50); times are the center's own millisecond timestamps\n`);

const startup = await bundleStartup(Number(values['startup-runs']));
process.stdout.write('\nStandalone node (tradectl bundle, default exchanges) vs a bare Hono hello-world, both esbuild + Node SEA, same run\n');
console.table([
  { executable: 'execution-node', MiB: round(startup.node_executable_bytes / 1048576), 'first /health p50 ms': startup.node_first_health_p50_ms },
  { executable: 'hello-world', MiB: round(startup.hello_executable_bytes / 1048576), 'first /health p50 ms': startup.hello_first_health_p50_ms },
]);
process.stdout.write(`size ratio ${startup.size_ratio}, startup ratio ${startup.startup_ratio_p50} (goal <= 1.2)\n`);

mkdirSync(values.out as string, { recursive: true });
const file = `${values.out}/bench-${started.toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ started_at: started.toISOString(), cpus: cpus().length, node: process.version, samples, node_overhead: overhead, queue_latency: queue, bundle_startup: startup }, null, 2)}\n`);
process.stdout.write(`\nwrote ${file}\n`);
process.exit(0);
