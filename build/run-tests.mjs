// Runs every test/**/*.test.ts with node:test through tsx. Node 20's --test
// does not expand globs itself, so the files are listed here.
// Usage: node build/run-tests.mjs [substring …]   (filters by path)
//
// Tests that need MariaDB, Redis, promtool or openssl run when the program is
// installed (MariaDB: a server of the run's own, in a throwaway directory, or
// the one at TRADECTL_TEST_MYSQL_URL) and are skipped otherwise, each skip
// counted and its reason printed at the end. Under CI (CI=true) nothing may be
// skipped: a missing program fails the run before any test starts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

// The service helpers are TypeScript, shared with the tests; tsx loads them whether or not the runner was started with --import tsx.
register();
const { startMariaDb } = await import('../test/helpers/mariadb-server.ts');
const { detectMissing, MISSING_ENV } = await import('../test/helpers/services.ts');

/** A backstop per test; each test's own `timeout` overrides it. */
const TEST_TIMEOUT_MS = 300_000;

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : find(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const env = { ...process.env };
const missing = detectMissing();
let mariadb;
if (process.env.TRADECTL_TEST_MYSQL_URL) {
  await checkReachable(process.env.TRADECTL_TEST_MYSQL_URL);
} else if (!missing.mysql) {
  try {
    mariadb = await startMariaDb();
    env.TRADECTL_TEST_MYSQL_URL = mariadb.url;
  } catch (error) {
    missing.mysql = `MariaDB is installed but did not start: ${error.message}`;
  }
}
if (ci && Object.keys(missing).length > 0) {
  for (const reason of Object.values(missing)) console.error(`tests cannot run under CI: ${reason}`);
  await mariadb?.stop();
  process.exit(1);
}
env[MISSING_ENV] = JSON.stringify(missing);

const reportDir = mkdtempSync(join(tmpdir(), 'tradectl-tests-'));
const skipFile = join(reportDir, 'skips.jsonl');
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx',
    '--test', '--test-concurrency=2', '--test-force-exit', `--test-timeout=${TEST_TIMEOUT_MS}`,
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout',
    '--test-reporter=./build/skip-reporter.mjs', `--test-reporter-destination=${skipFile}`,
    ...files,
  ],
  { stdio: 'inherit', env },
);
const stopChild = (signal) => child.kill(signal);
process.on('SIGINT', stopChild);
process.on('SIGTERM', stopChild);
const status = await new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await mariadb?.stop();

const skips = readSkips(skipFile);
rmSync(reportDir, { recursive: true, force: true });
const byReason = new Map();
for (const skip of skips) {
  const counts = byReason.get(skip.reason) ?? { suite: 0, test: 0 };
  counts[skip.kind] += 1;
  byReason.set(skip.reason, counts);
}
for (const [reason, counts] of byReason) {
  const parts = [counts.suite && `${counts.suite} suite${counts.suite === 1 ? '' : 's'}`, counts.test && `${counts.test} test${counts.test === 1 ? '' : 's'}`].filter(Boolean);
  console.log(`skipped ${parts.join(' and ')}: ${reason}`);
}
if (ci && skips.length > 0) {
  console.error(`under CI nothing may be skipped; ${skips.length} were`);
  process.exit(1);
}
process.exit(status);

function readSkips(path) {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  } catch {
    return [];
  }
}

/** A MariaDB the caller named must answer; a test run against a server that is not there would only time out. */
async function checkReachable(url) {
  const { createConnection } = await import('mysql2/promise');
  try {
    const conn = await createConnection({ uri: url, connectTimeout: 5_000 });
    await conn.end();
  } catch (error) {
    console.error(`TRADECTL_TEST_MYSQL_URL (${url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}) does not answer: ${error.message}; start that server, or unset the variable to let the tests start their own`);
    process.exit(1);
  }
}
