import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ipRestriction } from 'hono/ip-restriction';
import pino from 'pino';
import { centerAuth } from '../../src/http/center-auth.js';
import { allowlistEntryProblem, createIpAllowlist } from '../../src/http/ip-allowlist.js';
import { HttpError } from '../../src/http/errors.js';
import { readBody } from '../../src/http/read-body.js';
import { createReplayGuard } from '../../src/http/replay-guard.js';
import { MAX_REQUEST_ID_LENGTH, requestId } from '../../src/http/request-id.js';

/**
 * Hono ships request-id, body-limit and IP-restriction middleware. The HTTP
 * kit uses the first and keeps its own of the other two; each test here
 * shows the property the choice rests on, so a Hono upgrade that changes it
 * (or a change of ours that loses it) is seen.
 */

type Env = { Bindings: HttpBindings; Variables: { rawBody: string; log: pino.Logger; requestId: string } };
const silent = pino({ level: 'silent' });

function errorsAsJson(app: Hono<Env>): Hono<Env> {
  app.onError((error, c) => (error instanceof HttpError ? c.json({ code: error.code }, error.status as 401) : c.json({ code: 'internal' }, 500)));
  return app;
}

async function listen(app: Hono<Env>): Promise<{ port: number; close: () => Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    }),
  };
}

/**
 * Sends the headers and the first chunk of a chunked body, and reports
 * whether an answer came before the rest of the body was sent.
 */
async function answeredBeforeBodyEnds(port: number, headers: Record<string, string>): Promise<{ early: boolean; status: number }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  const lines = Object.entries({ host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.write(`POST /api/execute HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${chunk('{"signal":')}`);
  let text = '';
  let restSent = false;
  let early = false;
  const answered = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      if (text === '') early = !restSent;
      text += data.toString('utf8');
      if (/\r\n\r\n/.test(text)) resolve();
    });
  });
  // An answer that depends only on the headers comes at once; one that waits for the body cannot come before the rest is sent.
  await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 500))]);
  restSent = true;
  if (!text) socket.write(`${chunk('null}')}0\r\n\r\n`);
  await answered;
  socket.destroy();
  return { early, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) };
}

function authOptions() {
  return {
    enabled: true,
    secret: 'shared-secret-0123456789abcdef',
    mode: 'any' as const,
    allowlist: createIpAllowlist([]),
    replay: createReplayGuard(),
    maxBodyBytes: 1_000_000,
    nodeCode: () => 'node-a',
    notBefore: 0,
  };
}

const STALE = { 'x-center-timestamp': String(Date.now() - 3_600_000), 'x-center-signature': 'a'.repeat(64) };

test('request ids: Hono\'s middleware keeps the ids the center makes and refuses what the database column cannot hold', async () => {
  const app = new Hono<Env>();
  app.use('*', requestId(silent));
  app.get('/', (c) => c.text(c.get('requestId')));
  const echo = async (id: string) => (await app.request('/', { headers: { 'x-request-id': id } })).text();
  for (const id of ['3b1f6c1e-8f0a-4c53-9d43-6d0f6b0a1d55', '1733090000000-0', 'reconcile-1733090000000', 'r'.repeat(MAX_REQUEST_ID_LENGTH)]) {
    assert.equal(await echo(id), id);
  }
  for (const id of ['r'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'has space', 'é', 'a;b']) {
    assert.match(await echo(id), /^[0-9a-f-]{36}$/, `${id} is replaced by a new id`);
  }
});

test('body limits: ours refuses a stale signature from its headers, before a streamed body arrives; Hono\'s body-limit first reads all of it', async () => {
  const ours = errorsAsJson(new Hono<Env>());
  ours.use('*', requestId(silent));
  ours.post('/api/execute', centerAuth<Env>(authOptions()), (c) => c.json({ ok: true }));

  // The built-in must run before the signature check, which needs the body it limits.
  const builtIn = errorsAsJson(new Hono<Env>());
  builtIn.use('*', requestId(silent));
  builtIn.post('/api/execute', bodyLimit({ maxSize: 1_000_000 }), centerAuth<Env>(authOptions()), (c) => c.json({ ok: true }));

  const [a, b] = await Promise.all([listen(ours), listen(builtIn)]);
  try {
    assert.deepEqual(await answeredBeforeBodyEnds(a.port, STALE), { early: true, status: 401 });
    assert.deepEqual(await answeredBeforeBodyEnds(b.port, STALE), { early: false, status: 401 });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('body limits: ours reads a body once, for the signature and the handler alike, and stops at the limit while streaming', async () => {
  const app = errorsAsJson(new Hono<Env>());
  app.post('/', async (c) => {
    const first = await readBody(c, 16, 'max_body_bytes');
    const second = await readBody(c, 16, 'max_body_bytes');
    return c.json({ same: first === second, text: first });
  });
  const ok = await app.request('/', { method: 'POST', body: '{"a":1}' });
  assert.deepEqual(await ok.json(), { same: true, text: '{"a":1}' });
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('0123456789'));
      controller.close();
    },
  });
  const big = await app.request('/', { method: 'POST', body: chunked, duplex: 'half' } as RequestInit);
  assert.equal(big.status, 413);
});

test('IP allowlists: ours and Hono\'s admit the same callers, and ours names what is wrong with an entry', async () => {
  const rules = ['10.0.0.0/8', '::ffff:192.168.0.0/112', '2001:db8::/32', '127.0.0.1', '::1', '0.0.0.0/0', '::ffff:127.0.0.2', '10.0.0.1/32'];
  const callers = ['10.1.2.3', '::ffff:10.1.2.3', '192.168.5.5', '::ffff:192.168.5.5', '2001:db8::5', '127.0.0.1', '::ffff:127.0.0.1', '::1', '8.8.8.8', '127.0.0.2', '::ffff:127.0.0.2', 'fe80::1'];
  for (const rule of rules) {
    let caller = '';
    const app = new Hono();
    app.use('*', ipRestriction(() => caller, { allowList: [rule] }));
    app.get('/', (c) => c.text('ok'));
    const list = createIpAllowlist([rule]);
    for (const address of callers) {
      caller = address;
      const hono = (await app.request('/')).status === 200;
      assert.equal(list.allows(address), hono, `${rule} for ${address}`);
    }
  }
  // Hono's middleware can only be mounted; the configuration check (exit 2 at start, naming the entry) needs the predicate and the reason.
  assert.throws(() => ipRestriction(() => '', { allowList: ['10.0.0.1/33'] }), /Invalid rule: 10\.0\.0\.1\/33/);
  assert.equal(allowlistEntryProblem('10.0.0.1/33'), '"10.0.0.1/33" has a prefix length outside 0-32');
  assert.equal(allowlistEntryProblem('::ffff:10.0.0.0/90'), '"::ffff:10.0.0.0/90" reaches beyond the IPv4-mapped range ::ffff:0:0/96; write the IPv4 range instead');
});
