import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runBundle, type BundleResult } from '../../src/bundle/run-bundle.js';
import { makeExecutable } from '../../src/bundle/sea.js';
import { CENTER_CONFIG_KEYS } from '../../src/core/config-keys.js';
import { loadNodeConfig } from '../../src/node/commands.js';
import { marketSignal } from '../helpers/node-harness.js';
import { startBinanceSim, type BinanceSim } from '../sim/binance-sim.js';

/**
 * `tradectl bundle` end to end: the executable runs from an empty directory
 * with nothing else installed, serves /health, executes against the exchange
 * simulator with auth on, and stops cleanly on SIGTERM.
 */
const SECRET = 'bundle-test-node-secret-0123456789';
let out: string;
let built: BundleResult;
let sim: BinanceSim;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'tradectl-bundle-'));
  built = await runBundle({ root: process.cwd(), out: join(out, 'execution-node'), exchanges: ['binanceusdm'] }, () => undefined);
  sim = await startBinanceSim({ accounts: [{ apiKey: 'bundle-key', secret: 'bundle-secret' }] });
});
after(async () => {
  await sim?.close();
  rmSync(out, { recursive: true, force: true });
});

test('the output folder holds the executable, the .cjs bundle, README.md and a node-only config', () => {
  assert.deepEqual(readdirSync(built.dir).sort(), ['README.md', 'config', 'execution-node', 'execution-node.cjs']);
  const config = readFileSync(join(built.dir, 'config/default.yaml'), 'utf8');
  assert.match(config, /^node_auth_enabled:/m);
  assert.match(config, /^log_level:/m);
  for (const key of CENTER_CONFIG_KEYS) assert.doesNotMatch(config, new RegExp(`^${key}:`, 'm'), `${key} belongs to the center`);
  assert.equal(loadNodeConfig(join(built.dir, 'config/default.yaml'), {}, {}).port, 9101, 'the node reads it as is');
  const readme = readFileSync(join(built.dir, 'README.md'), 'utf8');
  assert.match(readme, /systemd/);
  assert.match(readme, /Ports and network/);
});

async function serve(command: string, args: string[]) {
  const empty = mkdtempSync(join(tmpdir(), 'tradectl-bundle-run-'));
  const child = spawn(command, [...args, 'serve', '--port', '0', '--log-format', 'json'], {
    cwd: empty,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: empty,
      NODE_AUTH_ENABLED: 'true',
      NODE_AUTH_SECRET: SECRET,
      TRADECTL_HOST: '127.0.0.1',
      TRADECTL_EXCHANGE_URLS: `binanceusdm=${sim.url}`,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening: ${stdout}${stderr}`)), 15_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /"url":"(http[^"]+)"/.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { child, url, empty, output: () => stdout + stderr, stderr: () => stderr };
}

for (const [label, command, args] of [
  ['the single executable', () => built.executable as string, () => []],
  ['the .cjs bundle under plain node', () => process.execPath, () => [built.cjs]],
] as const) {
  test(`${label} serves /health and executes with auth, then stops on SIGTERM`, async () => {
    const node = await serve(command(), [...args()]);
    try {
      const health = (await (await fetch(`${node.url}/health`)).json()) as { status: string; version: string };
      assert.equal(health.status, 'ok');
      const body = JSON.stringify({
        signal: marketSignal({ stop_loss: 58000 }),
        accounts: [
          { account_id: 1, exchange: 'binanceusdm', api_key: 'bundle-key', api_secret: 'bundle-secret' },
          { account_id: 2, exchange: 'okx', api_key: 'okx-key-1234', api_secret: 'okx-secret', passphrase: 'p' },
        ],
      });
      const json_ = { 'content-type': 'application/json' };
      const refused = await fetch(`${node.url}/api/execute`, { method: 'POST', body, headers: json_ });
      assert.equal(refused.status, 401);
      const res = await fetch(`${node.url}/api/execute`, { method: 'POST', body, headers: { ...json_, 'x-center-token': SECRET } });
      const json = (await res.json()) as { results: Array<{ status: string; stop_loss_order_id?: string; error?: { code: string } }> };
      assert.equal(json.results[0]?.status, 'filled');
      assert.ok(json.results[0]?.stop_loss_order_id);
      assert.equal(json.results[1]?.error?.code, 'exchange_not_supported', 'okx is not in this build');
      const exited = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)));
      node.child.kill('SIGTERM');
      assert.equal(await exited, 0, node.output());
      assert.equal(node.stderr(), '', 'no warnings at start or stop');
      assert.deepEqual(readdirSync(node.empty), [], 'nothing written to the working directory');
    } finally {
      node.child.kill('SIGKILL');
      rmSync(node.empty, { recursive: true, force: true });
    }
  });
}

test('the executable compiles its program with the code cache recorded at build time', () => {
  const result = spawnSync(built.executable as string, ['--version'], { env: { PATH: '/usr/bin:/bin', TRADECTL_SEA_DEBUG: '1' }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /code cache accepted/);
  // A real import() could not run inside the executable's compiled program.
  assert.doesNotMatch(readFileSync(built.cjs, 'utf8'), /\bimport\(\s*["']node:/);
});

test('a failed training run leaves an executable that works without the recorded cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-sea-fallback-'));
  try {
    const program = join(dir, 'program.cjs');
    // Never serves: the training run cannot reach /health.
    writeFileSync(program, "if (process.argv.includes('serve')) process.exit(3); process.stdout.write('plain\\n');");
    const steps: string[] = [];
    await makeExecutable(program, join(dir, 'program'), (line) => steps.push(line), { trainedCodeCache: true });
    assert.ok(steps.some((line) => /^warning: the training run failed/.test(line)), steps.join('\n'));
    const result = spawnSync(join(dir, 'program'), [], { encoding: 'utf8' });
    assert.equal(result.stdout, 'plain\n');
    assert.equal(result.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the executable reads a YAML config file (yaml is bundled, evaluated only when a file is given)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tradectl-bundle-yaml-'));
  try {
    const file = join(dir, 'node.yaml');
    writeFileSync(file, 'node_code: from-yaml\nnode_auth_enable: true\n');
    const typo = spawnSync(built.executable as string, ['serve', '--config', file], { cwd: dir, env: { PATH: '/usr/bin:/bin', HOME: dir }, encoding: 'utf8' });
    assert.equal(typo.status, 2, typo.stderr);
    assert.match(typo.stderr, /node_auth_enable: unknown key in .*node\.yaml/);
    writeFileSync(file, 'node_code: [unclosed\n');
    const broken = spawnSync(built.executable as string, ['serve', '--config', file], { cwd: dir, env: { PATH: '/usr/bin:/bin', HOME: dir }, encoding: 'utf8' });
    assert.equal(broken.status, 2, broken.stderr);
    assert.match(broken.stderr, /node\.yaml: not valid YAML at line/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
