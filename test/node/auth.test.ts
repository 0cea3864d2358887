import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authHeaders, signRequest } from '../../src/core/signing.js';
import { runCli, startCli } from '../helpers/cli.js';
import { marketSignal, startHarness, type CallResult, type Harness } from '../helpers/node-harness.js';

const SECRET = 'center-node-shared-secret-0123456789';
const PATH = '/api/execute';

let anyMode: Harness;
let tokenOnly: Harness;
let hmacOnly: Harness;
before(async () => {
  [anyMode, tokenOnly, hmacOnly] = await Promise.all([
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, host: '127.0.0.1' }),
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'token', host: '127.0.0.1' }),
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'hmac', host: '127.0.0.1' }),
  ]);
});
after(() => Promise.all([anyMode.close(), tokenOnly.close(), hmacOnly.close()]));

function body(h: Harness) {
  return JSON.stringify({ signal: marketSignal(), accounts: [h.account(1)] });
}

function signed(text: string, at = Date.now(), secret = SECRET): Record<string, string> {
  return authHeaders(secret, 'hmac', 'POST', PATH, text, at);
}

function assertRefused(res: CallResult, status: 401 | 403) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.success, false);
  // Same answer whatever the reason: nothing that helps a guesser.
  assert.deepEqual(res.body.error, status === 401 ? { code: 'unauthorized', message: 'authentication required' } : { code: 'forbidden', message: 'forbidden' });
  assert.ok(!res.text.includes(SECRET));
}

test('the right token or a fresh signature is accepted', async () => {
  const byToken = await anyMode.post(PATH, body(anyMode), { 'x-center-token': SECRET });
  assert.equal(byToken.status, 200, byToken.text);
  assert.equal(byToken.body.results[0].status, 'filled');
  const text = body(anyMode);
  const bySignature = await anyMode.post(PATH, text, signed(text));
  assert.equal(bySignature.status, 200, bySignature.text);
});

test('every refusal is a plain 401', async () => {
  const text = body(anyMode);
  const now = Date.now();
  const cases: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['wrong token', { 'x-center-token': 'center-node-shared-secret-0123456780' }],
    ['token prefix', { 'x-center-token': SECRET.slice(0, 10) }],
    ['empty token', { 'x-center-token': '' }],
    ['signature with another secret', signed(text, now, 'another-secret-of-enough-length')],
    ['stale timestamp', signed(text, now - 6 * 60 * 1000)],
    ['future timestamp', signed(text, now + 6 * 60 * 1000)],
    ['timestamp alone', { 'x-center-timestamp': String(now) }],
    ['signature alone', { 'x-center-signature': signed(text)['x-center-signature'] ?? '' }],
    ['malformed signature', { 'x-center-timestamp': String(now), 'x-center-signature': 'not-hex' }],
    ['malformed timestamp', { 'x-center-timestamp': 'yesterday', 'x-center-signature': 'a'.repeat(64) }],
  ];
  for (const [name, headers] of cases) {
    const res = await anyMode.post(PATH, text, headers);
    assert.equal(res.status, 401, name);
    assertRefused(res, 401);
  }
});

test('a signature is bound to its body and path and is accepted once', async () => {
  const text = body(anyMode);
  const headers = signed(text);
  assertRefused(await anyMode.post(PATH, body(anyMode), headers), 401);
  assertRefused(await anyMode.post('/api/sync-balance', text, headers), 401);
  assert.equal((await anyMode.post(PATH, text, headers)).status, 200);
  assertRefused(await anyMode.post(PATH, text, headers), 401);
});

test('token mode refuses signatures and hmac mode refuses tokens', async () => {
  const text = body(tokenOnly);
  assertRefused(await tokenOnly.post(PATH, text, signed(text)), 401);
  assert.equal((await tokenOnly.post(PATH, text, { 'x-center-token': SECRET })).status, 200);
  const text2 = body(hmacOnly);
  assertRefused(await hmacOnly.post(PATH, text2, { 'x-center-token': SECRET }), 401);
  assert.equal((await hmacOnly.post(PATH, text2, signed(text2))).status, 200);
});

test('every /api route is protected; /health is open and shows no secret', async () => {
  for (const path of ['/api/execute', '/api/execute-batch', '/api/query-orders', '/api/sync-balance', '/api/sync-positions', '/api/nope']) {
    assertRefused(await anyMode.post(path, '{}'), 401);
  }
  const health = await fetch(`${anyMode.url}/health`);
  assert.equal(health.status, 200);
  assert.ok(!(await health.text()).includes(SECRET));
});

test('a caller outside node_allowed_ips gets 403 even with the right token', async () => {
  const h = await startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_allowed_ips: '10.0.0.1,192.168.0.0/16', host: '127.0.0.1' });
  try {
    assertRefused(await h.post(PATH, body(h), { 'x-center-token': SECRET }), 403);
  } finally {
    await h.close();
  }
  const allowed = await startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_allowed_ips: '10.0.0.1,127.0.0.0/8', host: '127.0.0.1' });
  try {
    assert.equal((await allowed.post(PATH, body(allowed), { 'x-center-token': SECRET })).status, 200);
    assertRefused(await allowed.post(PATH, body(allowed)), 401);
  } finally {
    await allowed.close();
  }
});

test('an IPv4-mapped allowlist entry starts the node and admits that caller; a bad one exits 2 naming it', async () => {
  const env = { NODE_AUTH_ENABLED: 'true', NODE_AUTH_SECRET: SECRET, TRADECTL_HOST: '127.0.0.1', TRADECTL_PORT: '0', TRADECTL_LOG_FORMAT: 'json' };
  const served = await startCli(['node', 'serve'], { ...env, NODE_ALLOWED_IPS: '::ffff:127.0.0.1' }, /"url":"(http:[^"]+)"/);
  try {
    const url = served.match[1] as string;
    const res = await fetch(`${url}/api/sync-balance`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-center-token': SECRET }, body: JSON.stringify({ accounts: [] }) });
    assert.equal(res.status, 400, 'past the allowlist and the token, refused only for its empty account list');
  } finally {
    served.child.kill('SIGTERM');
    await new Promise((resolve) => served.child.once('exit', resolve));
  }
  const refused = await runCli(['node', 'serve'], { ...env, NODE_ALLOWED_IPS: '::ffff:10.0.0.0/64' });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /node_allowed_ips: .*::ffff:10\.0\.0\.0\/64/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
});

test('refusals are logged with a reason but never the secret', () => {
  const logs = anyMode.logs.join('\n');
  assert.match(logs, /"reason":"bad token"/);
  assert.match(logs, /"reason":"signature replayed"/);
  assert.ok(!logs.includes(SECRET));
});

test('a node without auth refuses to listen beyond loopback unless told to', async () => {
  await assert.rejects(startHarness({ host: '0.0.0.0' }), /refusing to listen on 0.0.0.0 without authentication/);
  const open = await startHarness({ host: '0.0.0.0', allow_unauthenticated: true });
  await open.close();
});

test('the signature matches an independent implementation (openssl), so a center in any language can sign', () => {
  // printf '1700000000000\nPOST\n/api/execute\n%s' "$(printf '{"a":1}' | sha256sum | cut -d' ' -f1)" | openssl dgst -sha256 -hmac shared-secret
  const sig = signRequest('shared-secret', { timestamp: '1700000000000', method: 'POST', path: '/api/execute', body: '{"a":1}' });
  assert.equal(sig, '0a69782d02cc4efd3dd8372aa508b637a4339e6886fed95f10c15cbf8f0e614d');
});
