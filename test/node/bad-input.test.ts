import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { call, marketSignal, startHarness, type Harness, type CallResult } from '../helpers/node-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ max_body_bytes: 4096, max_accounts_per_request: 3 });
});
after(() => h?.close());

const ROUTES = ['/api/execute', '/api/execute-batch', '/api/query-orders', '/api/sync-balance', '/api/sync-positions'];

function expectError(res: CallResult, status: number, code: string, field?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.success, false, res.text);
  assert.equal(res.body.error.code, code, res.text);
  if (field) assert.equal(res.body.error.field, field, res.text);
  assert.ok(!/at \w+ \(|node_modules|\.ts:\d+/.test(res.text), `no stack trace: ${res.text}`);
}

test('malformed, empty and non-object bodies are 400 on every route', async () => {
  for (const route of ROUTES) {
    expectError(await h.post(route, '{"signal": '), 400, 'invalid_json');
    expectError(await h.post(route, ''), 400, 'invalid_json');
    expectError(await h.post(route, '[1,2]'), 400, 'invalid_request', '(body)');
    expectError(await h.post(route, 'null'), 400, 'invalid_request', '(body)');
    expectError(await h.post(route, '"text"'), 400, 'invalid_request', '(body)');
    expectError(await h.post(route, '{}'), 400, 'invalid_request');
  }
});

test('a malformed body is never quoted back, so no part of a secret in it is echoed', async () => {
  const secret = 'Sup3rS3cretValueNeverEchoed';
  for (const text of [`{"api_secret": ${secret}}`, `{"accounts":[{"api_secret":"${secret}`, `${secret}`, `{"a":"${secret}",}`]) {
    for (const route of ROUTES) {
      const res = await h.post(route, text);
      expectError(res, 400, 'invalid_json');
      for (let i = 0; i + 4 <= secret.length; i++) assert.ok(!res.text.includes(secret.slice(i, i + 4)), `${route} echoed part of the body: ${res.text}`);
    }
  }
  assert.match((await h.post('/api/execute', '{"a":1,}')).body.error.message, /not valid JSON \(at character 7\)/);
});

test('wrong types and missing fields name the field', async () => {
  const account = h.account(1);
  const cases: Array<[string, unknown, string]> = [
    ['/api/execute', { accounts: [account] }, 'signal'],
    ['/api/execute', { signal: marketSignal({ quantity: 'a lot' }), accounts: [account] }, 'signal.quantity'],
    ['/api/execute', { signal: marketSignal({ side: 1 }), accounts: [account] }, 'signal.side'],
    ['/api/execute', { signal: marketSignal({ quantity: 1e300 }), accounts: [account] }, 'signal.quantity'],
    ['/api/execute', { signal: marketSignal({ take_profit: '9e99' }), accounts: [account] }, 'signal.take_profit'],
    ['/api/execute', { signal: marketSignal(), accounts: [{ ...account, quantity: 1e13 }] }, 'accounts[0].quantity'],
    ['/api/execute', { signal: marketSignal(), accounts: 'all' }, 'accounts'],
    ['/api/execute', { signal: marketSignal(), accounts: [{ ...account, api_secret: undefined }] }, 'accounts[0].api_secret'],
    ['/api/execute', { signal: marketSignal(), accounts: [account, { ...account, exchange: 7 }] }, 'accounts[1].exchange'],
    ['/api/execute', { signal: marketSignal({ order_type: 'stop' }), accounts: [account] }, 'signal.order_type'],
    ['/api/query-orders', { accounts: [{ ...account, orders: [] }] }, 'accounts[0].orders'],
    ['/api/query-orders', { accounts: [{ ...account, orders: [{ client_order_id: 'x' }] }] }, 'accounts[0].orders[0].symbol'],
    ['/api/sync-positions', { accounts: [account], symbols: 'BTC' }, 'symbols'],
    ['/api/sync-balance', { accounts: [{ ...account, sandbox: 'yes' }] }, 'accounts[0].sandbox'],
  ];
  for (const [route, body, field] of cases) {
    const res = await h.post(route, body);
    expectError(res, 400, 'invalid_request', field);
    assert.ok(res.body.error.message.startsWith(field), res.body.error.message);
  }
});

test('the error never echoes a credential back', async () => {
  const res = await h.post('/api/execute', { signal: marketSignal({ quantity: -1 }), accounts: [{ account_id: 1, exchange: 'binanceusdm', api_key: 'visible-key-abc', api_secret: 'visible-secret-def' }] });
  expectError(res, 400, 'invalid_request', 'signal.quantity');
  assert.ok(!res.text.includes('visible-key-abc') && !res.text.includes('visible-secret-def'));
});

test('too many accounts is a 400 naming accounts', async () => {
  const accounts = [1, 2, 3, 4].map((i) => h.account(i));
  expectError(await h.post('/api/execute', { signal: marketSignal(), accounts }), 400, 'too_many_accounts', 'accounts');
  expectError(await h.post('/api/sync-balance', { accounts }), 400, 'too_many_accounts', 'accounts');
});

test('an oversize body is a 413, declared or streamed', async () => {
  const big = JSON.stringify({ signal: marketSignal(), accounts: [h.account(1)], pad: 'x'.repeat(8000) });
  expectError(await h.post('/api/execute', big), 413, 'payload_too_large');
  // Chunked: no Content-Length, so the limit applies while reading.
  const port = new URL(h.url).port;
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/execute', method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (r) => {
      let text = '';
      r.on('data', (d) => (text += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write(big.slice(i * 1000, (i + 1) * 1000));
    req.end();
  });
  assert.equal(res.status, 413);
  assert.equal(JSON.parse(res.text).error.code, 'payload_too_large');
});

test('unknown routes and methods are JSON 404s', async () => {
  const res = await call(`${h.url}/api/nothing-here`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expectError(res, 404, 'not_found');
  expectError(await call(`${h.url}/api/execute`), 404, 'not_found');
  expectError(await call(`${h.url}/`), 404, 'not_found');
});

test('the node still serves after all of the above', async () => {
  const res = await h.post('/api/execute', { signal: marketSignal(), accounts: [h.account(99)] });
  assert.equal(res.status, 200);
  assert.equal(res.body.results[0].status, 'filled');
  assert.ok(!h.logs.some((line) => line.includes('"level":50')), 'no error was logged');
});
