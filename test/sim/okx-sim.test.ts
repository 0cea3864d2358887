import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import ccxt from 'ccxt';
import { Credentials } from '../../src/core/credentials.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { normaliseError } from '../../src/exchange/ccxt-errors.js';
import { ccxtTrader } from '../../src/exchange/ccxt-trader.js';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import type { PositionMode } from './exchange-sim.js';
import { type OkxSim, startOkxSim } from './okx-sim.js';
import { type Sent, errorClass, failure, idOf, recordRequests } from './ccxt-calls.js';

/**
 * Drives the OKX simulator with REAL, unmodified ccxt (okx, built with the
 * node's instance settings and redirected the way the node redirects it),
 * so what passes here is what the node's ccxt code path sees against OKX.
 */

type Okx = InstanceType<typeof ccxt.okx>;
interface Creds {
  apiKey: string;
  secret: string;
  password: string;
}

const BTC = 'BTC/USDT:USDT';
const SOL = 'SOL/USDT:USDT';
const DOGE = 'DOGE/USDT:USDT';
/** ccxt types fetchOrder's id as string; OKX's fetchOrder ignores it when a clientOrderId is given. */
const NO_ID = undefined as unknown as string;
let sim: OkxSim;

before(async () => {
  sim = await startOkxSim();
});
afterEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  for (const [symbol, price] of Object.entries({ [BTC]: 60000, 'ETH/USDT:USDT': 3000, [SOL]: 150, [DOGE]: 0.15 })) sim.setMarkPrice(symbol, price);
});
after(async () => {
  await sim.close();
});

function account(opts: { usdt?: number; positionMode?: PositionMode } = {}): Creds {
  const creds = { apiKey: randomUUID(), secret: randomUUID().replace(/-/g, '').toUpperCase(), password: `Pass-${randomUUID().slice(0, 8)}` };
  sim.addAccount({ apiKey: creds.apiKey, secret: creds.secret, passphrase: creds.password, ...opts });
  return creds;
}

/** An okx instance as the node builds it (instanceSettings + redirectInstance), optionally recording what it sends. */
function exchange(creds: Partial<Creds>, opts: { timeout?: number; sent?: Sent[]; options?: Record<string, unknown> } = {}): Okx {
  const settings = instanceSettings('okx', opts.timeout ?? 10_000);
  const ex = new ccxt.okx({ ...creds, ...settings, options: { ...(settings['options'] as object), ...opts.options } });
  redirectInstance(ex, sim.url);
  recordRequests(ex, opts.sent);
  return ex;
}

/** A private request signed by hand from OKX's spec, to test the protocol without ccxt. */
async function signed(creds: Creds, method: 'GET' | 'POST', path: string, opts: { query?: string; body?: unknown; timestamp?: string; sign?: string } = {}) {
  const timestamp = opts.timestamp ?? new Date().toISOString();
  const requestPath = opts.query ? `${path}?${opts.query}` : path;
  const body = opts.body === undefined ? '' : JSON.stringify(opts.body);
  const sign = opts.sign ?? createHmac('sha256', creds.secret).update(timestamp + method + requestPath + body).digest('base64');
  const res = await fetch(`${sim.url}${requestPath}`, {
    method,
    headers: { 'OK-ACCESS-KEY': creds.apiKey, 'OK-ACCESS-SIGN': sign, 'OK-ACCESS-TIMESTAMP': timestamp, 'OK-ACCESS-PASSPHRASE': creds.password, 'Content-Type': 'application/json' },
    ...(body ? { body } : {}),
  });
  return { status: res.status, json: (await res.json()) as { code: string; msg: string; data: Array<Record<string, unknown>> } };
}

const swapOrder = (fields: Record<string, string>) => ({ instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'buy', ordType: 'market', sz: '1', ...fields });

test('markets: ccxt asks for SPOT, FUTURES, SWAP and OPTION (twice), and reads contract sizes and lots in contracts', async () => {
  sim.resetCounts();
  const narrowed = exchange(account());
  await narrowed.loadMarkets();
  assert.deepEqual(sim.instrumentRequests(), { SWAP: 1 }, "the node's settings: swaps only");
  sim.resetCounts();
  // ccxt's own defaults, which the node narrows (src/exchange/market-types.ts).
  const ex = exchange(account(), { options: { fetchMarkets: { types: ['spot', 'future', 'swap', 'option'] } } });
  await ex.loadMarkets();
  assert.deepEqual(sim.instrumentRequests(), { SPOT: 1, FUTURES: 1, SWAP: 1, OPTION: 2 });
  assert.equal(sim.requestCount({ path: '/api/v5/public/instruments' }), 5);
  assert.equal(sim.requestCount({ path: '/api/v5/asset/currencies' }), 1, 'with keys, okx.fetchCurrencies is private and ignores options.fetchCurrencies');
  assert.equal(sim.requestCount({ operation: 'markets' }), 6);

  const btc = ex.market(BTC);
  assert.equal(btc.id, 'BTC-USDT-SWAP');
  assert.equal(btc.swap && btc.linear, true);
  assert.equal(btc.contractSize, 0.01);
  assert.equal(btc.precision.amount, 0.01, 'lotSz, in contracts');
  assert.equal(btc.precision.price, 0.1);
  assert.equal(btc.limits.amount?.min, 0.01, 'minSz, in contracts');
  assert.equal(btc.limits.leverage?.max, 100);
  const doge = ex.market(DOGE);
  assert.equal(doge.contractSize, 1000, 'one DOGE contract is 1000 DOGE');
  assert.equal(doge.precision.amount, 0.1);
  assert.equal(doge.precision.price, 0.00001);
  assert.equal(ex.market(SOL).limits.leverage?.max, 50);
  assert.equal(ex.market(SOL).contractSize, 1);
  assert.ok(ex.markets?.['BTC/USDT']?.spot, 'spot pairs are listed too');

  const raw = await fetch(`${sim.url}/api/v5/public/instruments`);
  assert.equal(raw.status, 400);
  assert.deepEqual(await raw.json(), { code: '50014', data: [], msg: 'Parameter instType can not be empty.' });
});

test('authentication: signature, passphrase, key, timestamp; and the error ccxt raises without a passphrase', async () => {
  const creds = account();
  assert.equal(typeof (await exchange(creds).fetchBalance())['USDT']?.total, 'number');
  assert.equal(await errorClass(exchange({ ...creds, secret: 'WRONG' }).fetchBalance()), 'AuthenticationError', '50113');
  assert.equal(await errorClass(exchange({ ...creds, password: 'wrong' }).fetchBalance()), 'AuthenticationError', '50105');
  assert.equal(await errorClass(exchange({ ...creds, apiKey: 'nobody' }).fetchBalance()), 'AuthenticationError', '50111');
  const stale = exchange(creds);
  stale.nonce = () => Date.now() - 31_000;
  assert.equal(await errorClass(stale.fetchBalance()), 'InvalidNonce', '50102: more than 30 s off');

  sim.resetCounts();
  const noPassphrase = await failure(exchange({ apiKey: creds.apiKey, secret: creds.secret }).fetchBalance());
  assert.ok(noPassphrase instanceof ccxt.AuthenticationError);
  assert.match(noPassphrase.message, /requires "password" credential/, 'ccxt calls the passphrase "password"');
  await loadCcxt();
  const told = normaliseError(noPassphrase);
  assert.equal(told.code, 'auth_failed');
  assert.match(told.message, /requires a passphrase \(the account's "passphrase" field\)/, 'the node says it in the API\'s words');
  assert.equal(sim.requestCount({ path: '/api/v5/account/balance' }), 0, 'refused before any request');

  // The spec by hand: GET signs path + query, POST signs the raw body.
  const get = await signed(creds, 'GET', '/api/v5/account/positions', { query: 'instType=SWAP' });
  assert.equal(get.status, 200);
  assert.equal(get.json.code, '0');
  const post = await signed(creds, 'POST', '/api/v5/account/set-leverage', { body: { instId: 'BTC-USDT-SWAP', lever: '5', mgnMode: 'cross' } });
  assert.deepEqual(post.json, { code: '0', data: [{ instId: 'BTC-USDT-SWAP', lever: '5', mgnMode: 'cross', posSide: '' }], msg: '' });
  const cases: Array<[Parameters<typeof signed>[3], string]> = [
    [{ query: 'instType=SWAP', sign: 'AAAA' }, '50113'],
    [{ timestamp: String(Date.now()) }, '50112'],
    [{ timestamp: new Date(Date.now() + 40_000).toISOString() }, '50102'],
  ];
  for (const [opts, code] of cases) {
    const r = await signed(creds, 'GET', '/api/v5/account/balance', opts);
    assert.equal(r.status, 401);
    assert.equal(r.json.code, code, JSON.stringify(r.json));
  }
  const tampered = await fetch(`${sim.url}/api/v5/account/balance?ccy=BTC`, { headers: { 'OK-ACCESS-KEY': creds.apiKey, 'OK-ACCESS-SIGN': createHmac('sha256', creds.secret).update(`${new Date().toISOString()}GET/api/v5/account/balance`).digest('base64'), 'OK-ACCESS-TIMESTAMP': new Date().toISOString(), 'OK-ACCESS-PASSPHRASE': creds.password } });
  assert.equal(tampered.status, 401, 'the query is part of what is signed');
  const bare = await fetch(`${sim.url}/api/v5/account/balance`);
  assert.deepEqual([bare.status, ((await bare.json()) as { code: string }).code], [401, '50103']);
});

test('amounts are CONTRACTS: createOrder(BTC, 0.01) buys 0.01 contract = 0.0001 BTC, and ccxt reports 0.01 back', async () => {
  const creds = account();
  const sent: Sent[] = [];
  const ex = exchange(creds, { sent });
  const placed = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'unit1' });
  const post = sent.find((s) => s.method === 'POST');
  assert.ok(post?.url.endsWith('/api/v5/trade/batch-orders'), 'ccxt places single orders through the batch endpoint');
  assert.deepEqual(JSON.parse(post?.body ?? ''), [{ instId: 'BTC-USDT-SWAP', side: 'buy', ordType: 'market', sz: '0.01', tdMode: 'cross', clOrdId: 'unit1' }]);
  assert.equal(placed.status, undefined, 'OKX answers a new order with its ids only');
  assert.equal(placed.amount, undefined);
  assert.equal(placed.info['sMsg'], 'Order placed');

  const found = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'unit1' });
  assert.equal(found.id, placed.id);
  assert.equal(found.status, 'closed');
  assert.equal(found.amount, 0.01, 'ccxt amount = contracts');
  assert.equal(found.filled, 0.01);
  assert.equal(found.average, 60000);
  assert.equal(found.fee?.cost, 0.003, '0.05% of 0.0001 BTC × 60000');
  const [view] = sim.orders(creds.apiKey);
  assert.equal(view?.amount, 0.0001, 'the book holds 0.0001 BTC');
  assert.equal(view?.filled, 0.0001);
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.contracts, 0.01);
  assert.equal(position?.contractSize, 0.01);
  assert.equal(position?.notional, 6, '0.01 contract of 0.01 BTC at 60000');
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.amount, p.side]), [[0.0001, 'long']]);

  // A 1000-DOGE contract: one ccxt unit is 1000 DOGE.
  await ex.createOrder(DOGE, 'market', 'buy', 1, undefined, { clientOrderId: 'unit2' });
  assert.deepEqual(sim.positions(creds.apiKey).find((p) => p.symbol === DOGE)?.amount, 1000);

  // Below a lot, ccxt refuses locally; the exchange's own rule is 51121.
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 0.001)), 'InvalidOrder');
  const raw = await signed(creds, 'POST', '/api/v5/trade/order', { body: swapOrder({ sz: '0.015' }) });
  assert.equal(raw.status, 200);
  assert.deepEqual([raw.json.code, raw.json.msg, raw.json.data[0]?.['sCode'], raw.json.data[0]?.['sMsg']], ['1', 'All operations failed', '51121', 'Order quantity must be a multiple of the lot size.']);
  const dogeLot = await signed(creds, 'POST', '/api/v5/trade/batch-orders', { body: [swapOrder({ instId: 'DOGE-USDT-SWAP', sz: '0.05' })] });
  assert.equal(dogeLot.json.data[0]?.['sCode'], '51121', 'DOGE lots are 0.1 contract');
});

test("the node's ccxtTrader against OKX: 0.5 BTC is 50 contracts on the wire and 0.5 BTC in the result, and its stop is found by client id", async () => {
  const creds = account();
  const ex = exchange(creds);
  await loadCcxt(); // the node classifies ccxt errors only once it has loaded ccxt
  await ex.loadMarkets(); // the node's instances always have their markets
  const trader = ccxtTrader(ex, new Credentials(creds.apiKey, creds.secret, creds.password));
  // The node means 0.5 BTC: 50 contracts of 0.01 BTC on the wire, and 0.5 BTC reported back.
  const entry = await trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.5, price: undefined, clientOrderId: 'n1entry', reduceOnly: false });
  assert.equal(entry.status, 'closed', 'the unknown answer was followed by one lookup');
  assert.deepEqual([entry.amount, entry.filled], [0.5, 0.5]);
  assert.equal(sim.positions(creds.apiKey)[0]?.amount, 0.5);
  assert.equal(sim.orders(creds.apiKey)[0]?.amount, 0.5);
  const stop = await trader.placeOrder({ symbol: BTC, side: 'sell', type: 'market', amount: 0.5, price: undefined, clientOrderId: 'n1sl', reduceOnly: true, trigger: { kind: 'stop_loss', price: 58000 } });
  assert.equal(stop.status, 'unknown', 'no follow-up lookup for triggers');
  assert.equal((await trader.findOrder(BTC, 'n1sl', true))?.status, 'open');
  assert.equal(await trader.findOrder(BTC, 'n1sl', false), null, 'not a regular order');
  const bad = await trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.5, price: undefined, clientOrderId: 'n1-entry', reduceOnly: false }).catch((e: Error) => e);
  assert.ok(bad instanceof Error, 'a client id with "-" is refused by OKX (51000 Parameter clOrdId error)');
});

test('stop-loss and take-profit via stopLossPrice / takeProfitPrice: the algo endpoint, found by client id, fired by the mark', async () => {
  const creds = account();
  const sent: Sent[] = [];
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 2, undefined, { clientOrderId: 'e1' });
  const sl = await ex.createOrder(BTC, 'market', 'sell', 2, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 'e1sl' });
  const tp = await ex.createOrder(BTC, 'market', 'sell', 2, undefined, { takeProfitPrice: 63000, reduceOnly: true, clientOrderId: 'e1tp' });
  const algoPosts = sent.filter((s) => s.method === 'POST' && s.url.endsWith('/api/v5/trade/order-algo'));
  assert.equal(algoPosts.length, 2);
  assert.deepEqual(JSON.parse(algoPosts[0]?.body ?? ''), {
    instId: 'BTC-USDT-SWAP', side: 'sell', ordType: 'conditional', sz: '2', tdMode: 'cross',
    slTriggerPx: '58000', slOrdPx: '-1', slTriggerPxType: 'last', clOrdId: 'e1sl', reduceOnly: true,
  }, 'ccxt sends the client id as clOrdId, never algoClOrdId');
  assert.equal(sl.info['algoClOrdId'], 'e1sl', 'OKX takes it as the algoClOrdId');
  assert.equal(sl.clientOrderId, 'e1sl');
  assert.equal(tp.info['algoClOrdId'], 'e1tp');

  const open = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1sl', trigger: true });
  assert.match(sent.at(-1)?.url ?? '', /\/api\/v5\/trade\/order-algo\?instId=BTC-USDT-SWAP&algoClOrdId=e1sl$/);
  assert.equal(open.id, sl.id);
  assert.equal(open.status, 'open');
  assert.equal(open.stopLossPrice, 58000);
  assert.equal(open.amount, 2, 'contracts');
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1sl' })), 'OrderNotFound', 'GET /trade/order knows no algo (51603)');
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'never', trigger: true })), 'OrderNotFound');

  // ccxt's fetchOpenOrders({ trigger: true }) asks for ordType=trigger: the TP/SL are not in it.
  assert.deepEqual(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true }), []);
  const listed = await ex.fetchOpenOrders(BTC, undefined, undefined, { ordType: 'conditional' });
  assert.deepEqual(listed.map((o) => o.clientOrderId).sort(), ['e1sl', 'e1tp']);

  sim.setMarkPrice(BTC, 57900);
  const fired = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1sl', trigger: true });
  assert.equal(fired.status, 'closed', 'effective');
  assert.equal(fired.info['actualSide'], 'sl');
  const exit = await ex.fetchOrder(String(fired.info['ordId']), BTC);
  assert.equal(exit.status, 'closed');
  assert.equal(exit.reduceOnly, true);
  assert.equal(exit.average, 57900);
  assert.equal(exit.clientOrderId, undefined, 'the order an algo places has no clOrdId');
  assert.equal(exit.info['algoClOrdId'], 'e1sl');
  assert.equal(exit.info['source'], '7');
  assert.equal(exit.id, sl.id, "ccxt's parseOrder prefers algoId to ordId: the exit order reports the algo's id");
  assert.equal(exit.info['ordId'], fired.info['ordId']);
  const late = await failure(ex.cancelOrder(idOf(sl), BTC, { trigger: true }));
  assert.match(late.message, /"sCode":"51416"/, 'a triggered algo cannot be canceled');
  assert.equal(late.constructor.name, 'ExchangeError');
  const closed = await ex.fetchPositions([BTC]);
  assert.deepEqual(closed.map((p) => p.contracts), [0], 'asked by instId, OKX still lists the closed position with pos 0');
  assert.deepEqual(await ex.fetchPositions(), []);

  // The take-profit is its own algo: it stays live, and fails when it finds nothing to reduce.
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1tp', trigger: true })).status, 'open');
  sim.setMarkPrice(BTC, 63500);
  const failed = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1tp', trigger: true });
  assert.equal(failed.info['state'], 'order_failed');
  assert.equal(failed.status, 'canceled', 'ccxt maps order_failed to canceled');
  const history = await signed(creds, 'GET', '/api/v5/trade/orders-algo-history', { query: 'ordType=conditional,oco&state=effective' });
  assert.deepEqual(history.json.data.map((a) => [a['algoClOrdId'], a['actualSide'], a['ordId']]), [['e1sl', 'sl', fired.info['ordId']]]);
  assert.equal((await signed(creds, 'GET', '/api/v5/trade/orders-algo-history', { query: 'ordType=conditional' })).json.code, '50015', 'state or algoId is required');
  assert.deepEqual(sim.orders(creds.apiKey).map((o) => [o.type, o.status]), [
    ['market', 'filled'],
    ['stop_loss', 'triggered'],
    ['take_profit', 'rejected'],
    ['market', 'filled'],
  ]);
});

test('algo rules: trigger side, a duplicate algo client id, the documented algoClOrdId, closeFraction', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 1);
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 61000, reduceOnly: true })), 'InvalidOrder', '51280 SL above the last price');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { takeProfitPrice: 59000, reduceOnly: true })), 'InvalidOrder', '51279 TP below the last price');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 61000, slTriggerPxType: 'mark', reduceOnly: true })), 'ExchangeError', '51304 (mark) is not in ccxt table');

  await ex.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 57000, reduceOnly: true, clientOrderId: 'dupsl' });
  const dup = await failure(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 56000, reduceOnly: true, clientOrderId: 'dupsl' }));
  assert.equal(dup.constructor.name, 'ExchangeError', '51065 is not in ccxt table');
  assert.match(dup.message, /"sCode":"51065","sMsg":"algoClOrdId already exists."/);

  const documented = await ex.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 55000, reduceOnly: true, algoClOrdId: 'docid1', clientOrderId: 'ccxtid1' });
  assert.equal(documented.info['algoClOrdId'], 'docid1', 'algoClOrdId wins over clOrdId');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'docid1', trigger: true })).clientOrderId, 'ccxtid1', 'ccxt reads clientOrderId from the algo\'s clOrdId');

  const whole = await signed(creds, 'POST', '/api/v5/trade/order-algo', { body: { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'sell', ordType: 'conditional', closeFraction: '1', reduceOnly: true, slTriggerPx: '50000', slOrdPx: '-1', algoClOrdId: 'wholepos' } });
  assert.equal(whole.json.code, '0', JSON.stringify(whole.json));
  const again = await signed(creds, 'POST', '/api/v5/trade/order-algo', { body: { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'sell', ordType: 'conditional', closeFraction: '1', reduceOnly: true, slTriggerPx: '49000', slOrdPx: '-1' } });
  assert.equal(again.json.data[0]?.['sCode'], '51088');
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal((position?.info['closeOrderAlgo'] as unknown[]).length, 1);
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'wholepos')?.amount, null, 'a whole-position stop has no size');

  // ccxt turns stopLossPrice + takeProfitPrice into ordType "oco" but still posts it to
  // /trade/batch-orders (its method switch tests type === 'oco', not the ordType it built).
  const sent: Sent[] = [];
  const both = await failure(exchange(creds, { sent }).createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 55000, takeProfitPrice: 65000, reduceOnly: true, clientOrderId: 'oco1' }));
  assert.ok(sent.at(-1)?.url.endsWith('/api/v5/trade/batch-orders'));
  assert.equal(both.constructor.name, 'BadRequest');
  assert.match(both.message, /"sCode":"51000","sMsg":"Parameter ordType error"/);
  const oco = await ex.createOrder(BTC, 'oco', 'sell', 1, undefined, { stopLossPrice: 55000, takeProfitPrice: 65000, reduceOnly: true, clientOrderId: 'oco2' });
  assert.equal((await ex.fetchOrder(idOf(oco), BTC, { trigger: true })).info['ordType'], 'oco', "type 'oco' reaches the algo endpoint");

  // cancelOrder({ trigger: true }) goes through cancel-algos; twice is 51400.
  const canceled = await ex.cancelOrder(idOf(documented), BTC, { trigger: true });
  assert.equal(canceled.id, documented.id);
  assert.equal(await errorClass(ex.cancelOrder(idOf(documented), BTC, { trigger: true })), 'OrderNotFound');
});

test('attached TP/SL: ccxt stopLoss/takeProfit become attachAlgoOrds; an OCO appears once the entry fills', async () => {
  const creds = account();
  const sent: Sent[] = [];
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'att1', stopLoss: { triggerPrice: 57000 }, takeProfit: { triggerPrice: 63000 } });
  const body = JSON.parse(sent.find((s) => s.method === 'POST')?.body ?? '[]') as Array<Record<string, unknown>>;
  assert.deepEqual(body[0]?.['attachAlgoOrds'], [{ slTriggerPx: '57000', slOrdPx: '-1', slTriggerPxType: 'last', tpTriggerPx: '63000', tpOrdPx: '-1', tpTriggerPxType: 'last' }]);
  const entry = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'att1' });
  assert.equal(entry.stopLossPrice, 57000);
  assert.equal(entry.takeProfitPrice, 63000);
  const oco = await ex.fetchOpenOrders(BTC, undefined, undefined, { ordType: 'oco' });
  assert.equal(oco.length, 1);
  assert.equal(oco[0]?.amount, 1);
  assert.equal(oco[0]?.info['algoClOrdId'], '', 'ccxt gives attached TP/SL no client id');

  // With the exchange's own field the node can name them: a limit entry that has not filled has no algo yet.
  const att2 = await ex.createOrder(BTC, 'limit', 'buy', 2, 59000, {
    clientOrderId: 'att2',
    attachAlgoOrds: [{ attachAlgoClOrdId: 'att2prot', slTriggerPx: '57500', slOrdPx: '-1', tpTriggerPx: '62000', tpOrdPx: '-1' }],
  });
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'att2prot', trigger: true })), 'OrderNotFound');
  const pending = sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'att2prot');
  assert.deepEqual(pending.map((o) => [o.type, o.status, o.amount]), [['take_profit', 'open', 0.02], ['stop_loss', 'open', 0.02]]);
  sim.setMarkPrice(BTC, 58900);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'att2' })).status, 'closed');
  const generated = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'att2prot', trigger: true });
  assert.equal(generated.status, 'open');
  assert.equal(generated.info['ordType'], 'oco');
  assert.equal(generated.amount, 2);
  sim.setMarkPrice(BTC, 62100);
  const done = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'att2prot', trigger: true });
  assert.equal(done.info['actualSide'], 'tp');
  const legs = sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'att2prot');
  assert.deepEqual(legs.map((o) => [o.type, o.status]), [['stop_loss', 'canceled'], ['take_profit', 'triggered']]);
  assert.ok(legs.every((o) => o.parentId === idOf(att2)), 'legs point at their entry');

  // A protective trigger on the wrong side of a market entry is refused (51051 SL vs the best ask).
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 1, undefined, { stopLoss: { triggerPrice: 63000 } })), 'InvalidOrder');
  // Reduce-only orders cannot carry TP/SL (51100).
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { reduceOnly: true, stopLoss: { triggerPrice: 70000 } })), 'InvalidOrder');
});

test('split take-profits: each TP carries its sz, the sizes must add up, one SL covers the whole', async () => {
  const creds = account();
  const ex = exchange(creds);
  const split = (sizes: string[]) => [
    ...sizes.map((sz, i) => ({ attachAlgoClOrdId: `tp${i}${sizes.length}`, tpTriggerPx: String(62000 + i * 1000), tpOrdPx: '-1', sz })),
    { attachAlgoClOrdId: `sl${sizes.length}`, slTriggerPx: '57000', slOrdPx: '-1' },
  ];
  const bad = await failure(ex.createOrder(BTC, 'market', 'buy', 1, undefined, { attachAlgoOrds: split(['0.5', '0.4']) }));
  assert.match(bad.message, /"sCode":"51083"/);
  await ex.createOrder(BTC, 'market', 'buy', 1, undefined, { attachAlgoOrds: split(['0.5', '0.3', '0.2']) });
  const algos = await ex.fetchOpenOrders(BTC, undefined, undefined, { ordType: 'conditional' });
  assert.deepEqual(algos.map((o) => [o.info['algoClOrdId'], o.amount]).sort(), [['sl3', 1], ['tp03', 0.5], ['tp13', 0.3], ['tp23', 0.2]]);
  sim.setMarkPrice(BTC, 62500);
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.contracts, 0.5, 'the first TP took half');
});

test("OKX's duplicate rule: a clOrdId is refused only while its order is pending; lookups return the latest", async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'dup1' });
  await ex.createOrder(BTC, 'market', 'buy', 2, undefined, { clientOrderId: 'dup1' });
  assert.equal(sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'dup1').length, 2, 'a filled order frees its id');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'dup1' })).amount, 2, 'the latest one');

  const resting = await ex.createOrder(BTC, 'limit', 'buy', 1, 58000, { clientOrderId: 'dup2' });
  const refused = await failure(ex.createOrder(BTC, 'limit', 'buy', 1, 58000, { clientOrderId: 'dup2' }));
  assert.equal(refused.constructor.name, 'InvalidOrder');
  assert.match(refused.message, /"sCode":"51016"/);
  assert.equal((await ex.cancelOrder(idOf(resting), BTC)).id, resting.id);
  assert.equal(await errorClass(ex.cancelOrder(idOf(resting), BTC)), 'OrderNotFound', '51400');
  await ex.createOrder(BTC, 'limit', 'buy', 1, 58000, { clientOrderId: 'dup2' });

  // Within one batch the same id is refused for the second order.
  const batch = await signed(creds, 'POST', '/api/v5/trade/batch-orders', { body: [swapOrder({ clOrdId: 'dup3' }), swapOrder({ clOrdId: 'dup3' })] });
  assert.deepEqual([batch.json.code, batch.json.data.map((d) => d['sCode'])], ['2', ['0', '51016']]);

  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'has-dash' })), 'BadRequest', '51000 Parameter clOrdId error');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 1, undefined, { clientOrderId: 'x'.repeat(33) })), 'BadRequest');
});

test('reduce-only in net mode: nothing to reduce, the same direction, more than the position', async () => {
  const creds = account();
  const ex = exchange(creds);
  const none = await failure(ex.createOrder(BTC, 'market', 'sell', 1, undefined, { reduceOnly: true }));
  assert.equal(none.constructor.name, 'ExchangeError', '51169 is not in ccxt table');
  assert.match(none.message, /"sCode":"51169"/);
  await ex.createOrder(BTC, 'market', 'buy', 1);
  assert.match((await failure(ex.createOrder(BTC, 'market', 'buy', 1, undefined, { reduceOnly: true }))).message, /"sCode":"51170"/);
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 2, undefined, { reduceOnly: true })), 'InvalidOrder', '51112, no auto-trim');
  await ex.createOrder(BTC, 'limit', 'sell', 0.6, 61000, { reduceOnly: true });
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.5, undefined, { reduceOnly: true })), 'InvalidOrder', 'with the pending reduce-only order it exceeds');
  await ex.createOrder(BTC, 'market', 'sell', 0.4, undefined, { reduceOnly: true });
  assert.equal(sim.positions(creds.apiKey)[0]?.amount, 0.006);
});

test('hedge (long/short) mode: posSide is required; ccxt hedged:true fills it in; position mode changes need a flat account', async () => {
  const creds = account({ positionMode: 'hedge' });
  const ex = exchange(creds);
  assert.equal((await ex.fetchPositionMode(BTC)).hedged, true);
  const missing = await failure(ex.createOrder(BTC, 'market', 'buy', 1));
  assert.equal(missing.constructor.name, 'BadRequest');
  assert.match(missing.message, /"sCode":"51000","sMsg":"Parameter posSide error"/);
  await ex.createOrder(BTC, 'market', 'buy', 3, undefined, { hedged: true });
  await ex.createOrder(BTC, 'market', 'sell', 1, undefined, { positionSide: 'short' });
  const positions = await ex.fetchPositions([BTC]);
  assert.deepEqual(positions.map((p) => [p.side, p.contracts, p.hedged]).sort(), [['long', 3, true], ['short', 1, true]]);

  const sl = await ex.createOrder(BTC, 'market', 'sell', 3, undefined, { stopLossPrice: 58000, reduceOnly: true, hedged: true, clientOrderId: 'hsl' });
  assert.equal((await ex.fetchOrder(idOf(sl), BTC, { trigger: true })).info['posSide'], 'long', 'a protective sell closes the long');
  await ex.createOrder(BTC, 'market', 'sell', 1, undefined, { reduceOnly: true, hedged: true });
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 5, undefined, { reduceOnly: true, hedged: true })), 'InvalidOrder', 'closing 5 of a 1-contract short (51112)');
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.side, p.amount]).sort(), [['long', 0.02], ['short', 0.01]]);

  assert.equal(await errorClass(ex.setPositionMode(false)), 'ExchangeError', '59000 with positions open');
  const net = exchange(account());
  assert.equal(await errorClass(net.createOrder(BTC, 'market', 'buy', 1, undefined, { posSide: 'long' })), 'BadRequest', 'net mode takes posSide net or none');
  await net.setPositionMode(true);
  assert.equal((await net.fetchPositionMode()).hedged, true);
});

test('leverage: set twice succeeds, per margin mode, capped by the instrument; isolated positions keep their margin', async () => {
  const creds = account();
  const sent: Sent[] = [];
  const ex = exchange(creds, { sent });
  const first = (await ex.setLeverage(20, BTC)) as { data: Array<Record<string, string>> };
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? ''), { lever: 20, mgnMode: 'cross', instId: 'BTC-USDT-SWAP' });
  assert.deepEqual(first.data, [{ instId: 'BTC-USDT-SWAP', lever: '20', mgnMode: 'cross', posSide: '' }]);
  assert.equal(await errorClass(ex.setLeverage(20, BTC)), 'resolved', 'OKX has no "leverage not modified" error');
  assert.equal(sim.leverage(creds.apiKey, BTC), 20);
  assert.equal((await ex.fetchLeverage(BTC)).longLeverage, 20);
  assert.equal((await ex.fetchLeverage(SOL)).longLeverage, 10, 'the default');
  assert.equal(await errorClass(ex.setLeverage(101, BTC)), 'ExchangeError', '59102 above the 100x of BTC-USDT-SWAP');
  assert.equal(await errorClass(ex.setLeverage(51, SOL)), 'ExchangeError', '59102 above the 50x of SOL-USDT-SWAP');
  assert.equal(await errorClass(ex.setLeverage(200, BTC)), 'BadRequest', 'ccxt refuses above 125 itself');

  await ex.setLeverage(5, BTC, { marginMode: 'isolated' });
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? ''), { lever: 5, mgnMode: 'isolated', instId: 'BTC-USDT-SWAP', posSide: 'net' });
  assert.equal((await ex.fetchLeverage(BTC, { marginMode: 'isolated' })).longLeverage, 5);
  await ex.createOrder(BTC, 'market', 'buy', 10, undefined, { marginMode: 'isolated' });
  await ex.createOrder(BTC, 'market', 'buy', 10);
  const positions = await ex.fetchPositions([BTC]);
  const iso = positions.find((p) => p.marginMode === 'isolated');
  const cross = positions.find((p) => p.marginMode === 'cross');
  assert.equal(iso?.leverage, 5);
  assert.equal(iso?.collateral, 1200, '10 contracts = 0.1 BTC; 6000 / 5');
  assert.equal(cross?.leverage, 20);
  assert.equal(cross?.initialMargin, 300);
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.marginMode, p.leverage, p.amount]).sort(), [['cross', 20, 0.1], ['isolated', 5, 0.1]]);

  const hedge = exchange(account({ positionMode: 'hedge' }));
  assert.equal(await errorClass(hedge.setLeverage(5, BTC, { marginMode: 'isolated' })), 'BadRequest', 'ccxt sends posSide net; long/short isolated needs long or short');
  await hedge.setLeverage(7, BTC, { marginMode: 'isolated', posSide: 'short' });
  const info = await hedge.fetchLeverage(BTC, { marginMode: 'isolated' });
  assert.deepEqual([info.longLeverage, info.shortLeverage], [10, 7]);
});

test('balance and positions through ccxt follow the fills, the mark and the fees', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 10);
  let balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, 9997, '10000 − 0.05% of 6000');
  assert.equal(balance['USDT']?.used, 600, '6000 / 10x');
  assert.equal(balance['USDT']?.free, 9397);
  sim.setMarkPrice(BTC, 61000);
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.contracts, 10);
  assert.equal(position?.side, 'long');
  assert.equal(position?.entryPrice, 60000);
  assert.equal(position?.markPrice, 61000);
  assert.equal(position?.unrealizedPnl, 100, '10 contracts = 0.1 BTC, +1000');
  assert.equal(position?.notional, 6100);
  assert.equal(position?.leverage, 10);
  assert.equal(position?.marginMode, 'cross');
  balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, 10097);
  assert.equal(balance['USDT']?.used, 610);

  await ex.createOrder(SOL, 'market', 'sell', 4);
  const [short] = await ex.fetchPositions([SOL]);
  assert.equal(short?.side, 'short');
  assert.ok((short?.liquidationPrice ?? 0) > 150, 'a short is liquidated above its entry');
  await ex.createOrder(SOL, 'market', 'buy', 4, undefined, { reduceOnly: true });
  await ex.createOrder(BTC, 'market', 'sell', 10, undefined, { reduceOnly: true });
  balance = await ex.fetchBalance();
  assert.equal(Number(balance['USDT']?.total?.toFixed(6)), Number((9997 + 100 - 6100 * 0.0005 - 2 * 600 * 0.0005).toFixed(6)), '+100 realised, minus the taker fees');
  assert.deepEqual(await ex.fetchPositions(), []);

  const poor = exchange(account({ usdt: 100 }));
  assert.equal(await errorClass(poor.createOrder(BTC, 'market', 'buy', 100)), 'InsufficientFunds', '51008: 60000 notional needs 6000 at 10x');
});

test('a resting limit freezes margin, fills as maker when the mark crosses it, and a post-only that would take is canceled', async () => {
  const creds = account();
  const ex = exchange(creds);
  const order = await ex.createOrder(BTC, 'limit', 'buy', 10, 59000, { clientOrderId: 'rest1' });
  assert.equal((await ex.fetchBalance())['USDT']?.used, 590, 'ordFrozen 5900 / 10x');
  assert.deepEqual((await ex.fetchOpenOrders(BTC)).map((o) => o.clientOrderId), ['rest1']);
  sim.setMarkPrice(BTC, 58900);
  const filled = await ex.fetchOrder(idOf(order), BTC);
  assert.equal(filled.status, 'closed');
  assert.equal(filled.average, 59000);
  assert.equal(filled.fee?.cost, 1.18, 'maker 0.02% of 5900');
  assert.equal(await errorClass(ex.createOrder(BTC, 'limit', 'buy', 1, 65000)), 'InvalidOrder', '51006 above the price limit');
  await ex.createOrder(BTC, 'limit', 'buy', 1, 59000, { postOnly: true, clientOrderId: 'po1' });
  const po = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'po1' });
  assert.equal(po.status, 'canceled');
  assert.equal(po.info['cancelSource'], '31');
});

test('faults: rate limit, 5xx before processing, outcome unknown after, timeouts, rejections', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  const order = (id?: string) => ex.createOrder(BTC, 'market', 'buy', 1, undefined, id ? { clientOrderId: id } : {});
  const placed = () => sim.orders(creds.apiKey).length;

  sim.fault({ kind: 'rate_limit', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'RateLimitExceeded', 'HTTP 429 with code 50011: the code wins over ccxt\'s 429 → ExchangeNotAvailable');
  sim.fault({ kind: 'http_500', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'ExchangeNotAvailable');
  assert.equal(placed(), 0);

  sim.fault({ kind: 'http_503_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order('lost1')), 'RequestTimeout', '50004 "does not mean that the request was successful or failed"');
  assert.equal(placed(), 1, 'the order exists although the client saw an error');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost1' })).status, 'closed');

  const hasty = exchange(creds, { timeout: 300 });
  await hasty.loadMarkets();
  sim.fault({ kind: 'timeout', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 1)), 'RequestTimeout');
  assert.equal(placed(), 1);
  sim.fault({ kind: 'timeout_after', operation: 'place_trigger', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'sell', 1, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 'lostsl' })), 'RequestTimeout');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lostsl', trigger: true })).status, 'open');

  sim.fault({ kind: 'reject', operation: 'place_order', apiKey: creds.apiKey, code: '51008', msg: 'Order failed. Insufficient USDT margin in account' });
  assert.equal(await errorClass(order()), 'InsufficientFunds', 'a trade code becomes the item sCode');
  sim.fault({ kind: 'reject', operation: 'balance', apiKey: creds.apiKey, code: '50013', msg: 'Systems are busy. Please try again later.', times: Number.POSITIVE_INFINITY });
  assert.equal(await errorClass(ex.fetchBalance()), 'ExchangeNotAvailable');
  assert.equal(await errorClass(ex.fetchBalance()), 'ExchangeNotAvailable', 'times: Infinity keeps matching');
  sim.clearFaults();
  sim.fault({ kind: 'reject', operation: 'query_order', code: '50026', msg: 'System error. Try again later' });
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost1' })), 'ExchangeNotAvailable');
  assert.equal(sim.requestCount({ operation: 'place_order', apiKey: creds.apiKey }), 5);
});

test('the /__sim/ control surface and resets', async () => {
  const other = await startOkxSim();
  const ctl = (method: string, path: string, body?: unknown) =>
    fetch(`${other.url}/__sim/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as unknown }));
  try {
    assert.equal((await ctl('POST', 'accounts', [{ apiKey: 'h1', secret: 's1', passphrase: 'p1' }])).status, 200);
    assert.equal((await ctl('POST', 'mark-price', { symbol: 'ETH/USDT:USDT', price: 3100 })).status, 200);
    const mark = (await (await fetch(`${other.url}/api/v5/public/mark-price?instId=ETH-USDT-SWAP`)).json()) as { data: Array<{ markPx: string }> };
    assert.equal(mark.data[0]?.markPx, '3100');
    const settings = instanceSettings('okx', 10_000);
    const ex = new ccxt.okx({ apiKey: 'h1', secret: 's1', password: 'p1', ...settings });
    redirectInstance(ex, other.url);
    await ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 1, undefined, { clientOrderId: 'ctl1' });
    const orders = (await ctl('GET', 'orders?apiKey=h1')).json as Array<Record<string, unknown>>;
    assert.deepEqual([orders[0]?.['clientOrderId'], orders[0]?.['amount'], orders[0]?.['average']], ['ctl1', 0.1, 3100]);
    const positions = (await ctl('GET', 'positions?apiKey=h1')).json as Array<Record<string, unknown>>;
    assert.equal(positions[0]?.['amount'], 0.1);
    assert.equal(other.instrumentRequests()['SWAP'], 1);
    assert.equal((await ctl('POST', 'reset')).status, 200);
    assert.deepEqual(other.instrumentRequests(), {}, 'reset clears the per-type counts too');
    assert.deepEqual((await ctl('GET', 'orders')).json, []);
    assert.equal(await errorClass(ex.fetchBalance()), 'AuthenticationError', 'reset drops the accounts (50111)');
  } finally {
    await other.close();
  }
});
