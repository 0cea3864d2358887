import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { VERSION } from '../../src/core/version.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';

const SECRET = 'redirect-node-secret-0123456789ab';

interface Listener {
  url: string;
  received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A server that records what reaches it and answers with `respond`. */
async function listener(respond: (res: import('node:http').ServerResponse) => void): Promise<Listener> {
  const received: Listener['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('redirects never carry credentials', () => {
  let thief: Listener;
  let redirector: Listener;
  let h: CenterHarness;

  before(async () => {
    thief = await listener((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"node_code":"x","results":[]}'));
    redirector = await listener((res) => res.writeHead(307, { location: `${thief.url}/steal` }).end());
    h = await startCenterHarness('sqlite', { node_auth_secret: SECRET });
  });
  after(async () => {
    await h?.close();
    await Promise.all([thief.close(), redirector.close()]);
  });

  test("the center does not follow a node's redirect with an account's API secret", async () => {
    await h.api('POST', '/api/nodes', { node_code: 'moved', base_url: redirector.url });
    const beat = await sendHeartbeat(
      { centerUrl: h.url, nodeCode: 'moved', secret: SECRET, mode: 'token', timeoutMs: 5000 },
      { node_code: 'moved', version: VERSION, status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 4 },
    );
    assert.ok(beat.ok);
    const owner = (await h.api('POST', '/api/users', { username: 'r' })).body.user.id;
    const account = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'redirect-key-1', api_secret: 'redirect-secret-1', node_code: 'moved' })).body.account;
    await h.api('POST', '/api/strategies', { strategy_code: 'r' });
    await h.api('POST', '/api/strategies/r/bindings', { account_id: account.id });
    const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'r', signal_id: 'redirected', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
    assert.equal(res.status, 201, res.text);
    const order = res.body.signal.orders[0];
    assert.equal(order.status, 'failed', 'a node that redirects executed nothing');
    assert.equal(order.error.code, 'node_refused');
    assert.match(order.error.message, /redirect \(HTTP 307 to .*\/steal\).*base_url/);
    const sync = await h.api('POST', '/api/sync/balance', {});
    assert.equal(sync.body.failed.length, 1, sync.text);
    assert.equal(redirector.received.length, 2, 'the execute and the sync reached the redirecting address');
    assert.equal(thief.received.length, 0, 'nothing was sent on');
    assert.ok(redirector.received.every((r) => r.body.includes('redirect-secret-1')), 'the body did carry the secret, to the address configured');
  });

  test('a heartbeat does not follow a redirect with the node secret', async () => {
    const outcome = await sendHeartbeat(
      { centerUrl: redirector.url, nodeCode: 'n1', secret: SECRET, mode: 'token', timeoutMs: 5000 },
      { node_code: 'n1', version: VERSION, status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 4 },
    );
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.reason, /redirect \(HTTP 307.*center_url/);
    assert.equal(thief.received.length, 0);
  });
});
