import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { authHeaders, signRequest } from '../../src/core/signing.js';
import { runCli, startCli } from '../helpers/cli.js';
import { marketSignal, startHarness, type CallResult, type Harness } from '../helpers/node-harness.js';
import { needs } from '../helpers/services.js';

const SECRET = 'center-node-shared-secret-0123456789';
const PATH = '/api/execute';

let anyMode: Harness;
let tokenOnly: Harness;
let hmacOnly: Harness;
before(async () => {
  [anyMode, tokenOnly, hmacOnly] = await Promise.all([
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, host: '127.0.0.1', node_code: 'node-any' }),
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'token', host: '127.0.0.1', node_code: 'node-token' }),
    startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'hmac', host: '127.0.0.1', node_code: 'node-hmac' }),
  ]);
});
after(() => Promise.all([anyMode?.close(), tokenOnly?.close(), hmacOnly?.close()]));

function body(h: Harness) {
  return JSON.stringify({ signal: marketSignal(), accounts: [h.account(1)] });
}

/** Signed the way the center signs for the node `h`, as `node` (its own code unless told). */
function signed(h: Harness, text: string, at = Date.now(), secret = SECRET, node = h.node.runtime.config.node_code ?? '', path = PATH): Record<string, string> {
  return authHeaders(secret, 'hmac', { method: 'POST', url: new URL(path, h.url), node, body: text }, at);
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
  const bySignature = await anyMode.post(PATH, text, signed(anyMode, text));
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
    ['signature with another secret', signed(anyMode, text, now, 'another-secret-of-enough-length')],
    ['signature for another node', signed(anyMode, text, now, SECRET, 'node-token')],
    ['signature for no node', signed(anyMode, text, now, SECRET, '')],
    ['timestamp alone', { 'x-center-timestamp': String(now) }],
    ['signature alone', { 'x-center-signature': signed(anyMode, text)['x-center-signature'] ?? '' }],
    ['malformed signature', { 'x-center-timestamp': String(now), 'x-center-signature': 'not-hex' }],
    ['malformed timestamp', { 'x-center-timestamp': 'yesterday', 'x-center-signature': 'a'.repeat(64) }],
  ];
  for (const [name, headers] of cases) {
    const res = await anyMode.post(PATH, text, headers);
    assert.equal(res.status, 401, name);
    assertRefused(res, 401);
  }
  // A timestamp outside the window says so (it reveals nothing about the secret), so an honest sender signs again.
  for (const at of [now - 6 * 60 * 1000, now + 6 * 60 * 1000]) {
    const res = await anyMode.post(PATH, text, signed(anyMode, text, at));
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error.code, 'signature_expired');
  }
});

test('a signature is bound to its body and path and is accepted once', async () => {
  const text = body(anyMode);
  const headers = signed(anyMode, text);
  assertRefused(await anyMode.post(PATH, body(anyMode), headers), 401);
  assertRefused(await anyMode.post('/api/sync-balance', text, headers), 401);
  assert.equal((await anyMode.post(PATH, text, headers)).status, 200);
  assertRefused(await anyMode.post(PATH, text, headers), 401);
});

test('token mode refuses signatures and hmac mode refuses tokens', async () => {
  const text = body(tokenOnly);
  assertRefused(await tokenOnly.post(PATH, text, signed(tokenOnly, text)), 401);
  assert.equal((await tokenOnly.post(PATH, text, { 'x-center-token': SECRET })).status, 200);
  const text2 = body(hmacOnly);
  assertRefused(await hmacOnly.post(PATH, text2, { 'x-center-token': SECRET }), 401);
  assert.equal((await hmacOnly.post(PATH, text2, signed(hmacOnly, text2))).status, 200);
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

/** A raw request that sets its own Host header, as a replayed capture would carry it. */
function rawPost(url: string, path: string, headers: Record<string, string>, text: string): Promise<{ status: number; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers } }, (res) => {
      let out = '';
      res.on('data', (d) => (out += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(out) as Record<string, any> }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

test('a request signed for one node is refused by every other node sharing the secret, byte for byte or re-addressed', async () => {
  const account = anyMode.account(41);
  hmacOnly.sim.addAccount({ apiKey: account.api_key, secret: account.api_secret });
  const text = JSON.stringify({ signal: marketSignal(), accounts: [account] });
  const headers = signed(anyMode, text);
  const host = new URL(anyMode.url).host;
  const accepted = await rawPost(anyMode.url, PATH, { ...headers, host }, text);
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal(accepted.body['results'][0].status, 'filled');
  // The same bytes, Host header included, to a second node: its code and address are not the ones signed.
  const replayed = await rawPost(hmacOnly.url, PATH, { ...headers, host }, text);
  assert.equal(replayed.status, 401);
  assert.deepEqual(replayed.body['error'], { code: 'unauthorized', message: 'authentication required' });
  const readdressed = await hmacOnly.post(PATH, text, headers);
  assert.equal(readdressed.status, 401);
  assert.equal(hmacOnly.sim.orders(account.api_key).length, 0, 'the second node placed nothing');
  assert.equal(anyMode.sim.orders(account.api_key).filter((o) => o.kind === 'order').length, 1);
  assert.match(hmacOnly.logs.join('\n'), /signed for another node or address than node_code \\"node-hmac\\"/);
});

test('a restarted node refuses signatures from before it started, and says so, so the center signs again', async () => {
  const before = Date.now() - 1;
  const restarted = await startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, host: '127.0.0.1', node_code: 'node-any' });
  try {
    const text = JSON.stringify({ signal: marketSignal(), accounts: [restarted.account(1)] });
    const stale = await restarted.post(PATH, text, signed(restarted, text, before));
    assert.equal(stale.status, 401, stale.text);
    assert.equal(stale.body.error.code, 'signature_expired');
    assert.equal(restarted.sim.orders().length, 0, 'nothing was placed');
    const fresh = await restarted.post(PATH, text, signed(restarted, text));
    assert.equal(fresh.status, 200, fresh.text);
  } finally {
    await restarted.close();
  }
});

test("a stranger's half-sent request is not work in flight and does not hold a graceful shutdown", { timeout: 20_000 }, async () => {
  const h = await startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, host: '127.0.0.1', node_code: 'node-any', shutdown_grace: 60 });
  const { port } = new URL(h.url);
  const socket = connect(Number(port), '127.0.0.1');
  try {
    // Made-up signature headers, a fresh timestamp, and a body that never finishes.
    socket.write(`POST /api/execute HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nX-Center-Timestamp: ${Date.now()}\r\nX-Center-Signature: ${'a'.repeat(64)}\r\n\r\n{"signal":`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(h.node.runtime.requests.inFlight, 0, 'counted only once authenticated');
    // With shutdown_grace 60 s this would wait a minute if the request counted as work.
    await h.close();
  } finally {
    socket.destroy();
  }
});

test('hmac mode needs node_code, and a node without one refuses every signature, even one naming no node', async () => {
  await assert.rejects(startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, node_auth_mode: 'hmac' }), /node_code: must be set when node_auth_mode is hmac/);
  const codeless = await startHarness({ node_auth_enabled: true, node_auth_secret: SECRET, host: '127.0.0.1' });
  try {
    const text = JSON.stringify({ signal: marketSignal(), accounts: [codeless.account(1)] });
    assertRefused(await codeless.post(PATH, text, signed(codeless, text, Date.now(), SECRET, '')), 401);
    assert.equal((await codeless.post(PATH, text, { 'x-center-token': SECRET })).status, 200, 'the token still works');
    assert.match(codeless.logs.join('\n'), /node_code is not set/);
  } finally {
    await codeless.close();
  }
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

test('the signature matches an independent implementation (openssl), so a center in any language can sign', needs('openssl'), () => {
  // The example in docs/protocol.md, computed by sha256sum and openssl from the documented canonical string.
  const bodyHash = execFileSync('sha256sum', { input: '{"a":1}' }).toString().split(' ')[0];
  const canonical = `tradectl-v2\n1700000000000\nPOST\n10.0.0.5:9101\n/api/execute\nnode-sg-1\n${bodyHash}`;
  const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', 'shared-secret'], { input: canonical }).toString().trim().split(' ').at(-1);
  const sig = signRequest('shared-secret', { timestamp: '1700000000000', method: 'POST', host: '10.0.0.5:9101', path: '/api/execute', node: 'node-sg-1', body: '{"a":1}' });
  assert.equal(sig, openssl);
  assert.match(readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8'), new RegExp(`# ${sig}`), 'docs/protocol.md shows this signature');
});
