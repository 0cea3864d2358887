import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../test/helpers/free-port.js';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Spawns a process and resolves with the first URL its stdout matches. */
export async function spawnWithUrl(command: string, args: string[], env: Record<string, string>, pattern: RegExp): Promise<Spawned> {
  const { urls, ...spawned } = await spawnWithUrls(command, args, env, pattern, 1);
  return { ...spawned, url: urls[0] as string };
}

/**
 * Spawns a process and resolves once its stdout has matched `pattern`
 * `count` times, with each match's first group (e.g. one URL per node a
 * host process serves).
 */
export function spawnWithUrls(command: string, args: string[], env: Record<string, string>, pattern: RegExp, count: number): Promise<Omit<Spawned, 'url'> & { urls: string[] }> {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}${err}`)), 20_000);
    child.stdout?.on('data', (d) => {
      // Once started, the output is drained and dropped: a long run logs a lot.
      if (ready) return;
      out += d;
      const urls = [...out.matchAll(global)].map((m) => m[1] as string);
      if (urls.length < count) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        child,
        urls: urls.slice(0, count),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.stderr?.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code}: ${out}${err}`));
    });
  });
}

export function startSim(accounts: number): Promise<Spawned> {
  return spawnWithUrl(process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--port', '0', '--accounts', String(accounts)], {}, /"url":"([^"]+)"/);
}

export function startNode(env: Record<string, string>): Promise<Spawned> {
  return spawnWithUrl(
    process.execPath,
    ['bin/tradectl.js', 'node', 'serve', '--port', '0', '--log-format', 'json', '--log-level', 'info'],
    env,
    /"url":"(http[^"]+)"/,
  );
}

export function startHelloHono(): Promise<Spawned> {
  return spawnWithUrl(process.execPath, ['--import', 'tsx', 'bench/hello-hono.ts'], {}, /"url":"([^"]+)"/);
}

/** A private redis-server (no persistence) for one bench run. */
export async function startRedis(): Promise<Spawned> {
  const port = await freePort();
  const proc = await spawnWithUrl('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {}, /(Ready to accept connections)/);
  return { ...proc, url: `redis://127.0.0.1:${port}` };
}
