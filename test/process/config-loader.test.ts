import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../src/process/config-loader.js';
import { loadNodeConfig } from '../../src/node/commands.js';

const dir = mkdtempSync(join(tmpdir(), 'tradectl-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function yamlFile(text: string): string {
  const path = join(dir, `node-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults apply with no file, env or flags', () => {
  const config = loadNodeConfig(undefined, {}, {});
  assert.equal(config.port, 9101);
  assert.equal(config.heartbeat_interval, 60_000);
  assert.equal(config.node_auth_enabled, false);
  assert.deepEqual(config.node_allowed_ips, []);
  assert.deepEqual(config.exchange_urls, {});
});

test('precedence is file < env < flags, and TRADECTL_ names win over seed names', () => {
  const path = yamlFile('port: 9200\nnode_code: from-file\ncenter_url: http://file:1\nheartbeat_interval: 30\n');
  const env = { TRADECTL_PORT: '9300', NODE_CODE: 'from-seed-env', TRADECTL_CENTER_URL: 'http://env:2', CENTER_URL: 'http://seed:3' };
  const config = loadNodeConfig(path, { port: '9400' }, env);
  assert.equal(config.port, 9400, 'flag wins');
  assert.equal(config.node_code, 'from-seed-env', 'seed env name over file');
  assert.equal(config.center_url, 'http://env:2', 'TRADECTL_ over seed name');
  assert.equal(config.heartbeat_interval, 30_000, 'file over default');
});

test('env strings become booleans, lists and maps', () => {
  const config = loadNodeConfig(undefined, {}, {
    NODE_AUTH_ENABLED: 'true',
    NODE_AUTH_SECRET: '0123456789abcdef',
    NODE_ALLOWED_IPS: '10.0.0.1, 10.1.0.0/16,::1',
    TRADECTL_EXCHANGE_URLS: 'binanceusdm=http://127.0.0.1:9900,okx=http://127.0.0.1:9901',
    TRADECTL_ACCOUNT_TIMEOUT: '2.5',
  });
  assert.equal(config.node_auth_enabled, true);
  assert.deepEqual(config.node_allowed_ips, ['10.0.0.1', '10.1.0.0/16', '::1']);
  assert.deepEqual(config.exchange_urls, { binanceusdm: 'http://127.0.0.1:9900', okx: 'http://127.0.0.1:9901' });
  assert.equal(config.account_timeout, 2500);
});

test('every problem is reported at once, naming the key, the expectation and the source', () => {
  const path = yamlFile('node_auth_enable: true\nport: x\ndb_url: mysql://ignored\nexchange_urls: {binanceusdm: ftp://x}\n');
  const problems = problemsOf(() =>
    loadNodeConfig(path, {}, { NODE_AUTH_ENABLED: 'maybe', NODE_ALLOWED_IPS: '10.0.0.0/40', TRADECTL_NODE_AUTH_SECRET: 'short-secret' }),
  );
  const text = problems.join('\n');
  assert.match(text, /node_auth_enable: unknown key/);
  assert.match(text, /port: expected an integer from 0 to 65535 \(got "x" from .*node-\d+\.yaml\)/);
  assert.match(text, /node_auth_enabled: expected true or false \(got "maybe" from env NODE_AUTH_ENABLED\)/);
  assert.match(text, /node_allowed_ips: .*prefix length/);
  assert.match(text, /exchange_urls: expected/);
  assert.ok(!text.includes('db_url'), 'center keys in a shared file are not typos');
  assert.ok(!text.includes('short-secret'), 'secret values are never echoed');
});

test('auth on needs a secret of at least 16 characters; TLS needs both files', () => {
  assert.match(problemsOf(() => loadNodeConfig(undefined, {}, { NODE_AUTH_ENABLED: '1' })).join(), /node_auth_secret: must be set/);
  assert.match(problemsOf(() => loadNodeConfig(undefined, { tls_cert: '/x.pem' }, {})).join(), /tls_key: tls_cert and tls_key go together/);
});

test('a missing or broken config file is a clear error', () => {
  assert.match(problemsOf(() => loadNodeConfig('/no/such/file.yaml', {}, {})).join(), /config file not found/);
  assert.match(problemsOf(() => loadNodeConfig(yamlFile('a: [\n'), {}, {})).join(), /not valid YAML at line/);
  assert.match(problemsOf(() => loadNodeConfig(yamlFile('- 1\n- 2\n'), {}, {})).join(), /expected a mapping/);
});

test('the shipped config/default.yaml is valid for node and center and documents every key', async () => {
  const config = loadNodeConfig('config/default.yaml', {}, {});
  assert.equal(config.port, 9101);
  const { readFileSync } = await import('node:fs');
  const text = readFileSync('config/default.yaml', 'utf8');
  const { NodeConfigEntries } = await import('../../src/node/config.js');
  const { CenterConfigEntries } = await import('../../src/center/config.js');
  for (const key of [...Object.keys(NodeConfigEntries), ...Object.keys(CenterConfigEntries)]) {
    assert.match(text, new RegExp(`^${key}:`, 'm'), `${key} is not documented`);
  }
  const { loadCenterConfig } = await import('../../src/cli/center-actions.js');
  assert.equal(loadCenterConfig('config/default.yaml', {}, {}).center_port, 8080);
});
