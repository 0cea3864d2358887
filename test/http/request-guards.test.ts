import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { hostAllowed, hostPolicy } from '../../src/http/request-guards.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { marketSignal, startHarness, type Harness } from '../helpers/node-harness.js';

interface Answer {
  status: number;
  body: { success?: boolean; error?: { code: string; message: string } } | undefined;
}

/** A request as a browser would send it: any Host, Origin and Content-Type (fetch cannot set Host). */
function browserLike(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let out = '';
      res.on('data', (d) => (out += d));
      res.on('end', () => {
        let parsed: Answer['body'];
        try {
          parsed = JSON.parse(out) as Answer['body'];
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('Host names: IP addresses and localhost always, other names only when configured', () => {
  const policy = hostPolicy('allowed_hosts', ['Node-SG-1.internal'], ['https://node.example.com:9443/x', '10.0.0.5', undefined]);
  for (const host of ['127.0.0.1:9101', '[::1]:9101', '10.9.9.9', 'localhost:9101', 'LOCALHOST', 'app.localhost:1', 'node-sg-1.internal:9101', 'node.example.com', 'node.example.com.']) {
    assert.ok(hostAllowed(policy, host), host);
  }
  for (const host of ['evil.example:9101', 'node.example.com.evil.example', 'internal', '', 'a b', 'localhost.evil.example']) assert.ok(!hostAllowed(policy, host), host);
  assert.ok(hostAllowed(hostPolicy('allowed_hosts', ['*'], []), 'anything.example'), '* admits any name');
});

describe('a node refuses what a web page could send it', () => {
  let h: Harness;
  let named: Harness;
  before(async () => {
    h = await startHarness();
    named = await startHarness({ allowed_hosts: 'node-a.internal', node_public_url: 'http://node-a.public.example:9101' });
  });
  after(async () => {
    await h?.close();
    await named?.close();
  });

  test('a foreign Host, a foreign Origin and a non-JSON body are refused before anything runs', async () => {
    const body = JSON.stringify({ signal: marketSignal(), accounts: [h.account(1)] });
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, Record<string, string>, string | undefined, number, string]> = [
      ['DNS rebinding: Host is the attacker\'s name', { ...json, host: 'evil.example:9101', origin: 'http://evil.example:9101' }, body, 403, 'host_not_allowed'],
      ['cross-site: Origin is another site', { ...json, origin: 'https://evil.example' }, body, 403, 'origin_not_allowed'],
      ['sandboxed page: Origin null', { ...json, origin: 'null' }, body, 403, 'origin_not_allowed'],
      ['a simple text/plain POST', { 'content-type': 'text/plain' }, body, 415, 'unsupported_media_type'],
      ['a form POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1', 415, 'unsupported_media_type'],
      ['a body without a type', {}, body, 415, 'unsupported_media_type'],
    ];
    for (const [name, headers, payload, status, code] of cases) {
      const res = await browserLike(h.url, 'POST', '/api/execute', headers, payload);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body?.error?.code, code, name);
    }
    assert.equal((await browserLike(h.url, 'GET', '/health', { host: 'evil.example' })).status, 403, '/health is not readable through a rebound name either');
    assert.equal(h.sim.orders().length, 0, 'nothing reached the exchange');
    const ok = await browserLike(h.url, 'POST', '/api/execute', { 'content-type': 'application/json; charset=utf-8', origin: h.url }, body);
    assert.equal(ok.status, 200, 'its own origin, with a charset, is fine');
  });

  test('configured names and the host of node_public_url are admitted', async () => {
    for (const host of ['node-a.internal:9101', 'node-a.public.example:9101', '127.0.0.1']) {
      assert.equal((await browserLike(named.url, 'GET', '/health', { host })).status, 200, host);
    }
    const refused = await browserLike(named.url, 'GET', '/health', { host: 'node-b.internal:9101' });
    assert.equal(refused.status, 403);
    assert.match(refused.body?.error?.message ?? '', /allowed_hosts/);
  });
});

describe('a center without an admin token cannot be driven from a web page', () => {
  let h: CenterHarness;
  let thief: Server;
  let thiefUrl: string;
  const stolen: string[] = [];
  before(async () => {
    h = await startCenterHarness('sqlite', { center_api_token: '' });
    thief = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        stolen.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', resolve));
    thiefUrl = `http://127.0.0.1:${(thief.address() as AddressInfo).port}`;
    const owner = (await h.api('POST', '/api/users', { username: 'victim' })).body.user.id;
    await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'victim-key-1234', api_secret: 'victim-secret-5678' });
    await h.api('POST', '/api/strategies', { strategy_code: 'v' });
    await h.api('POST', '/api/strategies/v/bindings', { account_id: 1 });
  });
  after(async () => {
    await h?.close();
    await new Promise<void>((resolve) => thief.close(() => resolve()));
  });

  test('the CSRF and DNS-rebinding steps that would send an API secret away are each refused', async () => {
    const steps: Array<[string, string, string]> = [
      ['POST', '/api/nodes', JSON.stringify({ node_code: 'evil', base_url: thiefUrl })],
      ['PUT', '/api/accounts/1/node', JSON.stringify({ node_code: 'evil' })],
      ['POST', '/api/signals', JSON.stringify({ strategy_code: 'v', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 })],
    ];
    const port = new URL(h.url).port;
    for (const [method, path, body] of steps) {
      // A cross-site "simple" request: text/plain, no preflight.
      const csrf = await browserLike(h.url, method, path, { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://evil.example' }, body);
      assert.equal(csrf.status, 403, `${method} ${path} cross-site: ${JSON.stringify(csrf.body)}`);
      // The same page after re-pointing its name at 127.0.0.1: same-origin to the browser.
      const rebound = await browserLike(h.url, method, path, { 'content-type': 'application/json', host: `evil.example:${port}`, origin: `http://evil.example:${port}` }, body);
      assert.equal(rebound.status, 403, `${method} ${path} rebound`);
      assert.equal(rebound.body?.error?.code, 'host_not_allowed');
      const textOnly = await browserLike(h.url, method, path, { 'content-type': 'text/plain' }, body);
      assert.equal(textOnly.status, 415, `${method} ${path} as text/plain`);
    }
    await h.idle();
    assert.deepEqual((await h.api('GET', '/api/nodes')).body.nodes, [], 'no node was created');
    assert.equal((await h.api('GET', '/api/accounts/1')).body.account.execution, 'center');
    assert.deepEqual((await h.api('GET', '/api/signals')).body.signals, [], 'no signal was accepted');
    assert.deepEqual(stolen, [], 'nothing reached the attacker');
  });

  test('curl-style calls (no Origin, JSON or no body) still work', async () => {
    assert.equal((await browserLike(h.url, 'GET', '/api/users', {})).status, 200);
    assert.equal((await browserLike(h.url, 'POST', '/api/sync/balance', {})).status, 200, 'a POST without a body needs no content type');
    assert.equal((await browserLike(h.url, 'POST', '/api/users', { 'content-type': 'application/json' }, '{"username":"curl"}')).status, 201);
  });
});
