import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { marketSignal, startHarness, type Harness, type Json } from '../helpers/node-harness.js';

/**
 * Sizing on the node (docs/protocol.md, "Sizing"), through a real node in
 * front of the Binance USD-M simulator: equity read live from the account's
 * balance, the price from the signal or one ticker call, the quantity
 * rounded down to BTCUSDT's 0.001 step and held to its minimums (0.001 BTC,
 * 100 USDT of value: 0.002 BTC at 60,000).
 */
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h?.close());

const entries = (apiKey: string) => h.sim.orders(apiKey).filter((o) => o.kind === 'order');

test('equity_percent reads the balance once per account and the price once per request, and rounds down', async () => {
  const rich = h.account(1, 10_000);
  const richer = h.account(2, 25_000);
  const sizing = { mode: 'equity_percent', value: 2 };
  const balanceCalls = h.sim.requestCount('GET', '/fapi/v3/account');
  const tickerCalls = h.sim.requestCount('GET', '/fapi/v1/ticker/24hr');
  const res = await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...rich, sizing }, { ...richer, sizing }] });
  assert.equal(res.status, 200, res.text);
  const [a, b] = res.body.results as Json[];
  assert.equal(a.status, 'filled', JSON.stringify(a));
  // 2% of 10,000 = 200 USDT at 60,000 = 0.00333 BTC → 0.003.
  assert.equal(a.filled_quantity, 0.003);
  assert.deepEqual([a.sizing.mode, a.sizing.quantity, a.sizing.equity, a.sizing.price], ['equity_percent', 0.003, 10_000, 60_000]);
  assert.equal(a.sizing.reason, '2% of equity 10000 USDT at 60000 = 0.00333333 BTC, rounded down to 0.003');
  // 2% of 25,000 = 500 USDT = 0.00833 BTC → 0.008.
  assert.equal(b.filled_quantity, 0.008);
  assert.equal(h.sim.requestCount('GET', '/fapi/v3/account') - balanceCalls, 2, 'one balance call per account');
  assert.equal(h.sim.requestCount('GET', '/fapi/v1/ticker/24hr') - tickerCalls, 1, 'one ticker call for the request');
  assert.equal(JSON.stringify(res.body).includes(rich.api_secret), false);
});

test('fixed_notional needs no balance; a limit signal is sized at its own price', async () => {
  const account = h.account(3, 10_000);
  const balanceCalls = h.sim.requestCount('GET', '/fapi/v3/account');
  const tickerCalls = h.sim.requestCount('GET', '/fapi/v1/ticker/24hr');
  const res = await h.post('/api/execute', {
    signal: marketSignal({ order_type: 'limit', price: 50_000 }),
    accounts: [{ ...account, sizing: { mode: 'fixed_notional', value: 1000 } }],
  });
  const [r] = res.body.results as Json[];
  assert.equal(r.status, 'open', JSON.stringify(r));
  assert.deepEqual([r.sizing.quantity, r.sizing.price, r.sizing.equity], [0.02, 50_000, null]);
  assert.equal(Number(entries(account.api_key)[0]?.origQty), 0.02);
  assert.equal(h.sim.requestCount('GET', '/fapi/v3/account'), balanceCalls);
  assert.equal(h.sim.requestCount('GET', '/fapi/v1/ticker/24hr'), tickerCalls);
});

test('risk_percent sizes by the distance to the stop, and refuses an account when the signal has no stop', async () => {
  const account = h.account(4, 10_000);
  const res = await h.post('/api/execute', {
    signal: marketSignal({ stop_loss: 58_000 }),
    accounts: [{ ...account, sizing: { mode: 'risk_percent', value: 1 } }],
  });
  const [r] = res.body.results as Json[];
  // 1% of 10,000 = 100 USDT at risk over 2,000 per BTC = 0.05 BTC.
  assert.equal(r.status, 'filled', JSON.stringify(r));
  assert.equal(r.filled_quantity, 0.05);
  assert.ok(r.stop_loss_order_id, 'the stop it was sized by protects it');

  const bare = h.account(5, 10_000);
  const refused = await h.post('/api/execute', { signal: marketSignal(), accounts: [{ ...bare, sizing: { mode: 'risk_percent', value: 1 } }] });
  const [x] = refused.body.results as Json[];
  assert.deepEqual([x.status, x.error.code], ['rejected', 'stop_loss_required'], JSON.stringify(x));
  assert.equal(entries(bare.api_key).length, 0);
});

test('a follower too small for the minimum: skip places nothing, round_up places the minimum, the cap wins over round_up', async () => {
  const small = h.account(6, 1_000);
  const rounded = h.account(7, 1_000);
  const cappedBelow = h.account(8, 1_000);
  // 5% of 1,000 = 50 USDT = 0.00083 BTC: below 0.001 BTC and 100 USDT; the minimum is 0.002 BTC (120 USDT).
  const sizing = { mode: 'equity_percent', value: 5 };
  const res = await h.post('/api/execute', {
    signal: marketSignal(),
    accounts: [
      { ...small, sizing },
      { ...rounded, sizing: { ...sizing, min_size: 'round_up' } },
      { ...cappedBelow, sizing: { ...sizing, min_size: 'round_up', max_notional: 110 } },
    ],
  });
  const [s, r, c] = res.body.results as Json[];
  assert.deepEqual([s.status, s.error.code, s.sizing.quantity], ['rejected', 'below_minimum', 0], JSON.stringify(s));
  assert.match(s.sizing.reason, /smallest order BTC\/USDT:USDT takes is 0\.002 BTC/);
  assert.equal(entries(small.api_key).length, 0, 'nothing on the book');
  assert.deepEqual([r.status, r.filled_quantity, r.sizing.quantity], ['filled', 0.002, 0.002], JSON.stringify(r));
  assert.match(r.sizing.reason, /raised to the minimum 0\.002 BTC/);
  assert.deepEqual([c.status, c.error.code], ['rejected', 'position_limit'], JSON.stringify(c));
  assert.equal(entries(cappedBelow.api_key).length, 0);
});

test('max_notional caps an open; per-account leverage and margin mode override the signal', async () => {
  const a = h.account(9, 100_000);
  const b = h.account(10, 100_000);
  const res = await h.post('/api/execute', {
    signal: marketSignal({ leverage: 5 }),
    accounts: [
      { ...a, sizing: { mode: 'equity_percent', value: 10, max_notional: 3_000 }, leverage: 20, margin_mode: 'isolated' },
      { ...b, sizing: { mode: 'fixed_notional', value: 600 } },
    ],
  });
  const [ra, rb] = res.body.results as Json[];
  // 10% of 100,000 = 10,000 USDT, capped at 3,000 = 0.05 BTC.
  assert.deepEqual([ra.status, ra.filled_quantity], ['filled', 0.05], JSON.stringify(ra));
  assert.match(ra.sizing.reason, /capped at max_position_notional 3000 USDT/);
  assert.equal(rb.filled_quantity, 0.01);
  assert.equal(h.sim.leverage(a.api_key, 'BTCUSDT'), 20);
  assert.equal(h.sim.marginType(a.api_key, 'BTCUSDT'), 'ISOLATED');
  assert.equal(h.sim.leverage(b.api_key, 'BTCUSDT'), 5, "the signal's where the account has none");
  assert.equal(h.sim.marginType(b.api_key, 'BTCUSDT'), 'CROSSED');
});

test('a resend finds the placed entry before sizing: never sized again, even after the balance changed', async () => {
  const account = h.account(11, 10_000);
  const signal = marketSignal();
  const body = { signal, accounts: [{ ...account, client_order_id: 'sizedresend1', sizing: { mode: 'equity_percent', value: 2 } }] };
  const first = (await h.post('/api/execute', body)).body.results[0];
  assert.equal(first.filled_quantity, 0.003);
  const balanceCalls = h.sim.requestCount('GET', '/fapi/v3/account');
  const again = (await h.post('/api/execute', { ...body, attempt: 2 })).body.results[0];
  assert.deepEqual([again.status, again.deduplicated, again.filled_quantity, again.sizing.quantity, again.sizing.equity], ['filled', true, 0.003, 0.003, null], JSON.stringify(again));
  assert.match(again.sizing.reason, /not sized again/);
  assert.equal(h.sim.requestCount('GET', '/fapi/v3/account'), balanceCalls, 'no balance read on the resend');
  assert.equal(entries(account.api_key).length, 1);
});

test('bad sizing input is a 400 naming the field', async () => {
  const account = h.account(12);
  const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
    [{}, { sizing: { mode: 'percent_of_moon', value: 1 } }, 'accounts[0].sizing.mode'],
    [{}, { sizing: { mode: 'equity_percent' } }, 'accounts[0].sizing.value'],
    [{}, { sizing: { mode: 'equity_percent', value: 150 } }, 'accounts[0].sizing.value'],
    [{}, { sizing: { mode: 'fixed_notional', value: 100, min_size: 'always' } }, 'accounts[0].sizing.min_size'],
    [{}, { sizing: { mode: 'fixed_notional', value: 100 }, quantity: 0.01 }, 'accounts[0].quantity'],
    [{}, { leverage: 0 }, 'accounts[0].leverage'],
    [{}, { margin_mode: 'portfolio' }, 'accounts[0].margin_mode'],
    [{ action: 'close', side: undefined, quantity: undefined }, { sizing: { mode: 'fixed_notional', value: 100 } }, 'accounts[0].sizing'],
  ];
  for (const [signal, extra, field] of cases) {
    const res = await h.post('/api/execute', { signal: marketSignal(signal), accounts: [{ ...account, ...extra }] });
    assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.text}`);
    assert.equal(res.body.error.field, field, res.text);
  }
  assert.equal(entries(account.api_key).length, 0);
});
