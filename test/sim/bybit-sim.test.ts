import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import ccxt from 'ccxt';
import { normaliseError } from '../../src/exchange/ccxt-errors.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { ccxtTrader } from '../../src/exchange/ccxt-trader.js';
import { Credentials } from '../../src/core/credentials.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import type { ExchangeSim } from './exchange-sim.js';
import { startBybitSim } from './bybit-sim.js';
import { type Sent, recordRequests } from './ccxt-calls.js';

/**
 * Drives the Bybit simulator with REAL, unmodified ccxt (`bybit`, built with
 * the node's instance settings and redirected the way the node redirects
 * it), so what passes here is what the project's ccxt code path sees —
 * including the places where ccxt's bybit code cannot do what the node asks.
 */

type Bybit = InstanceType<typeof ccxt.bybit>;
interface Creds {
  apiKey: string;
  secret: string;
}

const BTC = 'BTC/USDT:USDT';
const SOL = 'SOL/USDT:USDT';
/** ccxt types fetchOrder's id as a string; the node passes none when it looks up by client id. */
const NO_ID = undefined as unknown as string;
let sim: ExchangeSim;

before(async () => {
  // The node classifies errors with the ccxt module it loaded itself.
  await loadCcxt();
  sim = await startBybitSim();
});
afterEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  for (const [symbol, price] of Object.entries({ [BTC]: 60000, 'ETH/USDT:USDT': 3000, [SOL]: 150 })) sim.setMarkPrice(symbol, price);
});
after(async () => {
  await sim.close();
});

function account(spec: { usdt?: number; hedge?: boolean } = {}): Creds {
  const creds = { apiKey: `key-${randomUUID()}`, secret: `secret-${randomUUID()}` };
  sim.addAccount({ ...creds, ...(spec.usdt === undefined ? {} : { usdt: spec.usdt }), ...(spec.hedge ? { positionMode: 'hedge' as const } : {}) });
  return creds;
}

/** A bybit instance as the node builds one (instanceSettings + credentials), redirected to the simulator. */
function exchange(creds: Partial<Creds>, opts: { sent?: Sent[]; timeout?: number; base?: string; options?: Record<string, unknown> } = {}): Bybit {
  const settings = instanceSettings('bybit', opts.timeout ?? 10_000);
  const ex = new ccxt.bybit({ ...creds, ...settings, ...(opts.options ? { options: { ...(settings['options'] as object), ...opts.options } } : {}) });
  redirectInstance(ex, opts.base ?? sim.url);
  recordRequests(ex, opts.sent);
  return ex;
}

async function failure(call: Promise<unknown>): Promise<Error | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** The ccxt error class a call ends in ('resolved' if it does not throw). */
async function errorClass(call: Promise<unknown>): Promise<string> {
  return (await failure(call))?.constructor.name ?? 'resolved';
}

interface Answer {
  status: number;
  headers: Headers;
  json: { retCode: number; retMsg: string; result: Record<string, unknown>; retExtInfo: unknown; time: number };
}

/** A request signed by hand from Bybit's spec: timestamp + apiKey + recvWindow + (query | JSON body). */
async function signed(creds: Creds, method: 'GET' | 'POST', path: string, params: Record<string, unknown>, tweak: { timestamp?: number; secret?: string } = {}): Promise<Answer> {
  const timestamp = String(tweak.timestamp ?? Date.now());
  const recvWindow = '5000';
  const query = method === 'GET' ? new URLSearchParams(params as Record<string, string>).toString() : '';
  const body = method === 'POST' ? JSON.stringify(params) : '';
  const sign = createHmac('sha256', tweak.secret ?? creds.secret).update(timestamp + creds.apiKey + recvWindow + (method === 'GET' ? query : body)).digest('hex');
  const res = await fetch(`${sim.url}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: { 'X-BAPI-API-KEY': creds.apiKey, 'X-BAPI-TIMESTAMP': timestamp, 'X-BAPI-RECV-WINDOW': recvWindow, 'X-BAPI-SIGN': sign, 'Content-Type': 'application/json' },
    ...(body ? { body } : {}),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Answer['json'] };
}

/** The raw order as /v5/order/realtime reports it, by orderLinkId. */
async function rawOrder(creds: Creds, orderLinkId: string, symbol = 'BTCUSDT'): Promise<Record<string, unknown> | undefined> {
  const r = await signed(creds, 'GET', '/v5/order/realtime', { category: 'linear', symbol, orderLinkId });
  assert.equal(r.json.retCode, 0, JSON.stringify(r.json));
  return (r.json.result['list'] as Array<Record<string, unknown>>)[0];
}

test('markets: ccxt asks 11 public instrument pages (spot, linear ×2, inverse ×2, option ×6) and parses Bybit filters', async () => {
  sim.resetCounts();
  const narrowed = exchange({});
  await narrowed.loadMarkets();
  assert.equal(sim.requestCount({ path: '/v5/market/instruments-info' }), 2, "the node's settings: linear only, two pages");
  sim.resetCounts();
  // ccxt's own defaults, which the node narrows (src/exchange/market-types.ts).
  const anonymous = exchange({}, { options: { fetchMarkets: { types: ['spot', 'linear', 'inverse', 'option'], options: ['BTC', 'ETH', 'SOL', 'XRP', 'MNT', 'DOGE'] } } });
  await anonymous.loadMarkets();
  assert.equal(sim.requestCount({ path: '/v5/market/instruments-info' }), 11);
  assert.equal(sim.requestCount(), 11, 'no credentials: no other request');
  assert.equal(sim.requestCount({ operation: 'markets' }), 11);

  const btc = anonymous.market(BTC);
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.swap && btc.linear, true);
  assert.equal(btc.contractSize, 1);
  assert.equal(btc.precision.amount, 0.001);
  assert.equal(btc.precision.price, 0.1);
  assert.deepEqual(btc.limits.amount, { min: 0.001, max: 1190 });
  assert.equal(btc.limits.cost?.min, 5);
  assert.deepEqual(btc.limits.leverage, { min: 1, max: 100 });
  const sol = anonymous.market(SOL);
  assert.equal(sol.precision.amount, 0.1);
  assert.equal(sol.precision.price, 0.01);
  // Bybit has no linear contract multiplier: the 1000 is in the base coin's name.
  const pepe = anonymous.market('1000PEPE/USDT:USDT');
  assert.equal(pepe.contractSize, 1);
  assert.equal(pepe.base, '1000PEPE');
  assert.equal(pepe.precision.amount, 100);
  assert.equal(pepe.limits.leverage?.max, 50);
  assert.equal(anonymous.market('BTC/USD:BTC').contractSize, 1, 'inverse: 1 USD per contract, from minOrderQty');
  assert.equal(anonymous.market('BTC/USDT').spot, true);

  // With credentials ccxt's bybit.fetchCurrencies signs /v5/asset/coin/query-info on every load:
  // the node's `fetchCurrencies: false` option does not stop it (Binance's code reads that option, Bybit's does not).
  sim.resetCounts();
  await exchange(account()).loadMarkets();
  assert.equal(sim.requestCount({ path: '/v5/asset/coin/query-info' }), 1);
  assert.equal(sim.requestCount(), 3, "the node's linear pages plus the coin list (the node's market template holds no credentials, so it skips it)");
});

test('signatures: good, wrong secret (10004), unknown key (10003), stale timestamp (10002); a passphrase plays no part', async () => {
  const creds = account();
  const good = await exchange({ ...creds, password: 'irrelevant' } as Creds).fetchBalance();
  assert.equal(good['USDT']?.total, 10000);

  const wrong = await failure(exchange({ apiKey: creds.apiKey, secret: 'wrong' }).fetchBalance());
  assert.ok(wrong instanceof ccxt.AuthenticationError);
  assert.match(wrong.message, /"retCode":10004,"retMsg":"error sign! origin_string\[\d+key-/, 'Bybit echoes the signed string, API key included');
  assert.equal(await errorClass(exchange({ apiKey: 'nobody', secret: 'x' }).fetchBalance()), 'AuthenticationError');
  const stale = exchange(creds);
  stale.options['timeDifference'] = 10_000;
  assert.equal(await errorClass(stale.fetchBalance()), 'InvalidNonce', '10002 outside recv_window');

  const byHand = await signed(creds, 'GET', '/v5/account/wallet-balance', { accountType: 'UNIFIED' });
  assert.equal(byHand.status, 200);
  assert.equal(byHand.json.retCode, 0);
  assert.equal(byHand.json.retMsg, 'OK');
  assert.deepEqual(byHand.json.retExtInfo, {});
  assert.equal(typeof byHand.json.time, 'number');
  const badKey = await signed({ apiKey: 'nobody', secret: 'x' }, 'GET', '/v5/account/wallet-balance', { accountType: 'UNIFIED' });
  assert.equal(badKey.status, 401);
  assert.deepEqual([badKey.json.retCode, badKey.json.retMsg], [10003, 'API key is invalid.']);
  const badSign = await signed(creds, 'POST', '/v5/order/create', { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01' }, { secret: 'nope' });
  assert.deepEqual([badSign.status, badSign.json.retCode], [401, 10004]);
  const ahead = await signed(creds, 'GET', '/v5/account/wallet-balance', { accountType: 'UNIFIED' }, { timestamp: Date.now() + 5_000 });
  assert.equal(ahead.json.retCode, 10002);
  assert.match(ahead.json.retMsg, /recv_window/);
  assert.equal(sim.orders(creds.apiKey).length, 0);
});

test('account type: the first private call asks /v5/user/query-api and /v5/account/info once (UTA), then never again', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  sim.resetCounts();
  await ex.fetchBalance();
  await ex.fetchBalance();
  assert.equal(sim.requestCount({ path: '/v5/user/query-api' }), 1);
  assert.equal(sim.requestCount({ path: '/v5/account/info' }), 1);
  assert.equal(sim.requestCount({ operation: 'balance' }), 2);
  assert.equal(ex.options['enableUnifiedAccount'], true);
  assert.equal(ex.options['unifiedMarginStatus'], 5);
});

test('create answers only {orderId, orderLinkId}: ccxt returns an order with no status and no fill', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  const order = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-1' });
  assert.equal(order.clientOrderId, 'mkt-1');
  assert.ok(order.id);
  assert.equal(order.status, undefined);
  assert.equal(order.filled, undefined);
  assert.equal(order.average, undefined);
  assert.deepEqual(Object.keys(order.info).sort(), ['orderId', 'orderLinkId']);
  const post = sent.find((s) => s.method === 'POST');
  assert.match(post?.url ?? '', /\/v5\/order\/create$/);
  assert.deepEqual(JSON.parse(post?.body ?? '{}'), { symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', orderLinkId: 'mkt-1', category: 'linear', qty: '0.01' });

  // The fill is there, visible to a lookup by orderLinkId: at the mark, taker fee 0.055 %.
  const raw = await rawOrder(creds, 'mkt-1');
  assert.equal(raw?.['orderStatus'], 'Filled');
  assert.equal(raw?.['avgPrice'], '60000.00');
  assert.equal(raw?.['cumExecQty'], '0.010');
  assert.deepEqual(raw?.['cumFeeDetail'], { USDT: '0.33000000' });
  const [view] = sim.orders(creds.apiKey);
  assert.deepEqual([view?.status, view?.amount, view?.filled, view?.average, view?.type], ['filled', 0.01, 0.01, 60000, 'market']);
});

test('fetchOrder by client id: ccxt refuses without acknowledged, and with it ignores clientOrderId (first open order, or a TypeError)', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'fo-entry' });

  // What the node calls: exchange.fetchOrder(undefined, symbol, {clientOrderId}).
  const sentBefore = sent.length;
  const refused = await failure(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'fo-entry' }));
  assert.ok(refused instanceof ccxt.ArgumentsRequired, String(refused));
  assert.match(refused.message, /acknowledged/);
  assert.equal(sent.length, sentBefore, 'refused locally, nothing sent');

  // acknowledged: true sends /v5/order/realtime with clientOrderId (not orderLinkId) and no order id...
  const none = await failure(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'fo-entry', acknowledged: true }));
  assert.ok(none instanceof TypeError, 'no open order: ccxt builds its OrderNotFound message from id.toString() and crashes');
  assert.match(sent.at(-1)?.url ?? '', /\/v5\/order\/realtime\?symbol=BTCUSDT&category=linear&clientOrderId=fo-entry$/);

  // ...so with any open order on the symbol it returns that one instead.
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { clientOrderId: 'fo-sl', stopLossPrice: 58000 });
  const wrong = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'fo-entry', acknowledged: true });
  assert.equal(wrong.clientOrderId, 'fo-sl', 'asked for fo-entry, got the open stop');
  assert.equal(wrong.id, sl.id);

  // The raw parameter Bybit reads is orderLinkId: open and recently filled orders are both found.
  const entry = await ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'fo-entry', acknowledged: true });
  assert.deepEqual([entry.clientOrderId, entry.status, entry.filled, entry.average], ['fo-entry', 'closed', 0.01, 60000]);
  const stop = await ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'fo-sl', acknowledged: true, trigger: true });
  assert.deepEqual([stop.status, stop.info['orderStatus'], stop.triggerPrice, stop.stopLossPrice], ['open', 'Untriggered', 58000, 58000]);
  assert.match(sent.at(-1)?.url ?? '', /\/v5\/order\/realtime\?symbol=BTCUSDT&category=linear&orderFilter=StopOrder&orderLinkId=fo-sl$/);
  const byId = await ex.fetchOrder(String(sl.id), BTC, { acknowledged: true });
  assert.equal(byId.clientOrderId, 'fo-sl');
  // An orderLinkId never used: an empty list, which ccxt turns into the same TypeError (it has no id to print).
  assert.ok((await failure(ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'never', acknowledged: true }))) instanceof TypeError);
  assert.equal(await errorClass(ex.fetchOrder('no-such-id', BTC, { acknowledged: true })), 'OrderNotFound');

  // The history endpoint (fetchClosedOrder / fetchCanceledAndClosedOrders) finds it by orderLinkId too.
  const closed = await ex.fetchCanceledAndClosedOrders(BTC, undefined, undefined, { orderLinkId: 'fo-entry' });
  assert.deepEqual(closed.map((o) => o.clientOrderId), ['fo-entry']);
  const open = await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true });
  assert.deepEqual(open.map((o) => o.clientOrderId), ['fo-sl']);
});

test('orderLinkId is unique forever: a filled, cancelled or conditional order\'s id is refused (110072, a plain InvalidOrder)', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' });
  const again = await failure(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' }));
  assert.ok(again instanceof ccxt.InvalidOrder);
  assert.ok(!(again instanceof ccxt.DuplicateOrderId), 'ccxt maps 110072 to InvalidOrder, not DuplicateOrderId');
  assert.match(again.message, /"retCode":110072,"retMsg":"OrderLinkedID is duplicate"/);
  // The node's classifier recognises Bybit's answer as a taken client id, so a resend looks the order up.
  assert.equal(normaliseError(again).duplicateClientId, true);
  assert.equal(normaliseError(again).code, 'invalid_order');

  const resting = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 55000, { clientOrderId: 'dup-2' });
  await ex.cancelOrder(String(resting.id), BTC);
  assert.equal((await rawOrder(creds, 'dup-2'))?.['orderStatus'], 'Cancelled');
  assert.equal(await errorClass(ex.createOrder(BTC, 'limit', 'buy', 0.01, 55000, { clientOrderId: 'dup-2' })), 'InvalidOrder');
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { clientOrderId: 'dup-3', stopLossPrice: 50000 });
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-3' })), 'InvalidOrder', 'one namespace for regular and conditional orders');
  assert.equal(await errorClass(ex.cancelOrder(String(resting.id), BTC)), 'OrderNotFound', '110001');
  assert.deepEqual(sim.orders(creds.apiKey).map((o) => o.clientOrderId), ['dup-1', 'dup-2', 'dup-3']);
});

test('stopLossPrice / takeProfitPrice become conditional orders (triggerDirection, reduceOnly) that fire on the mark', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'e1' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { clientOrderId: 'e1-sl', stopLossPrice: 58000, reduceOnly: true });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { clientOrderId: 'e1-tp', takeProfitPrice: 63000, reduceOnly: true });
  const bodies = sent.filter((s) => s.method === 'POST').map((s) => JSON.parse(s.body ?? '{}') as Record<string, unknown>);
  assert.deepEqual(bodies[1], { symbol: 'BTCUSDT', side: 'Sell', orderType: 'Market', orderLinkId: 'e1-sl', category: 'linear', qty: '0.01', triggerDirection: 2, triggerPrice: '58000', reduceOnly: true });
  assert.equal(bodies[2]?.['triggerDirection'], 1);
  assert.equal(bodies[2]?.['orderFilter'], undefined, 'orderFilter is spot-only; ccxt sends none for linear');
  const sl = await rawOrder(creds, 'e1-sl');
  assert.deepEqual([sl?.['orderStatus'], sl?.['stopOrderType'], sl?.['triggerPrice'], sl?.['triggerBy']], ['Untriggered', 'Stop', '58000.00', 'LastPrice']);
  assert.equal(sim.requestCount({ operation: 'place_trigger', apiKey: creds.apiKey }), 2);

  // The wrong side of the price: 110092 / 110093, InvalidOrder.
  const rising = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 59000, reduceOnly: true }));
  assert.ok(rising instanceof ccxt.InvalidOrder);
  assert.match(rising.message, /"retCode":110092,"retMsg":"expect Rising, but trigger_price\[5900000000000\] <= current\[6000000000000\]\?\?LastPrice"/);
  assert.match(String(await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 61000, reduceOnly: true }))), /110093/);

  sim.setMarkPrice(BTC, 57900);
  const fired = await rawOrder(creds, 'e1-sl');
  assert.deepEqual([fired?.['orderStatus'], fired?.['avgPrice'], fired?.['cumExecQty']], ['Filled', '57900.00', '0.010']);
  assert.equal(fired?.['orderId'], sl?.['orderId'], 'UTA: the order keeps its id through the trigger');
  assert.deepEqual(await ex.fetchPositions([BTC]).then((ps) => ps.map((p) => p.contracts)), [0]);
  assert.equal((await rawOrder(creds, 'e1-tp'))?.['orderStatus'], 'Untriggered', 'Bybit does not cancel the sibling conditional order');
  sim.setMarkPrice(BTC, 63500);
  assert.equal((await rawOrder(creds, 'e1-tp'))?.['orderStatus'], 'Deactivated', 'fired with nothing left to reduce');
  const views = sim.orders(creds.apiKey);
  assert.deepEqual(views.map((o) => [o.clientOrderId, o.type, o.status]), [['e1', 'market', 'filled'], ['e1-sl', 'stop_loss', 'filled'], ['e1-tp', 'take_profit', 'canceled']]);
});

test('both stopLossPrice and takeProfitPrice at once go to /v5/position/trading-stop, which answers {} (no order id)', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.02, undefined, { clientOrderId: 'oco-e' });
  const both = await ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { stopLossPrice: 57000, takeProfitPrice: 64000 });
  assert.equal(both.id, undefined);
  const post = sent.at(-1);
  assert.match(post?.url ?? '', /\/v5\/position\/trading-stop$/);
  assert.deepEqual(JSON.parse(post?.body ?? '{}'), { symbol: 'BTCUSDT', stopLoss: '57000', slOrderType: 'Market', slSize: '0.02', takeProfit: '64000', tpOrderType: 'Market', tpSize: '0.02', tpslMode: 'Partial', category: 'linear' });
  const stops = await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true });
  assert.deepEqual(stops.map((o) => o.info['stopOrderType']).sort(), ['PartialStopLoss', 'PartialTakeProfit']);
  sim.setMarkPrice(BTC, 64100);
  assert.deepEqual(sim.positions(creds.apiKey), []);
  assert.deepEqual(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true }), [], 'closing the position cancels its TP/SL');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { stopLossPrice: 57000, takeProfitPrice: 64000 })), 'BadRequest', 'no position: 10001');
});

test('attached TP/SL on the entry (takeProfit / stopLoss): the position carries them and Bybit makes the orders', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  const entry = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'att-1', stopLoss: { triggerPrice: 58000 }, takeProfit: { triggerPrice: 63000 } });
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? '{}'), { symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', orderLinkId: 'att-1', category: 'linear', qty: '0.01', stopLoss: '58000', takeProfit: '63000' });
  const [position] = await ex.fetchPositions([BTC]);
  assert.deepEqual([position?.stopLossPrice, position?.takeProfitPrice], [58000, 63000]);
  const legs = await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true });
  assert.deepEqual(legs.map((o) => [o.info['stopOrderType'], o.info['parentOrderLinkId'], o.clientOrderId, o.side, o.triggerPrice]).sort(), [
    ['StopLoss', 'att-1', undefined, 'sell', 58000],
    ['TakeProfit', 'att-1', undefined, 'sell', 63000],
  ]);
  assert.deepEqual(sim.orders(creds.apiKey).filter((o) => o.parentId).map((o) => [o.type, o.amount, o.parentId]).sort(), [['stop_loss', null, entry.id], ['take_profit', null, entry.id]]);

  sim.setMarkPrice(BTC, 57950);
  assert.deepEqual(sim.positions(creds.apiKey), []);
  const after = await signed(creds, 'GET', '/v5/order/history', { category: 'linear', symbol: 'BTCUSDT', orderFilter: 'StopOrder' });
  assert.deepEqual((after.json.result['list'] as Array<Record<string, unknown>>).map((o) => [o['stopOrderType'], o['orderStatus']]).sort(), [['StopLoss', 'Filled'], ['TakeProfit', 'Deactivated']]);

  const badTp = await failure(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { takeProfit: { triggerPrice: 57000 } }));
  assert.ok(badTp instanceof ccxt.BadRequest);
  assert.match(badTp.message, /TakeProfit:5700000000000 set for Buy position should be higher than base_price:5795000000000\?\?LastPrice/);
  // trading-stop on a held position (Full mode) sets the position's pair.
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const ts = await signed(creds, 'POST', '/v5/position/trading-stop', { category: 'linear', symbol: 'BTCUSDT', tpslMode: 'Full', positionIdx: 0, stopLoss: '56000' });
  assert.equal(ts.json.retCode, 0, JSON.stringify(ts.json));
  assert.equal((await ex.fetchPositions([BTC]))[0]?.stopLossPrice, 56000);
});

test('reduce-only: nothing to reduce or the wrong side is 110017 (InvalidOrder); too much is cut to the position', async () => {
  const creds = account();
  const ex = exchange(creds);
  const zero = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true }));
  assert.ok(zero instanceof ccxt.InvalidOrder);
  assert.match(zero.message, /"retCode":110017,"retMsg":"current position is zero, cannot fix reduce-only order qty"/);
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000 })), 'InvalidOrder', 'a reduce-only stop with no position too');
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  assert.match(String(await failure(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { reduceOnly: true }))), /110017.*Reduce-only rule not satisfied/);
  await ex.createOrder(BTC, 'market', 'sell', 0.05, undefined, { reduceOnly: true, clientOrderId: 'ro-cut' });
  assert.deepEqual([(await rawOrder(creds, 'ro-cut'))?.['qty'], (await rawOrder(creds, 'ro-cut'))?.['orderStatus']], ['0.010', 'Filled']);
  assert.deepEqual(sim.positions(creds.apiKey), []);
});

test('hedge mode: positionIdx is required (10001 "position idx not match position mode"); ccxt hedged:true sends 1 / 2', async () => {
  const sent: Sent[] = [];
  const creds = account({ hedge: true });
  const ex = exchange(creds, { sent });
  const mismatch = await failure(ex.createOrder(BTC, 'market', 'buy', 0.01));
  assert.ok(mismatch instanceof ccxt.BadRequest);
  assert.match(mismatch.message, /"retCode":10001,"retMsg":"position idx not match position mode"/);

  await ex.createOrder(BTC, 'market', 'buy', 0.02, undefined, { hedged: true, clientOrderId: 'h-long' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, clientOrderId: 'h-short' });
  assert.deepEqual(sent.filter((s) => s.method === 'POST').map((s) => (JSON.parse(s.body ?? '{}') as Record<string, unknown>)['positionIdx']), [undefined, 1, 2]);
  const positions = await ex.fetchPositions([BTC]);
  assert.deepEqual(positions.map((p) => [p.side, p.contracts, p.hedged]), [['long', 0.02], ['short', 0.01]].map(([s, c]) => [s, c, true]));

  // Closing the long: ccxt flips the side for positionIdx and drops reduceOnly (a Sell on idx 1 can only close).
  await ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { hedged: true, reduceOnly: true, clientOrderId: 'h-close' });
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? '{}'), { symbol: 'BTCUSDT', side: 'Sell', orderType: 'Market', orderLinkId: 'h-close', category: 'linear', qty: '0.02', positionIdx: 1 });
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.side, p.amount]), [['short', 0.01]]);
  assert.deepEqual(sim.orders(creds.apiKey).map((o) => o.positionSide), ['long', 'short', 'long']);
  // A hedge stop-loss for the short: a Buy trigger on idx 2.
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true, reduceOnly: true, stopLossPrice: 62000, clientOrderId: 'h-sl' });
  assert.equal((await rawOrder(creds, 'h-sl'))?.['positionIdx'], 2);

  // switch-mode: one-way → hedge by coin; symbols with a position keep their mode; the same mode again is 110025.
  const other = account();
  const ex2 = exchange(other);
  await ex2.createOrder(SOL, 'market', 'buy', 1);
  await ex2.setPositionMode(true);
  assert.equal(await errorClass(ex2.createOrder(BTC, 'market', 'buy', 0.01)), 'BadRequest', 'BTCUSDT is hedge now: positionIdx 0 refused');
  await ex2.createOrder(SOL, 'market', 'buy', 1, undefined, { clientOrderId: 'still-one-way' });
  assert.match(String(await failure(ex2.setPositionMode(true, SOL))), /110024/, 'SOLUSDT has a position: it kept one-way');
  assert.equal(await errorClass(ex2.setPositionMode(true, BTC)), 'NoChange', '110025 Position mode is not modified');
});

test('leverage: default 10; setting it works once, the same value again is 110043 "leverage not modified" (BadRequest); above max is 10001', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  assert.equal(sim.leverage(creds.apiKey, BTC), 10);
  await ex.setLeverage(20, BTC);
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? '{}'), { symbol: 'BTCUSDT', buyLeverage: '20', sellLeverage: '20', category: 'linear' });
  assert.equal(sim.leverage(creds.apiKey, BTC), 20);
  const twice = await failure(ex.setLeverage(20, BTC));
  assert.ok(twice instanceof ccxt.BadRequest);
  assert.match(twice.message, /"retCode":110043,"retMsg":"leverage not modified"/);
  assert.equal(await errorClass(ex.setLeverage(101, BTC)), 'BadRequest');
  assert.equal(await errorClass(ex.setLeverage(51, '1000PEPE/USDT:USDT')), 'BadRequest', 'leverageFilter.maxLeverage 50');
  const oneWay = await signed(creds, 'POST', '/v5/position/set-leverage', { category: 'linear', symbol: 'BTCUSDT', buyLeverage: '5', sellLeverage: '6' });
  assert.equal(oneWay.json.retCode, 10001);
  await ex.setLeverage(12.5, BTC);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.leverage, 12.5);
  assert.equal(position?.initialMargin, 48, '600 / 12.5');
});

test('margin mode is account-wide on a unified account: setMarginMode goes to /v5/account/set-margin-mode', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.setMarginMode('isolated', BTC);
  assert.match(sent.at(-1)?.url ?? '', /\/v5\/account\/set-margin-mode$/);
  assert.deepEqual(JSON.parse(sent.at(-1)?.body ?? '{}'), { setMarginMode: 'ISOLATED_MARGIN' });
  const info = await signed(creds, 'GET', '/v5/account/info', {});
  assert.equal(info.json.result['marginMode'], 'ISOLATED_MARGIN');
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  assert.equal(sim.positions(creds.apiKey)[0]?.marginMode, 'isolated');
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.marginMode, undefined, 'ccxt reads no margin mode from Bybit positions (tradeMode is deprecated)');
  await ex.setMarginMode('cross');
  assert.equal(await errorClass(ex.setMarginMode('portfolio')), 'BadRequest', 'not simulated');
});

test('balance and positions through ccxt follow fills, fees and the mark', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  let balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, 9999.67, '10000 − 0.055 % of 600');
  assert.equal(balance['USDT']?.used, 60, 'totalPositionIM: 600 / 10x (availableToWithdraw is "" on UTA, so ccxt sums the IMs)');
  assert.equal(balance['USDT']?.free, 9939.67);

  sim.setMarkPrice(BTC, 61000);
  const [long] = await ex.fetchPositions([BTC]);
  assert.deepEqual([long?.side, long?.contracts, long?.entryPrice, long?.markPrice, long?.unrealizedPnl, long?.notional, long?.leverage], ['long', 0.01, 60000, 61000, 10, 600, 10]);
  const all = await ex.fetchPositions();
  assert.deepEqual(all.map((p) => p.symbol), [BTC], 'by settleCoin only held positions are listed');
  const wallet = await signed(creds, 'GET', '/v5/account/wallet-balance', { accountType: 'UNIFIED' });
  const row = (wallet.json.result['list'] as Array<Record<string, unknown>>)[0];
  assert.equal(row?.['totalEquity'], '10009.67000000');
  assert.equal(row?.['totalPerpUPL'], '10.00000000');

  await ex.createOrder(SOL, 'market', 'sell', 2);
  const [short] = await ex.fetchPositions([SOL]);
  assert.deepEqual([short?.side, short?.contracts, short?.entryPrice], ['short', 2, 150]);
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true });
  await ex.createOrder(SOL, 'market', 'buy', 2, undefined, { reduceOnly: true });
  balance = await ex.fetchBalance();
  const fees = 600 * 0.00055 + 610 * 0.00055 + 2 * 300 * 0.00055;
  assert.equal(Number(balance['USDT']?.total?.toFixed(6)), Number((10000 + 10 - fees).toFixed(6)));
  assert.deepEqual(await ex.fetchPositions(), []);
  assert.deepEqual((await ex.fetchPositions([BTC])).map((p) => [p.contracts, p.side]), [[0, undefined]], 'by symbol the empty row is still there');
});

test('a resting limit holds margin and fills as maker when the mark crosses it; a conditional limit rests once triggered', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'limit', 'buy', 0.01, 59000, { clientOrderId: 'rest-1' });
  let balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.used, 59, 'totalOrderIM: 590 / 10x');
  sim.setMarkPrice(BTC, 58900);
  const filled = await ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'rest-1', acknowledged: true });
  assert.deepEqual([filled.status, filled.average, filled.fee?.cost], ['closed', 59000, 0.118]);
  balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, Number((10000 - 590 * 0.0002).toFixed(8)));

  await ex.createOrder(BTC, 'limit', 'buy', 0.01, 60500, { clientOrderId: 'cond-lim', triggerPrice: 60000, triggerDirection: 'above' });
  sim.setMarkPrice(BTC, 60100);
  const raw = await rawOrder(creds, 'cond-lim');
  assert.deepEqual([raw?.['orderStatus'], raw?.['avgPrice']], ['Filled', '60100.00'], 'marketable once triggered: fills at the mark');
  await ex.createOrder(BTC, 'limit', 'buy', 0.01, 59000, { clientOrderId: 'cond-rest', triggerPrice: 61000, triggerDirection: 'above' });
  sim.setMarkPrice(BTC, 61000);
  assert.equal((await rawOrder(creds, 'cond-rest'))?.['orderStatus'], 'New');
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'cond-rest')?.status, 'triggered');
});

test('order rules by hand: qty step, min and max, min notional 110094, price tick, triggerDirection, linkId, margin 110007', async () => {
  const creds = account({ usdt: 100 });
  const order = (extra: Record<string, unknown>) => signed(creds, 'POST', '/v5/order/create', { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.001', ...extra });
  const code = async (extra: Record<string, unknown>) => (await order(extra)).json;
  assert.equal((await code({ qty: '0.0015' })).retCode, 10001);
  assert.match((await code({ qty: '0.0001' })).retMsg, /too small, order_qty:10000 < min_qty:100000/);
  assert.match((await code({ qty: '501' })).retMsg, /too large, order_qty:50100000000 > max_qty:50000000000/, 'maxMktOrderQty for market orders');
  assert.equal((await code({ symbol: '1000PEPEUSDT', qty: '100' })).retCode, 110094, '100 × 0.01 = 1 USDT < minNotionalValue 5');
  assert.equal((await code({ symbol: 'SOLUSDT', qty: '0.1' })).retCode, 0, '0.1 × 150 = 15 USDT');
  assert.equal((await code({ orderType: 'Limit', price: '58000.05' })).retCode, 10001);
  assert.equal((await code({ triggerPrice: '61000' })).retCode, 10001, 'conditional without triggerDirection');
  assert.equal((await code({ orderLinkId: 'has space' })).retCode, 10001);
  assert.equal((await code({ qty: '0.1' })).retCode, 110007, '6000 notional needs 600 at 10x, the wallet has 100');
  assert.equal((await code({ category: 'spot' })).retCode, 10001);
  assert.equal((await code({ symbol: 'DOGEUSDT' })).retCode, 10001);
  const accepted = await order({ orderLinkId: 'ok-1' });
  assert.deepEqual(Object.keys(accepted.json.result).sort(), ['orderId', 'orderLinkId']);
  assert.equal(accepted.json.result['orderLinkId'], 'ok-1');
  const realtime = await signed(creds, 'GET', '/v5/order/realtime', { category: 'linear' });
  assert.match(realtime.json.retMsg, /symbol or settleCoin or baseCoin/);
  const ccxtSide = exchange(creds);
  assert.equal(await errorClass(ccxtSide.createOrder(BTC, 'market', 'buy', 0.1)), 'InsufficientFunds');
});

test('faults: 10006 rate limit, 500, 503 after processing, timeouts, reject', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  const placed = () => sim.orders(creds.apiKey).length;
  const order = (id?: string) => ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, id ? { clientOrderId: id } : {});

  sim.fault({ kind: 'rate_limit', operation: 'place_order', apiKey: creds.apiKey });
  const limited = await failure(order());
  assert.ok(limited instanceof ccxt.RateLimitExceeded, String(limited));
  assert.match(limited.message, /"retCode":10006,"retMsg":"Too many visits!"/);
  sim.fault({ kind: 'http_500', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'ExchangeNotAvailable');
  assert.equal(placed(), 0);

  sim.fault({ kind: 'http_503_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order('unknown-1')), 'RequestTimeout', '10016 "Request timeout": outcome unknown');
  assert.equal(placed(), 1, 'the order exists although the client saw an error');

  const hasty = exchange(creds, { timeout: 300 });
  await hasty.loadMarkets();
  await hasty.fetchBalance();
  sim.fault({ kind: 'timeout', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.01)), 'RequestTimeout');
  assert.equal(placed(), 1);
  sim.fault({ kind: 'timeout_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'lost-1' })), 'RequestTimeout');
  assert.equal(placed(), 2);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'lost-1', acknowledged: true })).status, 'closed');

  sim.fault({ kind: 'reject', operation: 'place_trigger', apiKey: creds.apiKey, code: 110009, msg: 'The number of stop orders exceeds maximum limit allowed', times: 2 });
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 55000 })), 'InvalidOrder');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 55000 })), 'InvalidOrder');
  sim.fault({ kind: 'reject', operation: 'query_order', code: 10016, msg: 'System error. Please try again later.' });
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { orderLinkId: 'lost-1', acknowledged: true })), 'ExchangeError');
  sim.fault({ kind: 'reject', operation: 'balance', code: 10002, msg: 'invalid request, please check your server timestamp or recv_window param' });
  assert.equal(await errorClass(ex.fetchBalance()), 'InvalidNonce');
  sim.fault({ kind: 'reject', operation: 'positions', code: 10005, msg: 'Permission denied, please check your API key permissions.' });
  assert.equal(await errorClass(ex.fetchPositions([BTC])), 'PermissionDenied');
  sim.fault({ kind: 'reject', operation: 'leverage', code: 110013, msg: 'Cannot set leverage due to risk limit level.' });
  assert.equal(await errorClass(ex.setLeverage(30, BTC)), 'BadRequest');
  sim.fault({ kind: 'reject', operation: 'cancel_order', code: 110001, msg: 'order not exists or too late to cancel' });
  assert.equal(await errorClass(ex.cancelOrder('x', BTC)), 'OrderNotFound');
  sim.fault({ kind: 'reject', operation: 'markets', code: 10016, msg: 'Server error.' });
  assert.equal(await errorClass(exchange({}).loadMarkets()), 'ExchangeError');
  assert.equal(placed(), 2);
});

test('X-Bapi-Limit headers on every private answer; with limits enforced the 11th order in a second is 10006', async () => {
  const creds = account();
  const first = await signed(creds, 'GET', '/v5/position/list', { category: 'linear', settleCoin: 'USDT' });
  assert.equal(first.headers.get('x-bapi-limit'), '50');
  assert.equal(first.headers.get('x-bapi-limit-status'), '49');
  assert.ok(Number(first.headers.get('x-bapi-limit-reset-timestamp')) > 0);

  const strict = await startBybitSim({ enforceRateLimits: true, accounts: [creds] });
  try {
    const ex = exchange(creds, { base: strict.url });
    await ex.loadMarkets();
    const results = await Promise.all(Array.from({ length: 11 }, () => errorClass(ex.createOrder(BTC, 'market', 'buy', 0.001))));
    assert.deepEqual(results.filter((r) => r === 'resolved').length, 10);
    assert.deepEqual(results.filter((r) => r !== 'resolved'), ['RateLimitExceeded']);
    assert.equal(strict.orders(creds.apiKey).length, 10);
  } finally {
    await strict.close();
  }
});

test('views: base-coin amounts, symbols as ccxt names them, requests counted by operation', async () => {
  const creds = account();
  const ex = exchange(creds);
  sim.resetCounts();
  await ex.createOrder('1000PEPE/USDT:USDT', 'market', 'buy', 1000, undefined, { clientOrderId: 'pepe-1' });
  await ex.createOrder(SOL, 'market', 'buy', 0.5, undefined, { clientOrderId: 'sol-1' });
  const orders = sim.orders(creds.apiKey);
  assert.deepEqual(orders.map((o) => [o.symbol, o.amount, o.filled]), [['1000PEPE/USDT:USDT', 1000, 1000], [SOL, 0.5, 0.5]]);
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.symbol, p.side, p.amount, p.entryPrice, p.leverage]), [['1000PEPE/USDT:USDT', 'long', 1000, 0.01, 10], [SOL, 'long', 0.5, 150, 10]]);
  assert.equal(sim.markPrice('SOLUSDT'), 150, 'the Bybit id works too');
  assert.equal(sim.requestCount({ operation: 'place_order', apiKey: creds.apiKey }), 2);
  assert.equal(sim.requestCount({ method: 'POST', path: '/v5/order/create' }), 2);
  assert.ok(sim.symbols.includes(BTC) && sim.symbols.includes('ETH/USDT:USDT') && sim.symbols.includes(SOL));
});

test("the node's trader: a filled market order is reported filled, and every order is found by its orderLinkId", async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  await loadCcxt();
  const trader = ccxtTrader(ex, new Credentials(creds.apiKey, creds.secret));
  // Bybit answers a create with ids only; the trader's one follow-up lookup (by orderLinkId) reads the fill.
  const entry = await trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'node1', reduceOnly: false });
  assert.deepEqual([entry.status, entry.filled, entry.average, entry.clientOrderId], ['closed', 0.01, 60000, 'node1']);
  const sl = await trader.placeOrder({ symbol: BTC, side: 'sell', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'node1SL', reduceOnly: true, trigger: { kind: 'stop_loss', price: 58000 } });
  assert.equal(sl.status, 'unknown', 'no follow-up lookup for triggers');
  assert.deepEqual([(await trader.findOrder(BTC, 'node1SL', true))?.status, (await trader.findOrder(BTC, 'node1', false))?.status], ['open', 'closed']);
  assert.equal(await trader.findOrder(BTC, 'never1', false), null, 'an id never used is none, not an error');
  const again = await failure(trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'node1', reduceOnly: false }));
  assert.ok(again instanceof ExchangeFailure);
  assert.equal(again.duplicateClientId, true, '110072 is recognised as a duplicate client id');
  assert.equal(sim.orders(creds.apiKey).length, 2);
});

test("the node's trader learns a hedge-mode account once, even from a stop-loss and a take-profit refused together", async () => {
  const creds = account({ hedge: true });
  const ex = exchange(creds);
  await ex.loadMarkets();
  await loadCcxt();
  // The position exists already (a resend after a restart: the entry is found by lookup, so nothing taught this trader the mode).
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'hedge1', hedged: true });
  const trader = ccxtTrader(ex, new Credentials(creds.apiKey, creds.secret));
  const leg = (kind: 'stop_loss' | 'take_profit', price: number) =>
    trader.placeOrder({ symbol: BTC, side: 'sell', type: 'market', amount: 0.01, price: undefined, clientOrderId: `hedge1${kind === 'stop_loss' ? 'SL' : 'TP'}`, reduceOnly: true, trigger: { kind, price } });
  const [sl, tp] = await Promise.allSettled([leg('stop_loss', 58000), leg('take_profit', 63000)]);
  assert.deepEqual([sl.status, tp.status], ['fulfilled', 'fulfilled'], JSON.stringify([sl, tp]));
  const legs = sim.orders(creds.apiKey).filter((o) => o.type === 'stop_loss' || o.type === 'take_profit');
  assert.deepEqual(legs.map((o) => [o.type, o.positionSide, o.status]).sort(), [['stop_loss', 'long', 'open'], ['take_profit', 'long', 'open']]);
});

test("the node's trader asks again for a new market order's state until the exchange shows the fill", async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  await loadCcxt();
  const trader = ccxtTrader(ex, new Credentials(creds.apiKey, creds.secret));
  // Bybit answers the create with ids only; its first two lookups fail here (as a lookup that is not matched yet would).
  sim.fault({ kind: 'http_500', operation: 'query_order', apiKey: creds.apiKey, times: 2 });
  const entry = await trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'slow1', reduceOnly: false });
  assert.deepEqual([entry.status, entry.filled], ['closed', 0.01], 'reported filled, so its stop-loss and take-profit are placed');
  assert.equal(sim.requestCount({ operation: 'query_order', apiKey: creds.apiKey }), 3);
});
