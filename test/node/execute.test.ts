import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { protectionOrderId } from '../../src/core/client-order-id.js';
import { marketSignal, startHarness, type Harness, type Json } from '../helpers/node-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h?.close());

test('a market signal fills and is protected by reduce-only stop-loss and take-profit orders', async () => {
  const account = h.account(1);
  const res = await h.post('/api/execute', { signal: marketSignal({ stop_loss: 58000, take_profit: 63000 }), accounts: [{ ...account, client_order_id: 'happy1' }] });
  assert.equal(res.status, 200);
  assert.equal(res.body.success, true);
  const [r] = res.body.results;
  assert.equal(r.account_id, 1);
  assert.equal(r.success, true);
  assert.equal(r.status, 'filled');
  assert.equal(r.client_order_id, 'happy1');
  assert.equal(r.filled_quantity, 0.01);
  assert.equal(r.filled_price, 60000);
  assert.equal(typeof r.latency_ms, 'number');
  assert.ok(r.order_id);
  assert.ok(r.stop_loss_order_id);
  assert.ok(r.take_profit_order_id);
  assert.equal(r.stop_loss_error, undefined);
  assert.equal(r.take_profit_error, undefined);

  const book = h.sim.orders(account.api_key);
  assert.equal(book.length, 3);
  const entry = book.find((o) => o.clientOrderId === 'happy1');
  const sl = book.find((o) => o.clientOrderId === protectionOrderId('happy1', 'stop_loss'));
  const tp = book.find((o) => o.clientOrderId === protectionOrderId('happy1', 'take_profit'));
  assert.equal(entry?.side, 'BUY');
  assert.equal(entry?.status, 'FILLED');
  for (const [leg, trigger] of [[sl, '58000'], [tp, '63000']] as const) {
    assert.equal(leg?.kind, 'algo');
    assert.equal(leg?.side, 'SELL');
    assert.equal(leg?.reduceOnly, true);
    assert.equal(Number(leg?.origQty), 0.01);
    assert.equal(Number(leg?.triggerPrice), Number(trigger));
  }
});

test('one account failing never fails another', async () => {
  const good = h.account(10);
  const poor = h.account(11, 5);
  const stranger = { account_id: 12, exchange: 'binanceusdm', api_key: 'not-registered-key', api_secret: 'whatever-secret' };
  const unsupported = { account_id: 13, exchange: 'nosuchexchange', api_key: 'k-123456', api_secret: 's-123456' };
  const res = await h.post('/api/execute', { signal: marketSignal({ quantity: 0.01 }), accounts: [good, poor, stranger, unsupported] });
  assert.equal(res.status, 200);
  const byId = new Map(res.body.results.map((r: { account_id: number }) => [r.account_id, r]));
  assert.deepEqual(res.body.results.map((r: { account_id: number }) => r.account_id), [10, 11, 12, 13], 'results keep request order');
  const r10 = byId.get(10) as Record<string, Json>;
  const r11 = byId.get(11) as Record<string, Json>;
  const r12 = byId.get(12) as Record<string, Json>;
  const r13 = byId.get(13) as Record<string, Json>;
  assert.equal(r10.status, 'filled');
  assert.equal(r11.status, 'rejected');
  assert.equal(r11.error.code, 'insufficient_funds');
  assert.match(r11.error.message, /Margin is insufficient/, 'the exchange message is kept');
  assert.equal(r12.status, 'rejected');
  assert.equal(r12.error.code, 'auth_failed');
  assert.equal(r13.status, 'failed');
  assert.equal(r13.error.code, 'exchange_not_supported');
  for (const r of [r11, r12, r13]) {
    assert.equal(r.success, false);
    assert.equal(r.order_id, null);
  }
  assert.equal(h.sim.orders(poor.api_key).length, 0);
});

test('an unfilled limit entry is reported open and its protection is not placed', async () => {
  const account = h.account(20);
  const res = await h.post('/api/execute', {
    signal: marketSignal({ order_type: 'limit', price: 50000, stop_loss: 49000, take_profit: 52000 }),
    accounts: [account],
  });
  const [r] = res.body.results;
  assert.equal(r.status, 'open');
  assert.equal(r.success, true);
  assert.equal(r.filled_quantity, 0);
  assert.equal(r.stop_loss_error.code, 'entry_not_filled');
  assert.equal(r.take_profit_error.code, 'entry_not_filled');
  assert.equal(h.sim.orders(account.api_key).length, 1);
});

test('a sell signal opens a short whose stop-loss is a buy above the price', async () => {
  const account = h.account(21);
  const res = await h.post('/api/execute', { signal: marketSignal({ side: 'sell', stop_loss: 62000, take_profit: 57000, leverage: 5 }), accounts: [account] });
  const [r] = res.body.results;
  assert.equal(r.status, 'filled', JSON.stringify(r));
  const sl = h.sim.orders(account.api_key).find((o) => o.kind === 'algo' && Number(o.triggerPrice) === 62000);
  assert.equal(sl?.side, 'BUY');
});

test('the account quantity overrides the signal quantity; below the market minimum is below_minimum, and nothing is sent', async () => {
  const [a, b, c, d] = [h.account(30), h.account(31), h.account(33), h.account(34)];
  const res = await h.post('/api/execute', {
    signal: marketSignal({ quantity: 0.01 }),
    accounts: [
      { ...a, quantity: 0.02 },
      { ...b, quantity: 0.0001 },
      { ...c, quantity: 0.0029 },
      { ...d, quantity: 0.0015 },
    ],
  });
  const [ra, rb, rc, rd] = res.body.results;
  assert.equal(ra.filled_quantity, 0.02);
  // Below the amount minimum (0.001 BTC)…
  assert.deepEqual([rb.status, rb.error.code], ['rejected', 'below_minimum']);
  assert.match(rb.error.message, /0\.0001 BTC is below the smallest order BTC\/USDT:USDT takes on binanceusdm: 0\.001 BTC/);
  // …rounded down to the lot size, never up (0.0029 is 0.002 on a 0.001 step)…
  assert.equal(rc.filled_quantity, 0.002, JSON.stringify(rc));
  assert.equal(h.sim.orders(c.api_key)[0]?.origQty, '0.002');
  // …and below the order-value minimum (100 USDT) once rounded: 0.001 BTC at the last price of 60,000 is 60 USDT.
  assert.deepEqual([rd.status, rd.error.code], ['rejected', 'below_minimum']);
  assert.match(rd.error.message, /0\.001 BTC at 60000 is 60 USDT, below the smallest order value .*: 100 USDT/);
  for (const account of [b, d]) assert.equal(h.sim.orders(account.api_key).length, 0);
});

test('an unknown symbol is market_not_found and places nothing', async () => {
  const account = h.account(32);
  const res = await h.post('/api/execute', { signal: marketSignal({ symbol: 'NOPE/USDT:USDT' }), accounts: [account] });
  const [r] = res.body.results;
  assert.equal(r.status, 'rejected');
  assert.equal(r.error.code, 'market_not_found');
  assert.equal(h.sim.orders(account.api_key).length, 0);
});

test('markets are loaded once per exchange, however many accounts and requests', async () => {
  const before = h.sim.requestCount('GET', '/fapi/v1/exchangeInfo');
  assert.ok(before <= 1);
  const accounts = Array.from({ length: 25 }, (_, i) => h.account(100 + i));
  const results = await Promise.all([
    h.post('/api/execute', { signal: marketSignal(), accounts: accounts.slice(0, 12) }),
    h.post('/api/execute', { signal: marketSignal(), accounts: accounts.slice(12) }),
  ]);
  for (const res of results) for (const r of res.body.results) assert.equal(r.status, 'filled');
  assert.equal(h.sim.requestCount('GET', '/fapi/v1/exchangeInfo'), 1);
  const health = await fetch(`${h.url}/health`).then((r) => r.json() as Promise<{ markets: { loads: Record<string, number> } }>);
  assert.deepEqual(health.markets.loads, { binanceusdm: 1 });
});

test('the paper exchange fills in-process and dedupes retries too', async () => {
  const paper = { account_id: 'p1', exchange: 'paper', api_key: 'paper-key-1', api_secret: 'paper-secret-1' };
  const signal = marketSignal({ stop_loss: 59000 });
  const first = await h.post('/api/execute', { signal, accounts: [paper] });
  assert.equal(first.body.results[0].status, 'filled');
  const retry = await h.post('/api/execute', { signal, accounts: [paper], attempt: 2 });
  assert.equal(retry.body.results[0].order_id, first.body.results[0].order_id);
  assert.equal(retry.body.results[0].stop_loss_order_id, first.body.results[0].stop_loss_order_id);
  assert.equal(retry.body.results[0].deduplicated, true);
});

test('with ccxt_cache_size 0 nothing is cached between requests, and orders still work', async () => {
  const lean = await startHarness({ ccxt_cache_size: 0 });
  try {
    const res = await lean.post('/api/execute', { signal: marketSignal(), accounts: [lean.account(1), lean.account(2)] });
    assert.deepEqual(res.body.results.map((r: { status: string }) => r.status), ['filled', 'filled']);
    assert.equal(lean.node.runtime.traders.stats().cached_instances, 0);
    assert.equal(lean.sim.requestCount('GET', '/fapi/v1/exchangeInfo'), 1, 'markets are still shared');
  } finally {
    await lean.close();
  }
});

test('an account keeps its exchange instance between requests, and a rotated secret gets a new one', async () => {
  const account = h.account(40);
  const stats = () => h.node.runtime.traders.stats().cached_instances;
  const first = await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...account, client_order_id: 'keep1' }] });
  assert.equal(first.body.results[0].status, 'filled');
  const cached = stats();
  const again = await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...account, client_order_id: 'keep2' }] });
  assert.equal(again.body.results[0].status, 'filled');
  assert.equal(stats(), cached, 'the same credentials reuse the cached instance');

  // The exchange no longer knows the old secret: an instance (and the
  // trader that scrubs its errors) built for it must not be reused.
  const rotated = { ...account, api_secret: `${account.api_secret}-rotated` };
  const refused = await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...rotated, client_order_id: 'keep3' }] });
  assert.equal(stats(), cached + 1, 'new credentials, new instance');
  const [r] = refused.body.results;
  assert.equal(r.status, 'rejected');
  assert.equal(r.error.code, 'auth_failed');
  assert.ok(!refused.text.includes(rotated.api_secret) && !refused.text.includes(account.api_secret), 'no secret in the answer');
  assert.equal(h.sim.orders(account.api_key).filter((o) => o.clientOrderId === 'keep3').length, 0);
});
