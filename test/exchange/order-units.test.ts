import assert from 'node:assert/strict';
import { test } from 'node:test';
import ccxt from 'ccxt';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { orderAmount, unitsToBase } from '../../src/exchange/order-units.js';
import { referencePrices } from '../../src/exchange/reference-prices.js';

/** An okx instance with two swaps as OKX lists them: contracts of 0.01 BTC and of 1,000 DOGE. */
function okx() {
  const ex = new ccxt.okx({});
  const swap = (symbol: string, base: string, contractSize: number, lot: number, min: number) => ({
    id: `${base}-USDT-SWAP`, symbol, base, quote: 'USDT', settle: 'USDT', baseId: base, quoteId: 'USDT', settleId: 'USDT',
    type: 'swap', spot: false, margin: false, swap: true, future: false, option: false, contract: true, linear: true, inverse: false, active: true,
    contractSize, precision: { amount: lot, price: 0.1 }, limits: { amount: { min }, cost: {}, price: {}, leverage: {} }, info: {},
  });
  ex.setMarkets([swap('BTC/USDT:USDT', 'BTC', 0.01, 0.01, 0.01), swap('DOGE/USDT:USDT', 'DOGE', 1000, 0.01, 0.01)]);
  return ex;
}

function binanceusdm() {
  const ex = new ccxt.binanceusdm({});
  ex.setMarkets([{
    id: 'BTCUSDT', symbol: 'BTC/USDT:USDT', base: 'BTC', quote: 'USDT', settle: 'USDT', baseId: 'BTC', quoteId: 'USDT', settleId: 'USDT',
    type: 'swap', spot: false, margin: false, swap: true, future: false, option: false, contract: true, linear: true, inverse: false, active: true,
    contractSize: 1, precision: { amount: 0.001, price: 0.1 }, limits: { amount: { min: 0.001 }, cost: { min: 100 }, price: {}, leverage: {} }, info: {},
  }]);
  return ex;
}

test('a base-currency quantity becomes contracts, rounded down, never up, and without float drift', () => {
  const ex = okx();
  assert.equal(orderAmount(ex, 'BTC/USDT:USDT', 0.01, undefined), 1, '0.01 BTC is one contract');
  assert.equal(orderAmount(ex, 'BTC/USDT:USDT', 0.03, undefined), 3, '0.03 / 0.01 is 3, not 2.99');
  assert.equal(orderAmount(ex, 'BTC/USDT:USDT', 0.5, undefined), 50);
  assert.equal(orderAmount(ex, 'BTC/USDT:USDT', 0.01239, undefined), 1.23, 'down to the lot of 0.01 contract');
  assert.equal(orderAmount(ex, 'DOGE/USDT:USDT', 2500, undefined), 2.5, 'a contract larger than one coin: 2,500 DOGE is 2.5 contracts');
  const market = ex.market('DOGE/USDT:USDT');
  assert.equal(unitsToBase(market, 2.5), 2500);
  assert.equal(unitsToBase(ex.market('BTC/USDT:USDT'), 3), 0.03);
});

test('an inverse contract, worth a fixed USD amount, is refused rather than sized as coins', () => {
  const ex = new ccxt.okx({});
  ex.setMarkets([{
    id: 'BTC-USD-SWAP', symbol: 'BTC/USD:BTC', base: 'BTC', quote: 'USD', settle: 'BTC', baseId: 'BTC', quoteId: 'USD', settleId: 'BTC',
    type: 'swap', spot: false, margin: false, swap: true, future: false, option: false, contract: true, linear: false, inverse: true, active: true,
    contractSize: 100, precision: { amount: 1, price: 0.1 }, limits: { amount: { min: 1 }, cost: {}, price: {}, leverage: {} }, info: {},
  }]);
  assert.throws(() => orderAmount(ex, 'BTC/USD:BTC', 300, undefined), (error: unknown) => error instanceof ExchangeFailure && error.code === 'invalid_order' && /inverse \(coin-margined\)/.test(error.message));
});

test('below the minimum amount or order value is below_minimum, saying the minimum in the base currency', () => {
  const below = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof ExchangeFailure);
      assert.equal(error.code, 'below_minimum');
      assert.equal(error.ambiguous, false);
      return error.message;
    }
    assert.fail('expected below_minimum');
  };
  assert.match(below(() => orderAmount(okx(), 'BTC/USDT:USDT', 0.00005, undefined)), /0\.00005 BTC is below the smallest order .*: 0\.0001 BTC \(0\.01 contracts of 0\.01 BTC\)/);
  assert.match(below(() => orderAmount(binanceusdm(), 'BTC/USDT:USDT', 0.0009, undefined)), /0\.001 BTC$|: 0\.001 BTC;/);
  assert.match(below(() => orderAmount(binanceusdm(), 'BTC/USDT:USDT', 0.0016, 60_000)), /0\.001 BTC at 60000 is 60 USDT, below .*: 100 USDT/);
  assert.equal(orderAmount(binanceusdm(), 'BTC/USDT:USDT', 0.0016, undefined), 0.001, 'no price known: the value is left to the exchange');
});

test('reference prices: one fetch per symbol at a time, kept for the ttl, a failure retried after a pause', async () => {
  let now = 0;
  const calls: string[] = [];
  let fail = false;
  const prices = referencePrices(async (symbol) => {
    calls.push(symbol);
    if (fail) throw new Error('no ticker here');
    return 60_000;
  }, 30_000, () => now);
  assert.deepEqual(await Promise.all([prices.of('BTC'), prices.of('BTC'), prices.of('BTC')]), [60_000, 60_000, 60_000]);
  assert.equal(calls.length, 1, 'concurrent asks share one fetch');
  now = 29_000;
  await prices.of('BTC');
  assert.equal(calls.length, 1, 'fresh for the ttl');
  now = 31_000;
  fail = true;
  assert.equal(await prices.of('BTC'), undefined, 'a failed fetch gives no price, not an error');
  now = 33_000;
  assert.equal(await prices.of('BTC'), undefined);
  assert.equal(calls.length, 2, 'and is not retried at once');
  now = 37_000;
  fail = false;
  assert.equal(await prices.of('BTC'), 60_000);
  assert.equal(calls.length, 3);
});
