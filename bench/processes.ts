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
export function spawnWithUrl(command: string, args: string[], env: Record<string, string>, pattern: RegExp): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}${err}`)), 20_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const match = pattern.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        const url = match[1];
        resolve({
          child,
          url,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
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
