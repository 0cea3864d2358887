import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { marketSignal, startHarness, type Harness, type WireAccount } from '../helpers/node-harness.js';

const NODE_SECRET = 'node-secret-must-not-leak-0123456789';
let h: Harness;
const responses: string[] = [];
const accounts: WireAccount[] = [];

before(async () => {
  h = await startHarness({ node_auth_enabled: true, node_auth_secret: NODE_SECRET, host: '127.0.0.1', exchange_timeout: 0.5, log_level: 'trace' });
});
after(() => h?.close());

async function post(path: string, body: unknown, headers: Record<string, string> = { 'x-center-token': NODE_SECRET }) {
  const res = await h.post(path, body, headers);
  responses.push(res.text);
  return res;
}

test('exercise success, refusals, exchange errors that echo the key, timeouts and bad input', async () => {
  const ok = h.account(1);
  const echo = h.account(2);
  const slow = h.account(3);
  const poor = h.account(4, 1);
  accounts.push(ok, echo, slow, poor, { account_id: 5, exchange: 'binanceusdm', api_key: 'unregistered-key-xyz', api_secret: 'unregistered-secret-xyz' });
  h.sim.fault({ kind: 'echo_key_error', method: 'POST', path: '/fapi/v1/order', apiKey: echo.api_key });
  h.sim.fault({ kind: 'timeout', method: 'POST', path: '/fapi/v1/order', apiKey: slow.api_key });
  h.sim.fault({ kind: 'timeout', method: 'GET', path: '/fapi/v1/order', apiKey: slow.api_key });
  const res = await post('/api/execute', { signal: marketSignal({ stop_loss: 58000 }), accounts });
  assert.equal(res.status, 200);
  const statuses = res.body.results.map((r: { status: string }) => r.status);
  assert.deepEqual(statuses, ['filled', 'rejected', 'unknown', 'rejected', 'rejected']);
  h.sim.fault({ kind: 'echo_key_error', apiKey: echo.api_key, times: 10 });
  await post('/api/query-orders', { accounts: [{ ...echo, orders: [{ client_order_id: 'abc', symbol: 'BTC/USDT:USDT' }] }] });
  await post('/api/sync-balance', { accounts: [ok, echo] });
  await post('/api/sync-positions', { accounts: [ok, echo] });
  await post('/api/execute', { signal: marketSignal({ quantity: 'x' }), accounts: [ok] });
  await post('/api/execute', { signal: marketSignal(), accounts: [ok] }, { 'x-center-token': 'wrong-token-guess-0000000000' });
  await post('/api/execute', { signal: marketSignal(), accounts: [ok] }, {});
});

test('no credential or node secret appears in any response or log line', () => {
  const haystacks = [...responses, ...h.logs];
  assert.ok(h.logs.some((l) => l.includes('API-key format invalid')), 'the exchange error that echoed the key was logged (scrubbed)');
  const needles = [NODE_SECRET, ...accounts.flatMap((a) => [a.api_key, a.api_secret])];
  for (const text of haystacks) {
    for (const needle of needles) assert.ok(!text.includes(needle), `leaked ${needle.slice(0, 6)}… in: ${text.slice(0, 300)}`);
  }
  assert.ok(responses.some((r) => r.includes('[redacted]')), 'the echoed key was redacted, not dropped silently');
});
