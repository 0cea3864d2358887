import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { marketSignal, startHarness, type Harness } from '../helpers/node-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ exchange_timeout: 1 });
});
after(() => h?.close());

const ORDER = '/fapi/v1/order';
const ALGO = '/fapi/v1/algoOrder';
const entries = (apiKey: string) => h.sim.orders(apiKey).filter((o) => o.kind === 'order');
const algos = (apiKey: string) => h.sim.orders(apiKey).filter((o) => o.kind === 'algo');

test('a retried execute does not place a second order', async () => {
  const account = h.account(1);
  const body = { signal: marketSignal({ stop_loss: 58000, take_profit: 63000 }), accounts: [account] };
  const first = (await h.post('/api/execute', body)).body.results[0];
  assert.equal(first.status, 'filled');
  for (const retry of [{ attempt: 2 }, { retry: true }, { attempt: 5, retry: false }]) {
    const again = (await h.post('/api/execute', { ...body, ...retry })).body.results[0];
    assert.equal(again.status, 'filled');
    assert.equal(again.deduplicated, true);
    assert.equal(again.order_id, first.order_id);
    assert.equal(again.stop_loss_order_id, first.stop_loss_order_id);
    assert.equal(again.take_profit_order_id, first.take_profit_order_id);
  }
  assert.equal(entries(account.api_key).length, 1);
  assert.equal(algos(account.api_key).length, 2);
});

test('without the retry flag a filled order is not protected by the exchange (why the flag exists)', async () => {
  const account = h.account(2);
  const body = { signal: marketSignal(), accounts: [account] };
  await h.post('/api/execute', body);
  await h.post('/api/execute', body);
  // Binance only refuses a client id that is still open; a filled market
  // order's id can be used again. The center therefore marks every resend.
  assert.equal(entries(account.api_key).length, 2);
});

test('an order refused before processing is unknown, and its retry places it exactly once', async () => {
  const account = h.account(3);
  h.sim.fault({ kind: 'http_500', method: 'POST', path: ORDER, apiKey: account.api_key });
  const body = { signal: marketSignal(), accounts: [account] };
  const first = (await h.post('/api/execute', body)).body.results[0];
  assert.equal(first.status, 'unknown', JSON.stringify(first));
  assert.equal(first.success, false);
  assert.equal(first.error.code, 'unknown_outcome');
  assert.equal(entries(account.api_key).length, 0);
  const retry = (await h.post('/api/execute', { ...body, attempt: 2 })).body.results[0];
  assert.equal(retry.status, 'filled');
  assert.equal(retry.deduplicated, undefined);
  assert.equal(entries(account.api_key).length, 1);
});

test('a lost answer is recovered by one lookup by client order id', async () => {
  const account = h.account(4);
  h.sim.fault({ kind: 'timeout_after', method: 'POST', path: ORDER, apiKey: account.api_key });
  const r = (await h.post('/api/execute', { signal: marketSignal(), accounts: [account] })).body.results[0];
  assert.equal(r.status, 'filled', JSON.stringify(r));
  assert.equal(entries(account.api_key).length, 1);
  assert.equal(r.order_id, String(entries(account.api_key)[0]?.orderId));
});

test('an order whose outcome cannot be learned is unknown, never failed; the retry finds it', async () => {
  const account = h.account(5);
  h.sim.fault({ kind: 'http_503_after', method: 'POST', path: ORDER, apiKey: account.api_key });
  h.sim.fault({ kind: 'http_500', method: 'GET', path: ORDER, apiKey: account.api_key });
  const body = { signal: marketSignal({ stop_loss: 58000 }), accounts: [account] };
  const first = (await h.post('/api/execute', body)).body.results[0];
  assert.equal(first.status, 'unknown', JSON.stringify(first));
  assert.equal(first.error.code, 'unknown_outcome');
  assert.equal(entries(account.api_key).length, 1, 'the order did land');
  const retry = (await h.post('/api/execute', { ...body, attempt: 2 })).body.results[0];
  assert.equal(retry.status, 'filled');
  assert.equal(retry.deduplicated, true);
  assert.ok(retry.stop_loss_order_id, 'the retry completes the protection');
  assert.equal(entries(account.api_key).length, 1);
  assert.equal(algos(account.api_key).length, 1);
});

test('a failed lookup on a retry answers unknown and places nothing', async () => {
  const account = h.account(6);
  h.sim.fault({ kind: 'http_500', method: 'GET', path: ORDER, apiKey: account.api_key });
  const r = (await h.post('/api/execute', { signal: marketSignal(), accounts: [account], attempt: 2 })).body.results[0];
  assert.equal(r.status, 'unknown');
  assert.match(r.error.message, /could not check whether order/);
  assert.equal(entries(account.api_key).length, 0);
});

test('two identical requests at once place one order', async () => {
  const account = h.account(7);
  h.sim.setLatency(150);
  try {
    const body = { signal: marketSignal(), accounts: [account] };
    const [a, b] = await Promise.all([h.post('/api/execute', body), h.post('/api/execute', body)]);
    const ra = a.body.results[0];
    const rb = b.body.results[0];
    assert.equal(ra.order_id, rb.order_id);
    assert.equal(ra.status, 'filled');
    assert.equal(rb.status, 'filled');
    assert.equal([ra.deduplicated, rb.deduplicated].filter(Boolean).length, 1);
  } finally {
    h.sim.setLatency(0);
  }
  assert.equal(entries(account.api_key).length, 1);
});

test('a "duplicate client order id" answer is resolved by reporting the existing order', async () => {
  const account = h.account(8);
  const limit = { signal: marketSignal({ order_type: 'limit', price: 50000 }), accounts: [{ ...account, client_order_id: 'dupe1' }] };
  const open = (await h.post('/api/execute', limit)).body.results[0];
  assert.equal(open.status, 'open');
  const again = (await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...account, client_order_id: 'dupe1' }] })).body.results[0];
  assert.equal(again.order_id, open.order_id);
  assert.equal(again.status, 'open');
  assert.equal(again.deduplicated, true);
  assert.equal(entries(account.api_key).length, 1);
});

test('a retry completes protection the first attempt could not place', async () => {
  const account = h.account(9);
  h.sim.fault({ kind: 'rate_limit', method: 'POST', path: ALGO, apiKey: account.api_key, times: 2 });
  const body = { signal: marketSignal({ stop_loss: 58000, take_profit: 63000 }), accounts: [account] };
  const first = (await h.post('/api/execute', body)).body.results[0];
  assert.equal(first.status, 'filled');
  assert.equal(first.success, true);
  assert.equal(first.stop_loss_error.code, 'rate_limited');
  assert.equal(first.take_profit_error.code, 'rate_limited');
  assert.equal(algos(account.api_key).length, 0);
  const retry = (await h.post('/api/execute', { ...body, attempt: 2 })).body.results[0];
  assert.ok(retry.stop_loss_order_id);
  assert.ok(retry.take_profit_order_id);
  assert.equal(entries(account.api_key).length, 1);
  assert.equal(algos(account.api_key).length, 2);
});

test('a rate-limited entry is rejected with rate_limited and places nothing', async () => {
  const account = h.account(10);
  h.sim.fault({ kind: 'rate_limit', method: 'POST', path: ORDER, apiKey: account.api_key });
  const r = (await h.post('/api/execute', { signal: marketSignal(), accounts: [account] })).body.results[0];
  assert.equal(r.status, 'rejected');
  assert.equal(r.error.code, 'rate_limited');
  assert.equal(entries(account.api_key).length, 0);
});

test('account_timeout with the order in flight answers unknown; once settled, a retry reports the order', async () => {
  // The exchange call outlives the account deadline by 2 s, so the early retry's own 1 s wait
  // ends well before the first request's order settles (equal timers raced under load).
  const slow = await startHarness({ account_timeout: 1, exchange_timeout: 3 });
  try {
    const account = slow.account(1);
    slow.sim.fault({ kind: 'timeout_after', method: 'POST', path: ORDER, apiKey: account.api_key });
    const body = { signal: marketSignal(), accounts: [account] };
    const started = Date.now();
    const first = (await slow.post('/api/execute', body)).body.results[0];
    assert.ok(Date.now() - started < 1900, 'answered at the account deadline, not the exchange timeout');
    assert.equal(first.status, 'unknown');
    assert.equal(first.error.code, 'unknown_outcome');
    const early = (await slow.post('/api/execute', { ...body, attempt: 2 })).body.results[0];
    assert.equal(early.status, 'unknown', 'the first request is still running on this node, so the retry waits rather than places');
    while (slow.node.runtime.inFlight.size > 0) await sleep(50);
    const retry = (await slow.post('/api/execute', { ...body, attempt: 3 })).body.results[0];
    assert.equal(retry.status, 'filled');
    assert.equal(retry.deduplicated, true);
    assert.equal(slow.sim.orders(account.api_key).length, 1);
  } finally {
    await slow.close();
  }
});
