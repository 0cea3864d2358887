import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import ccxt, { type Exchange } from 'ccxt';
import { redirectInstance } from '../../src/exchange/trader-pool.js';
import { startBinanceSim, type BinanceSim } from './binance-sim.js';

/**
 * The simulator is judged by ccxt's real client, redirected exactly as the
 * node redirects it: if ccxt's binanceusdm code
 * path works against it the way it works against Binance, the node's tests
 * mean something.
 */
let sim: BinanceSim;
before(async () => {
  sim = await startBinanceSim({ accounts: [{ apiKey: 'k1', secret: 's1' }, { apiKey: 'k2', secret: 's2', usdt: 10 }] });
});
after(() => sim.close());

function client(apiKey: string, secret: string, timeout = 10_000): Exchange {
  const exchange = new ccxt.binanceusdm({ apiKey, secret, enableRateLimit: false, timeout, options: { fetchCurrencies: false } });
  redirectInstance(exchange, sim.url);
  return exchange;
}

test('ccxt loads the markets with one exchangeInfo request', async () => {
  sim.resetCounts();
  const ex = client('k1', 's1');
  await ex.loadMarkets();
  assert.equal(sim.requestCount(), 1);
  assert.equal(sim.requestCount('GET', '/fapi/v1/exchangeInfo'), 1);
  const btc = ex.market('BTC/USDT:USDT');
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.swap, true);
  assert.equal(btc.linear, true);
  assert.equal(btc.precision.amount, 0.001);
  assert.equal(btc.precision.price, 0.1);
  assert.equal(btc.limits.cost?.min, 100);
});

test('signatures are checked against the account secret', async () => {
  await assert.rejects(client('k1', 'wrong-secret').fetchBalance(), (e: Error) => e instanceof ccxt.AuthenticationError && /-1022/.test(e.message));
  await assert.rejects(client('nobody', 's1').fetchBalance(), (e: Error) => e instanceof ccxt.AuthenticationError && /-2015/.test(e.message));
});

test('a market order fills at the mark price and is found by client id', async () => {
  const ex = client('k1', 's1');
  const order = await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simA' });
  assert.equal(order.status, 'closed');
  assert.equal(order.filled, 0.01);
  assert.equal(order.average, 60000);
  const found = await ex.fetchOrder(undefined as unknown as string, 'BTC/USDT:USDT', { clientOrderId: 'simA' });
  assert.equal(found.id, order.id);
  await assert.rejects(ex.fetchOrder(undefined as unknown as string, 'BTC/USDT:USDT', { clientOrderId: 'nope' }), ccxt.OrderNotFound);
});

test('Binance rejects a client id only while its order is open', async () => {
  const ex = client('k1', 's1');
  await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simB' });
  await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simB' });
  assert.equal(sim.orders('k1').filter((o) => o.clientOrderId === 'simB').length, 2, 'a filled id may be reused');
  await ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.01, 50000, { clientOrderId: 'simC' });
  await assert.rejects(ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.01, 50000, { clientOrderId: 'simC' }), /-4116/);
  await ex.cancelOrder(undefined as unknown as string, 'BTC/USDT:USDT', { clientOrderId: 'simC' });
  await ex.createOrder('BTC/USDT:USDT', 'limit', 'buy', 0.01, 50000, { clientOrderId: 'simC' });
});

test('stop-loss and take-profit go to the algo endpoint and fire when the mark crosses', async () => {
  const ex = client('k1', 's1');
  sim.resetCounts();
  const sl = await ex.createOrder('ETH/USDT:USDT', 'market', 'sell', 0.1, undefined, { clientOrderId: 'simSL', stopLossPrice: 2900, reduceOnly: true }).catch((e: Error) => e);
  assert.ok(sl instanceof ccxt.InvalidOrder, 'reduce-only with no position is refused (-2022)');
  await ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 0.1, undefined, { clientOrderId: 'simE' });
  const stop = await ex.createOrder('ETH/USDT:USDT', 'market', 'sell', 0.1, undefined, { clientOrderId: 'simSL', stopLossPrice: 2900, reduceOnly: true });
  const take = await ex.createOrder('ETH/USDT:USDT', 'market', 'sell', 0.1, undefined, { clientOrderId: 'simTP', takeProfitPrice: 3300, reduceOnly: true });
  assert.equal(sim.requestCount('POST', '/fapi/v1/algoOrder'), 3);
  assert.equal(stop.status, 'open');
  const found = await ex.fetchOrder(undefined as unknown as string, 'ETH/USDT:USDT', { clientOrderId: 'simSL', trigger: true });
  assert.equal(found.id, stop.id);
  assert.equal(found.triggerPrice, 2900);
  assert.equal(take.reduceOnly, true);
  await assert.rejects(ex.createOrder('ETH/USDT:USDT', 'market', 'sell', 0.1, undefined, { clientOrderId: 'simX', stopLossPrice: 3100, reduceOnly: true }), /-2021/);
  sim.setMarkPrice('ETHUSDT', 2850);
  const fired = await ex.fetchOrder(undefined as unknown as string, 'ETH/USDT:USDT', { clientOrderId: 'simSL', trigger: true });
  assert.equal(fired.status, 'closed');
  const positions = await ex.fetchPositions(['ETH/USDT:USDT']);
  assert.equal(positions.length, 0, 'the stop closed the position');
  sim.setMarkPrice('ETHUSDT', 3000);
});

test('balance, positions and leverage parse through ccxt', async () => {
  const ex = client('k1', 's1');
  await ex.setLeverage(10, 'SOL/USDT:USDT');
  await ex.createOrder('SOL/USDT:USDT', 'market', 'sell', 2, undefined, { clientOrderId: 'simS' });
  const balance = await ex.fetchBalance();
  assert.ok((balance.total as unknown as Record<string, number>)['USDT'] ?? 0 > 9000);
  const [position] = await ex.fetchPositions(['SOL/USDT:USDT']);
  assert.equal(position?.side, 'short');
  assert.equal(position?.contracts, 2);
  assert.equal(position?.entryPrice, 150);
});

test('margin, size and rate-limit refusals map to the ccxt classes the node relies on', async () => {
  const poor = client('k2', 's2');
  await assert.rejects(poor.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01), ccxt.InsufficientFunds);
  const ex = client('k1', 's1');
  await assert.rejects(ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.0015), ccxt.InvalidOrder);
  sim.fault({ kind: 'rate_limit', apiKey: 'k1' });
  await assert.rejects(ex.fetchBalance(), ccxt.DDoSProtection);
});

test('"after" faults place the order and lose the answer', async () => {
  const ex = client('k1', 's1', 300);
  sim.fault({ kind: 'http_503_after', method: 'POST', path: '/fapi/v1/order', apiKey: 'k1' });
  await assert.rejects(ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simD1' }), ccxt.RequestTimeout);
  sim.fault({ kind: 'timeout_after', method: 'POST', path: '/fapi/v1/order', apiKey: 'k1' });
  await assert.rejects(ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simD2' }), ccxt.RequestTimeout);
  sim.fault({ kind: 'http_500', method: 'POST', path: '/fapi/v1/order', apiKey: 'k1' });
  await assert.rejects(ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'simD3' }), ccxt.ExchangeNotAvailable);
  const ids = sim.orders('k1').map((o) => o.clientOrderId);
  assert.ok(ids.includes('simD1') && ids.includes('simD2'));
  assert.ok(!ids.includes('simD3'));
});

test('the HTTP control surface and the standalone process work', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--accounts', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /"url":"([^"]+)"/.exec(String(d));
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal((await post('/__sim/accounts', { apiKey: 'k9', secret: 's9' })).status, 200);
    await post('/__sim/latency', { ms: 1 });
    await post('/__sim/mark-price', { symbol: 'BTCUSDT', price: 61000 });
    const ex = new ccxt.binanceusdm({ apiKey: 'key-2', secret: 'secret-2', enableRateLimit: false, options: { fetchCurrencies: false } });
    redirectInstance(ex, url);
    const order = await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'proc1' });
    assert.equal(order.average, 61000);
    await post('/__sim/faults', { kind: 'rate_limit', times: null });
    await assert.rejects(ex.fetchBalance(), ccxt.DDoSProtection);
    await assert.rejects(ex.fetchBalance(), ccxt.DDoSProtection);
    await fetch(`${url}/__sim/faults`, { method: 'DELETE' });
    const orders = (await (await fetch(`${url}/__sim/orders?apiKey=key-2`)).json()) as Array<{ clientOrderId: string }>;
    assert.deepEqual(orders.map((o) => o.clientOrderId), ['proc1']);
    const counts = (await (await fetch(`${url}/__sim/counts`)).json()) as Record<string, number>;
    assert.equal(counts['GET /fapi/v1/exchangeInfo'], 1);
  } finally {
    child.kill('SIGTERM');
  }
});
