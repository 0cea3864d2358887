import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_EXCHANGES } from '../src/bundle/esbuild-node.js';
import { runBundle } from '../src/bundle/run-bundle.js';
import { makeExecutable } from '../src/bundle/sea.js';
import { percentile, round } from './stats.js';

export interface StartupFigures {
  node_executable_bytes: number;
  hello_executable_bytes: number;
  size_ratio: number;
  node_first_health_p50_ms: number;
  hello_first_health_p50_ms: number;
  startup_ratio_p50: number;
  /** Best of the runs: what start-up costs when nothing else competes for the CPU. */
  node_first_health_min_ms: number;
  hello_first_health_min_ms: number;
  startup_ratio_min: number;
  runs: number;
}

/** Spawns an executable and times the first successful GET /health. */
async function firstHealth(command: string, args: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, env: { PATH: '/usr/bin:/bin', HOME: cwd, ...env } });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no url: ${out}`)), 20_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /"url":"(http[^"]+)"/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    for (;;) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok) {
          await res.text();
          return performance.now() - started;
        }
      } catch {
        // not yet
      }
    }
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * The standalone node against a bare Hono hello-world built the same way
 * (esbuild → Node SEA) in the same run: executable size, and time from
 * spawn to the first answered /health.
 */
export async function bundleStartup(runs: number): Promise<StartupFigures> {
  const work = mkdtempSync(join(tmpdir(), 'tradectl-bench-sea-'));
  try {
    const node = await runBundle({ root: process.cwd(), out: join(work, 'execution-node'), exchanges: DEFAULT_EXCHANGES }, () => undefined);
    const helloCjs = join(work, 'hello.cjs');
    const bundled = await build({ entryPoints: ['bench/hello-hono.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, write: false, logLevel: 'silent' });
    writeFileSync(helloCjs, bundled.outputFiles[0]?.contents ?? '');
    const hello = join(work, 'hello');
    await makeExecutable(helloCjs, hello, () => undefined);
    const cwd = mkdtempSync(join(tmpdir(), 'tradectl-bench-run-'));
    const times = { node: [] as number[], hello: [] as number[] };
    for (let i = 0; i < runs + 2; i++) {
      const a = await firstHealth(node.executable as string, ['serve', '--port', '0', '--log-format', 'json'], {}, cwd);
      const b = await firstHealth(hello, [], {}, cwd);
      // The first runs warm the page cache for both binaries.
      if (i >= 2) {
        times.node.push(a);
        times.hello.push(b);
      }
    }
    rmSync(cwd, { recursive: true, force: true });
    const nodeBytes = statSync(node.executable as string).size;
    const helloBytes = statSync(hello).size;
    const n50 = percentile(times.node, 50);
    const h50 = percentile(times.hello, 50);
    return {
      node_executable_bytes: nodeBytes,
      hello_executable_bytes: helloBytes,
      size_ratio: round(nodeBytes / helloBytes, 3),
      node_first_health_p50_ms: round(n50),
      hello_first_health_p50_ms: round(h50),
      startup_ratio_p50: round(n50 / h50, 3),
      node_first_health_min_ms: round(Math.min(...times.node)),
      hello_first_health_min_ms: round(Math.min(...times.hello)),
      startup_ratio_min: round(Math.min(...times.node) / Math.min(...times.hello), 3),
      runs,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
