import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CenterOnlyEntries } from '../../src/center/config.js';
import { startCenter } from '../../src/center/server.js';
import { loadCenterConfig } from '../../src/cli/center-actions.js';
import { createLogger } from '../../src/process/logger.js';
import { CENTER_CONFIG_KEYS } from '../../src/core/config-keys.js';
import { NodeConfigEntries } from '../../src/node/config.js';
import { REQUEST_TIMEOUT_MS } from '../../src/http/listen.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const quiet = createLogger({ level: 'silent', format: 'json' });

test('the node ignores exactly the center-only keys, and the center the node-only ones', () => {
  const centerOnly = Object.keys(CenterOnlyEntries).sort();
  for (const key of centerOnly) assert.ok((CENTER_CONFIG_KEYS as readonly string[]).includes(key), `${key} missing from CENTER_CONFIG_KEYS`);
  for (const key of CENTER_CONFIG_KEYS) assert.ok(!(key in NodeConfigEntries), `${key} is a node key too`);
  const both = { node_code: 'n1', port: 9200, db_url: 'mysql://u:p@h/db', fee_rate: 0.002 };
  const dir = tempDir('shared');
  const file = join(dir, 'shared.yaml');
  writeFileSync(file, Object.entries(both).map(([k, v]) => `${k}: ${v}`).join('\n'));
  assert.equal(loadCenterConfig(file, {}, {}).fee_rate, 0.002);
});

test('an embedded center generates its master key once, mode 0600, and refuses a readable one', async () => {
  const dir = tempDir('key');
  const config = loadCenterConfig(undefined, { data_dir: dir, center_port: 0 }, {});
  const center = await startCenter(config, quiet);
  await center.close();
  const key = join(dir, 'master.key');
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.ok(readdirSync(dir).includes('tradectl.sqlite'));
  chmodSync(key, 0o644);
  await assert.rejects(startCenter(config, quiet), /readable by others .* chmod 600/);
});

// The master key is checked before the database is opened, so no server is needed.
test('a MySQL center without a master key, or a public bind without a token, is refused at start', async () => {
  await assert.rejects(startCenter(loadCenterConfig(undefined, { db_url: 'mysql://nobody:wrong@127.0.0.1:1/db', center_port: 0 }, {}), quiet), /no master key: set TRADECTL_MASTER_KEY/);
  await assert.rejects(startCenter(loadCenterConfig(undefined, { center_host: '0.0.0.0', center_port: 0 }, {}), quiet), /without center_api_token/);
  await assert.rejects(startCenter(loadCenterConfig(undefined, { db_url: 'mysql://nobody:wrong@127.0.0.1:1/db', master_key: 'a'.repeat(64), center_port: 0 }, {}), quiet), /cannot open the database/);
});

test('a center reachable beyond loopback authenticates heartbeats, or refuses to start', async () => {
  const token = { center_api_token: 'admin-token-for-startup-0123456', center_port: 0, data_dir: tempDir('public') };
  await assert.rejects(startCenter(loadCenterConfig(undefined, { ...token, center_host: '0.0.0.0' }, {}), quiet), /refusing to listen on 0\.0\.0\.0 without node_auth_secret: .*heartbeats are unauthenticated/);
  await assert.rejects(startCenter(loadCenterConfig(undefined, token, {}), quiet), /without node_auth_secret/, 'a token alone defaults to 0.0.0.0, so it needs the node secret too');
  const run = await runCli(['center', 'serve'], { TRADECTL_CENTER_API_TOKEN: token.center_api_token, TRADECTL_DATA_DIR: token.data_dir, TRADECTL_CENTER_PORT: '0' });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /cannot start the center: .*node_auth_secret/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  const center = await startCenter(loadCenterConfig(undefined, { ...token, node_auth_secret: 'node-secret-for-startup-01234' }, {}), quiet);
  try {
    assert.equal(center.server.requestTimeout, REQUEST_TIMEOUT_MS, "a request that never finishes arriving is closed, as on the node");
    assert.ok(center.server.headersTimeout > 0 && center.server.keepAliveTimeout > 0);
  } finally {
    await center.close();
  }
});

test('`tradectl demo` runs a center, two nodes and a signal, and exits 0', async () => {
  const empty = tempDir('demo-cwd');
  const res = await runCli(['demo'], { HOME: empty }, empty);
  assert.equal(res.code, 0, res.stderr + res.stdout);
  assert.match(res.stdout, /3 of 3 orders filled/);
  assert.match(res.stdout, /demo-node-1, heartbeat accepted/);
  assert.match(res.stdout, /profit pool: 1\.92 points/);
  assert.deepEqual(readdirSync(empty), [], 'the demo cleans up after itself');
});

test('`tradectl center migrate` and a bad center config', async () => {
  const dir = tempDir('migrate');
  const ok = await runCli(['center', 'migrate'], { TRADECTL_DATA_DIR: dir }, dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /is up to date/);
  const bad = await runCli(['center', 'serve'], { TRADECTL_FEE_RATE: '2', TRADECTL_CENTER_API_TOKEN: 'short' }, dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /fee_rate: expected a fraction/);
  assert.match(bad.stderr, /center_api_token: expected at least 16 characters/);
  const leaky = await runCli(['center', 'migrate'], { TRADECTL_DB_URL: 'postgres://trader:hunter2-secret@db:5432/x', TRADECTL_REDIS_URL: 'http://:redis-pass-9@r:6379' }, dir);
  assert.equal(leaky.code, 2);
  assert.match(leaky.stderr, /db_url: expected a mysql:\/\/ URL \(got "postgres:\/\/trader:\*\*\*@db:5432\/x"/);
  assert.ok(!leaky.stderr.includes('hunter2') && !leaky.stderr.includes('redis-pass-9'), leaky.stderr);
});
