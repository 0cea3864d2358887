import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { findProgram } from './services.js';

/**
 * A MariaDB server of the tests' own: a throwaway data directory, a free
 * loopback port, a user with a password (so the center's password login is
 * what runs), no system service and no root needed. It starts in about a
 * second; `stop()` kills it and removes the directory.
 */
export interface TestMariaDb {
  /** `mysql://user:password@127.0.0.1:PORT`, without a database. */
  url: string;
  stop(): Promise<void>;
  /** For `process.on('exit')`, where nothing can be awaited. */
  stopNow(): void;
}

const START_DEADLINE_MS = 30_000;

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const tail = (path: string) => readLog(path).trim().split('\n').slice(-5).join(' | ') || '(no log)';

export async function startMariaDb(): Promise<TestMariaDb> {
  const server = findProgram('mariadbd');
  const installDb = findProgram('mariadb-install-db') ?? findProgram('mysql_install_db');
  if (!server || !installDb) throw new Error('mariadbd or mariadb-install-db not found (apt-get install mariadb-server)');
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const log = join(dir, 'error.log');
  // mariadbd refuses to run as root unless told to; as anyone else it runs as that user.
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  // Its own temporary directory: a shared /tmp lets anything that cleans it up delete the server's temporary tables mid-query.
  const scratch = join(dir, 'tmp');
  mkdirSync(scratch);
  const common = ['--no-defaults', `--datadir=${data}`, `--tmpdir=${scratch}`, '--innodb-log-file-size=8M', ...user];
  const installed = spawnSync(installDb, [...common, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8', timeout: START_DEADLINE_MS });
  if (installed.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${installDb} failed: ${(installed.error?.message ?? installed.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }

  const port = await freePort();
  const child: ChildProcess = spawn(
    server,
    [...common, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socket}`, `--pid-file=${join(dir, 'mariadb.pid')}`, `--log-error=${log}`, '--innodb-buffer-pool-size=64M', '--skip-log-bin', '--max-connections=500'],
    { stdio: 'ignore' },
  );
  // The server must not keep a test process alive: the process's exit handler (or stop()) ends it.
  child.unref();
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      // Waited for now: ref it again, or a process with nothing else to do would exit before the server has gone.
      child.ref();
      child.kill('SIGKILL');
    });
  const stopNow = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(child, socket, log);
    const password = randomBytes(12).toString('hex');
    const { createConnection } = await import('mysql2/promise');
    const admin = await createConnection({ socketPath: socket, user: 'root', connectTimeout: 10_000 });
    await admin.query(`CREATE USER 'tradectl'@'127.0.0.1' IDENTIFIED BY '${password}'`);
    await admin.query(`GRANT ALL PRIVILEGES ON *.* TO 'tradectl'@'127.0.0.1'`);
    await admin.end();
    return { url: `mysql://tradectl:${password}@127.0.0.1:${port}`, stop, stopNow };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntilReady(child: ChildProcess, socket: string, log: string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mariadbd exited at start: ${tail(log)}`);
    if (existsSync(socket) && readLog(log).includes('ready for connections')) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mariadbd was not ready within ${START_DEADLINE_MS / 1000} s: ${tail(log)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
