import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { protectionOrderId } from '../../src/core/client-order-id.js';
import { marketSignal, startHarness, type Harness } from '../helpers/node-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h?.close());

test('query-orders reports each order by client id: entry, protection, open and missing', async () => {
  const account = h.account(1);
  await h.post('/api/execute', { signal: marketSignal({ stop_loss: 58000, take_profit: 63000 }), accounts: [{ ...account, client_order_id: 'q1' }] });
  await h.post('/api/execute', { signal: marketSignal({ order_type: 'limit', price: 50000 }), accounts: [{ ...account, client_order_id: 'q2' }] });
  const sym = 'BTC/USDT:USDT';
  const res = await h.post('/api/query-orders', {
    accounts: [
      {
        ...account,
        orders: [
          { client_order_id: 'q1', symbol: sym },
          { client_order_id: protectionOrderId('q1', 'stop_loss'), symbol: sym, kind: 'stop_loss' },
          { client_order_id: protectionOrderId('q1', 'take_profit'), symbol: sym, kind: 'take_profit' },
          { client_order_id: 'q2', symbol: sym },
          { client_order_id: 'never1', symbol: sym },
        ],
      },
    ],
  });
  assert.equal(res.status, 200, res.text);
  const [r] = res.body.results;
  assert.equal(r.success, true);
  const [entry, sl, tp, open, missing] = r.orders;
  assert.equal(entry.found, true);
  assert.equal(entry.state, 'filled');
  assert.equal(entry.filled_quantity, 0.01);
  assert.equal(entry.filled_price, 60000);
  assert.equal(sl.found, true);
  assert.equal(sl.state, 'open');
  assert.equal(tp.found, true);
  assert.equal(open.state, 'open');
  assert.equal(open.filled_quantity, 0);
  assert.equal(missing.found, false);
  assert.equal(missing.state, 'not_found');
  assert.equal(missing.order_id, null);
});

test('query-orders keeps one account\'s failure to itself', async () => {
  const good = h.account(2);
  const stranger = { account_id: 3, exchange: 'binanceusdm', api_key: 'nobody-key', api_secret: 'nobody-secret' };
  const orders = [{ client_order_id: 'abc', symbol: 'BTC/USDT:USDT' }];
  const res = await h.post('/api/query-orders', { accounts: [{ ...good, orders }, { ...stranger, orders }] });
  const [a, b] = res.body.results;
  assert.equal(a.success, true);
  assert.equal(a.orders[0].state, 'not_found');
  assert.equal(b.success, false);
  assert.equal(b.error.code, 'auth_failed');
  assert.equal(b.orders[0].state, 'unknown');
});

test('sync-balance and sync-positions report what the exchange holds', async () => {
  const account = h.account(4, 2000);
  await h.post('/api/execute', { signal: marketSignal({ quantity: 0.02 }), accounts: [account] });
  await h.post('/api/execute', { signal: marketSignal({ symbol: 'ETH/USDT:USDT', side: 'sell', quantity: 0.1 }), accounts: [account] });
  const stranger = { account_id: 5, exchange: 'binanceusdm', api_key: 'nobody-key', api_secret: 'nobody-secret' };

  const balances = await h.post('/api/sync-balance', { accounts: [account, stranger] });
  assert.equal(balances.status, 200, balances.text);
  const [mine, theirs] = balances.body.results;
  assert.equal(mine.success, true);
  const usdt = mine.balances.find((b: { currency: string }) => b.currency === 'USDT');
  assert.ok(usdt && usdt.total > 1900 && usdt.total <= 2000, JSON.stringify(mine.balances));
  assert.equal(theirs.success, false);
  assert.equal(theirs.error.code, 'auth_failed');

  const positions = await h.post('/api/sync-positions', { accounts: [account] });
  const list = positions.body.results[0].positions;
  const btc = list.find((p: { symbol: string }) => p.symbol === 'BTC/USDT:USDT');
  const eth = list.find((p: { symbol: string }) => p.symbol === 'ETH/USDT:USDT');
  assert.equal(btc.side, 'long');
  assert.equal(btc.contracts, 0.02);
  assert.equal(btc.entry_price, 60000);
  assert.equal(eth.side, 'short');
  assert.equal(eth.contracts, 0.1);

  const filtered = await h.post('/api/sync-positions', { accounts: [account], symbols: ['ETH/USDT:USDT'] });
  assert.deepEqual(filtered.body.results[0].positions.map((p: { symbol: string }) => p.symbol), ['ETH/USDT:USDT']);
});

// docs/operations.md tells operators to warm a restarted node this way.
test('a balance sync builds the accounts\' exchange instances, which the next signal reuses', async () => {
  const accounts = [h.account(6), h.account(7)];
  const stats = () => h.node.runtime.traders.stats();
  const before = stats().cached_instances;
  const synced = await h.post('/api/sync-balance', { accounts });
  assert.deepEqual(synced.body.results.map((r: { success: boolean }) => r.success), [true, true], synced.text);
  assert.equal(stats().cached_instances, before + 2);
  const loads = stats().market_loads;

  const executed = await h.post('/api/execute', { signal: marketSignal(), accounts: accounts.map((a, i) => ({ ...a, client_order_id: `warm${i}` })) });
  assert.deepEqual(executed.body.results.map((r: { status: string }) => r.status), ['filled', 'filled'], executed.text);
  assert.equal(stats().cached_instances, before + 2, 'no instance built for the signal');
  assert.deepEqual(stats().market_loads, loads, 'no market load for the signal');
});
