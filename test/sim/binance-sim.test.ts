import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ccxt from 'ccxt';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import { startBinanceSim, type BinanceSim } from './binance-sim.js';
import { type Sent, errorClass, failure, idOf, recordRequests } from './ccxt-calls.js';
import { signedBinance } from './binance-signed.js';

/**
 * Drives the simulator with REAL, unmodified ccxt (binanceusdm pointed at it
 * by rewriting urls.api, plainly or the way the node redirects it), so what
 * passes here is what the project's ccxt code path will see.
 */

type Binance = InstanceType<typeof ccxt.binanceusdm>;
interface Creds {
  apiKey: string;
  secret: string;
}

const BTC = 'BTC/USDT:USDT';
/** ccxt types fetchOrder's id as string, but Binance's fetchOrder takes none when a clientOrderId is given. */
const NO_ID = undefined as unknown as string;
let sim: BinanceSim;

before(async () => {
  sim = await startBinanceSim();
});
afterEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  for (const [symbol, price] of Object.entries({ BTCUSDT: 60000, ETHUSDT: 3000, SOLUSDT: 150 })) sim.setMarkPrice(symbol, price);
});
after(async () => {
  await sim?.close();
});

function account(usdt?: number, positionMode?: 'one_way' | 'hedge'): Creds {
  const creds = { apiKey: `key-${randomUUID()}`, secret: `secret-${randomUUID()}` };
  sim.addAccount({ ...creds, ...(usdt === undefined ? {} : { usdt }), ...(positionMode === undefined ? {} : { positionMode }) });
  return creds;
}

const hedgeAccount = () => account(undefined, 'hedge');

function rewrite(urls: unknown, origin: string): unknown {
  if (typeof urls === 'string') return urls.replace(/^https?:\/\/[^/]+/, origin);
  if (urls && typeof urls === 'object') return Object.fromEntries(Object.entries(urls).map(([k, v]) => [k, rewrite(v, origin)]));
  return urls;
}

/**
 * A binanceusdm instance aimed at the simulator. Plain: every urls.api string
 * rewritten to the simulator's origin. `asNode`: redirected the way the node
 * does it (`redirectInstance`), which also keeps ccxt choosing Binance's USD-M
 * error table by URL as it does for https://fapi.binance.com — on a rewritten
 * host binance.getExceptionsByUrl finds no table and only the generic codes apply.
 */
function exchange(creds: Creds, opts: { timeout?: number; asNode?: boolean; sent?: Sent[]; base?: string } = {}): Binance {
  const base = opts.base ?? sim.url;
  const ex = new ccxt.binanceusdm({ ...creds, enableRateLimit: false, timeout: opts.timeout ?? 10_000, options: { fetchCurrencies: false } });
  if (opts.asNode) redirectInstance(ex, base);
  else ex.urls.api = rewrite(ex.urls.api, base) as Binance['urls']['api'];
  recordRequests(ex, opts.sent);
  return ex;
}

/** A signed request written by hand from Binance's spec, to test the protocol without ccxt. */
const signed = (creds: Creds, method: string, path: string, params: Record<string, string>, split?: { query: string[] }) => signedBinance(sim.url, creds, method, path, params, split);

test('markets load with exactly one exchangeInfo request and unified linear symbols', async () => {
  sim.resetCounts();
  const ex = exchange(account());
  await ex.loadMarkets();
  assert.equal(sim.requestCount('GET', '/fapi/v1/exchangeInfo'), 1);
  assert.equal(sim.requestCount(), 1, 'fetchCurrencies:false: no other request');
  for (const symbol of ['BTC/USDT:USDT', 'ETH/USDT:USDT', 'SOL/USDT:USDT']) assert.ok(ex.markets?.[symbol], symbol);
  const btc = ex.market(BTC);
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.swap && btc.linear, true);
  assert.equal(btc.precision.amount, 0.001);
  assert.equal(btc.precision.price, 0.1);
  assert.equal(btc.limits.cost?.min, 100);
  assert.equal(btc.limits.market?.max, 120);
});

test('a market order fills at the mark and is found again by its client id', async () => {
  const sent: Sent[] = [];
  const ex = exchange(account(), { sent });
  const order = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-1' });
  assert.equal(order.status, 'closed');
  assert.equal(order.filled, 0.01);
  assert.equal(order.average, 60000);
  assert.equal(order.cost, 600);
  assert.equal(order.clientOrderId, 'mkt-1');
  const post = sent.find((s) => s.method === 'POST');
  assert.match(post?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=BUY&newClientOrderId=mkt-1&newOrderRespType=RESULT&type=MARKET&quantity=0\.01&recvWindow=10000&signature=[0-9a-f]{64}$/);

  const found = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'mkt-1' });
  assert.equal(found.id, order.id);
  assert.equal(found.status, 'closed');
  const get = sent.at(-1);
  assert.equal(get?.method, 'GET');
  assert.match(get?.url ?? '', /\/fapi\/v1\/order\?timestamp=\d+&symbol=BTCUSDT&origClientOrderId=mkt-1&recvWindow=10000&signature=/);

  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'never-sent' })), 'OrderNotFound');
});

test("the node's instance settings keep no copy of the last response on the instance (ccxt does by default)", async () => {
  const creds = account();
  const asNode = new ccxt.binanceusdm({ ...creds, ...instanceSettings('binanceusdm', 10_000) });
  const plain = new ccxt.binanceusdm({ ...creds, enableRateLimit: false, options: { fetchCurrencies: false } });
  for (const ex of [asNode, plain]) redirectInstance(ex, sim.url);
  const order = await asNode.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'last-1' });
  assert.equal(order.status, 'closed');
  assert.equal(asNode.last_http_response, undefined);
  assert.equal(asNode.last_response_headers, undefined);
  await plain.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'last-2' });
  assert.match(String(plain.last_http_response), /"clientOrderId":"last-2"/, 'the control keeps it, so the settings are what removes it');
  assert.equal(typeof plain.last_response_headers, 'object');
  // Kraken's cancelOrder reads its last response back to classify an unknown order.
  assert.equal(instanceSettings('kraken', 10_000)['enableLastHttpResponse'], true);
});

test('every exchange whose ccxt code reads its last response back keeps it (the list follows ccxt upgrades)', () => {
  const src = join(dirname(fileURLToPath(import.meta.resolve('ccxt'))), 'src');
  const readers = readdirSync(src)
    .filter((f) => f.endsWith('.js') && /this\.last_(http_response|response_headers|json_response)\b/.test(readFileSync(join(src, f), 'utf8')))
    .map((f) => f.slice(0, -3));
  assert.ok(readers.includes('kraken'), `ccxt ${src}: ${readers.join(', ')}`);
  for (const id of readers) assert.equal(instanceSettings(id, 10_000)['enableLastHttpResponse'], true, `${id} reads this.last_* in its ccxt code`);
  assert.equal(instanceSettings('binanceusdm', 10_000)['enableLastHttpResponse'], false);
});

test("Binance's duplicate rule: a FILLED order's client id is accepted again, an OPEN one's is refused", async () => {
  const creds = account();
  const ex = exchange(creds);
  const table = exchange(creds, { asNode: true });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' });
  const again = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' });
  assert.equal(again.status, 'closed');
  const reused = sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'dup-1');
  assert.equal(reused.length, 2, 'the hole: the same client id placed twice');
  assert.notEqual(reused[0]?.orderId, reused[1]?.orderId);

  const open = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' });
  assert.equal(open.status, 'open');
  assert.equal(await errorClass(ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' })), 'ExchangeError');
  assert.equal(await errorClass(table.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' })), 'InvalidOrder');
  assert.equal(sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'dup-2').length, 1);

  const listed = await ex.fetchOpenOrders(BTC);
  assert.deepEqual(listed.map((o) => o.clientOrderId), ['dup-2']);
  const canceled = await ex.cancelOrder(idOf(open), BTC);
  assert.equal(canceled.status, 'canceled');
  assert.equal(await errorClass(ex.cancelOrder(idOf(open), BTC)), 'OrderNotFound', '-2011 Unknown order sent.');
  await ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' });
});

test('stop-loss and take-profit go to the algo endpoint, are fetched by client id, and fire on the mark', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'e1' });
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 'e1-sl' });
  const tp = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 63000, reduceOnly: true, clientOrderId: 'e1-tp' });
  const algoPosts = sent.filter((s) => s.method === 'POST' && s.url.endsWith('/fapi/v1/algoOrder'));
  assert.equal(algoPosts.length, 2);
  assert.match(algoPosts[0]?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=SELL&clientAlgoId=e1-sl&newOrderRespType=RESULT&type=STOP_MARKET&quantity=0\.01&triggerPrice=58000&reduceOnly=true&algoType=CONDITIONAL&recvWindow=10000&signature=/);
  assert.match(algoPosts[1]?.body ?? '', /&clientAlgoId=e1-tp&.*&type=TAKE_PROFIT_MARKET&.*&triggerPrice=63000&/);
  assert.equal(sl.status, 'open');
  assert.equal(sl.triggerPrice, 58000);
  assert.equal(tp.clientOrderId, 'e1-tp');

  const fetched = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1-sl', trigger: true });
  assert.equal(fetched.id, sl.id);
  assert.equal(fetched.status, 'open');
  assert.match(sent.at(-1)?.url ?? '', /\/fapi\/v1\/algoOrder\?timestamp=\d+&symbol=BTCUSDT&clientAlgoId=e1-sl&recvWindow=10000&signature=/);
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 57000, reduceOnly: true, clientOrderId: 'e1-sl' })), 'ExchangeError', 'open clientAlgoId is refused (-4116)');
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'nope', trigger: true })), 'OrderNotFound');
  assert.deepEqual((await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true })).map((o) => o.clientOrderId).sort(), ['e1-sl', 'e1-tp']);

  sim.setMarkPrice('BTCUSDT', 57900);
  const fired = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e1-sl', trigger: true });
  assert.equal(fired.status, 'closed');
  assert.equal(fired.info['algoStatus'], 'FINISHED');
  const exit = sim.orders(creds.apiKey).find((o) => o.kind === 'order' && String(o.orderId) === fired.info['actualOrderId']);
  assert.equal(exit?.status, 'FILLED');
  assert.equal(exit?.reduceOnly, true);
  assert.equal(exit?.avgPrice, '57900.0');
  assert.deepEqual(await ex.fetchPositions([BTC]), []);

  // Binance does not cancel the sibling: the take-profit stays open until cancelled.
  const canceled = await ex.cancelOrder(idOf(tp), BTC, { trigger: true });
  assert.equal(canceled.id, tp.id);
  assert.equal((await ex.fetchOrder(idOf(tp), BTC, { trigger: true })).status, 'canceled');
  assert.equal(await errorClass(ex.cancelOrder(idOf(tp), BTC, { trigger: true })), 'OrderNotFound');
});

test('a resting limit holds margin and fills (as maker) when the mark crosses it', async () => {
  const creds = account();
  const ex = exchange(creds);
  const order = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 59000, { clientOrderId: 'rest-1' });
  assert.equal(order.status, 'open');
  let balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.used, 29.5, 'open-order initial margin 590 / 20x');
  sim.setMarkPrice('BTCUSDT', 58900);
  const filled = await ex.fetchOrder(idOf(order), BTC);
  assert.equal(filled.status, 'closed');
  assert.equal(filled.average, 59000);
  balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, Number((10000 - 590 * 0.0002 - 1).toFixed(8)), 'maker fee, and 0.01 × (58900 − 59000) unrealised');
});

test('a stop that the mark already crossed, or a reduce-only order with nothing to reduce, is refused', async () => {
  const creds = account();
  const ex = exchange(creds);
  const table = exchange(creds, { asNode: true });
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true })), 'ExchangeError');
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true })), 'InvalidOrder', '-2022');
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 61000, reduceOnly: true })), 'OrderImmediatelyFillable', '-2021');
  assert.equal(sim.orders(creds.apiKey).length, 1);
});

test('margin: -2019 when the initial margin exceeds the available balance', async () => {
  const creds = account(100);
  const plain = exchange(creds);
  const table = exchange(creds, { asNode: true });
  // 0.1 BTC = 6000 USDT notional needs 300 USDT at the default 20x.
  assert.equal(await errorClass(plain.createOrder(BTC, 'market', 'buy', 0.1)), 'ExchangeError');
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'buy', 0.1)), 'InsufficientFunds');
  // ccxt truncates 0.0015 to 0.001 BTC: 60 USDT is under BTCUSDT's 100 USDT MIN_NOTIONAL (-4164).
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'buy', 0.0015)), 'InvalidOrder');
  assert.equal(sim.orders(creds.apiKey).length, 0);
  await plain.setLeverage(125, BTC);
  const order = await plain.createOrder(BTC, 'market', 'buy', 0.1);
  assert.equal(order.status, 'closed', '6000 / 125 = 48 USDT fits');
});

test('balance, positions and leverage parse to the numbers of the fill', async () => {
  const ex = exchange(account());
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  let balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.total, 9999.7, '10000 − 0.05% taker fee on 600');
  assert.equal(balance['USDT']?.used, 30, '600 / 20x');
  assert.equal(balance['USDT']?.free, 9969.7);

  sim.setMarkPrice('BTCUSDT', 61000);
  const [position] = await ex.fetchPositions([BTC]);
  assert.equal(position?.side, 'long');
  assert.equal(position?.contracts, 0.01);
  assert.equal(position?.entryPrice, 60000);
  assert.equal(position?.markPrice, 61000);
  assert.equal(position?.unrealizedPnl, 10);
  assert.equal(position?.notional, 610);
  assert.equal(position?.marginMode, 'cross');

  const leverage = (await ex.setLeverage(10, BTC)) as Record<string, unknown>;
  assert.equal(leverage['leverage'], 10);
  assert.equal(leverage['symbol'], 'BTCUSDT');
  balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.used, 61, '610 / 10x');
  assert.equal(await errorClass(ex.setLeverage(101, 'SOL/USDT:USDT')), 'BadRequest', 'SOLUSDT tops out at 100x (-4028)');

  await ex.createOrder('SOL/USDT:USDT', 'market', 'sell', 2);
  const [short] = await ex.fetchPositions(['SOL/USDT:USDT']);
  assert.equal(short?.side, 'short');
  assert.equal(short?.contracts, 2);
  assert.equal(short?.entryPrice, 150);
  assert.ok((short?.liquidationPrice ?? 0) > 150, 'a short is liquidated above its entry');
  await ex.createOrder('SOL/USDT:USDT', 'market', 'buy', 2, undefined, { reduceOnly: true });

  // Closing realises the PnL into the wallet.
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true });
  balance = await ex.fetchBalance();
  assert.equal(Number(balance['USDT']?.total?.toFixed(4)), Number((9999.7 + 10 - 610 * 0.0005 - 2 * 300 * 0.0005).toFixed(4)), '+10 PnL, minus taker fees');
  assert.deepEqual(await ex.fetchPositions(), []);
});

test('authentication: unknown key, wrong secret and a stale timestamp', async () => {
  const good = account();
  assert.equal(await errorClass(exchange({ apiKey: 'nobody', secret: 'x' }).fetchBalance()), 'AuthenticationError', '401 -2015');
  assert.equal(await errorClass(exchange({ apiKey: good.apiKey, secret: 'wrong' }).fetchBalance()), 'AuthenticationError', '-1022');
  const stale = exchange(good);
  stale.nonce = () => Date.now() - 60_000;
  assert.equal(await errorClass(stale.fetchBalance()), 'InvalidNonce', '-1021 outside recvWindow');

  const raw = await fetch(`${sim.url}/fapi/v3/account?timestamp=${Date.now()}&signature=00`, { headers: { 'X-MBX-APIKEY': 'nobody' } });
  assert.equal(raw.status, 401);
  assert.deepEqual(await raw.json(), { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
});

test('signatures follow the spec: query + body concatenated, parameters split across both', async () => {
  const creds = account();
  const split = await signed(creds, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '58000.0', newClientOrderId: 'raw-1' }, { query: ['symbol', 'side', 'type', 'timeInForce'] });
  assert.equal(split.status, 200, JSON.stringify(split.json));
  assert.equal(split.json['status'], 'NEW', 'default newOrderRespType is ACK');
  assert.ok(split.headers.get('x-mbx-used-weight-1m'));
  assert.ok(split.headers.get('x-mbx-order-count-1m'));

  const expect = async (params: Record<string, string>, code: number) => {
    const r = await signed(creds, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '58000.0', ...params });
    assert.equal(r.status, 400);
    assert.equal(r.json['code'], code, JSON.stringify(r.json));
  };
  await expect({ quantity: '0.0101' }, -1111);
  await expect({ price: '58000.001' }, -1111);
  await expect({ price: '58000.05' }, -4014);
  await expect({ symbol: 'SOLUSDT', quantity: '1', price: '150.005' }, -4014);
  await expect({ quantity: '0.001' }, -4164);
  await expect({ price: '70000.0' }, -4016);
  await expect({ side: 'SELL', price: '50000.0' }, -4024);
  await expect({ type: 'STOP_MARKET' }, -4120);
  await expect({ newClientOrderId: 'has space' }, -1100);
  await expect({ symbol: 'DOGEUSDT' }, -1121);
  assert.equal((await signed(creds, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: '1' })).json['code'], -2013);
});

test('faults: 429, 5xx before and after processing, timeouts before and after processing', async () => {
  const creds = account();
  const ex = exchange(creds);
  const order = () => ex.createOrder(BTC, 'market', 'buy', 0.01);
  const placed = () => sim.orders(creds.apiKey).length;

  sim.fault({ kind: 'rate_limit', path: '/fapi/v1/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'DDoSProtection', 'ccxt turns any HTTP 429 into DDoSProtection');
  sim.fault({ kind: 'http_500', path: '/fapi/v1/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'ExchangeNotAvailable');
  assert.equal(placed(), 0);

  sim.fault({ kind: 'http_503_after', path: '/fapi/v1/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'RequestTimeout', '503 -1007 "execution status unknown"');
  assert.equal(placed(), 1, 'the order exists although the client saw an error');

  const hasty = exchange(creds, { timeout: 300 });
  sim.fault({ kind: 'timeout', path: '/fapi/v1/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.01)), 'RequestTimeout');
  assert.equal(placed(), 1);
  sim.fault({ kind: 'timeout_after', path: '/fapi/v1/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'lost-1' })), 'RequestTimeout');
  assert.equal(placed(), 2);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost-1' })).status, 'closed');

  sim.fault({ kind: 'reject', path: '/fapi/v1/order', apiKey: creds.apiKey, code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.', status: 503, times: Number.POSITIVE_INFINITY });
  assert.equal(await errorClass(order()), 'ExchangeError', '-1008 is only in the USD-M (URL-keyed) table');
  assert.equal(await errorClass(order()), 'ExchangeError', 'times: Infinity keeps matching');
  sim.clearFaults();

  sim.fault({ kind: 'echo_key_error', apiKey: creds.apiKey });
  const echoed = await order().catch((e: Error) => e);
  assert.ok(echoed instanceof ccxt.AuthenticationError);
  assert.ok(echoed.message.includes(creds.apiKey) && echoed.message.includes('signature='), 'the error text carries the key and the query');
  assert.equal(placed(), 2);
});

test('the error table: each Binance code and the ccxt class it becomes', async () => {
  const creds = account();
  const plain = exchange(creds);
  const table = exchange(creds, { asNode: true });
  await Promise.all([plain.loadMarkets(), table.loadMarkets()]);
  // [code, HTTP status, ccxt class on a plainly rewritten URL, ccxt class as the node redirects (USD-M table)]
  const rows: Array<[number, number, string, string]> = [
    [-1003, 429, 'DDoSProtection', 'DDoSProtection'],
    [-1000, 500, 'OperationFailed', 'OperationFailed'],
    [-1007, 503, 'RequestTimeout', 'RequestTimeout'],
    [-1008, 503, 'ExchangeError', 'OperationFailed'],
    [-1021, 400, 'InvalidNonce', 'InvalidNonce'],
    [-1022, 400, 'AuthenticationError', 'AuthenticationError'],
    [-2014, 401, 'AuthenticationError', 'AuthenticationError'],
    [-2015, 401, 'AuthenticationError', 'AuthenticationError'],
    [-1100, 400, 'BadRequest', 'BadRequest'],
    [-1111, 400, 'BadRequest', 'BadRequest'],
    [-1121, 400, 'BadSymbol', 'BadSymbol'],
    [-2011, 400, 'OrderNotFound', 'OrderNotFound'],
    [-2013, 400, 'OrderNotFound', 'OrderNotFound'],
    [-2019, 400, 'ExchangeError', 'InsufficientFunds'],
    [-2021, 400, 'ExchangeError', 'OrderImmediatelyFillable'],
    [-2022, 400, 'ExchangeError', 'InvalidOrder'],
    [-4014, 400, 'BadRequest', 'BadRequest'],
    [-4116, 400, 'ExchangeError', 'InvalidOrder'],
    [-4118, 400, 'ExchangeError', 'OperationRejected'],
    [-4120, 400, 'ExchangeError', 'ExchangeError'],
    [-4164, 400, 'ExchangeError', 'InvalidOrder'],
  ];
  for (const [code, status, onRewritten, withTable] of rows) {
    const got: string[] = [];
    for (const ex of [plain, table]) {
      sim.fault({ kind: 'reject', path: '/fapi/v1/order', code, status, msg: `simulated ${code}` });
      got.push(await errorClass(ex.createOrder(BTC, 'market', 'buy', 0.01)));
    }
    assert.deepEqual(got, [onRewritten, withTable], `code ${code}`);
  }
});

test('position mode: fetchPositionMode / setPositionMode, and the switches Binance refuses', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  const table = exchange(creds, { asNode: true });
  assert.deepEqual(await ex.fetchPositionMode(), { info: { dualSidePosition: false }, hedged: false });
  assert.match(sent.at(-1)?.url ?? '', /\/fapi\/v1\/positionSide\/dual\?timestamp=\d+&recvWindow=10000&signature=[0-9a-f]{64}$/);

  // ccxt's recording (static/request/binance.json, setPositionMode): timestamp=…&dualSidePosition=true&recvWindow=10000&signature=…
  assert.deepEqual(await ex.setPositionMode(true), { code: 200, msg: 'success' });
  assert.match(sent.at(-1)?.body ?? '', /^timestamp=\d+&dualSidePosition=true&recvWindow=10000&signature=[0-9a-f]{64}$/);
  assert.equal((await ex.fetchPositionMode()).hedged, true);
  assert.equal((await signed(creds, 'GET', '/fapi/v1/positionSide/dual', {})).json['dualSidePosition'], true);

  assert.deepEqual([await errorClass(ex.setPositionMode(true)), await errorClass(table.setPositionMode(true))], ['OperationRejected', 'OperationRejected'], '-4059 No need to change position side.');
  assert.match((await failure(ex.setPositionMode(true))).message, /"code":-4059,"msg":"No need to change position side\."/);

  const resting = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { hedged: true, clientOrderId: 'pm-rest' });
  assert.equal((await failure(ex.setPositionMode(false))).constructor.name, 'OperationRejected');
  assert.match((await failure(table.setPositionMode(false))).message, /"code":-4067,"msg":"Position side cannot be changed if there exists open orders\."/);
  await ex.cancelOrder(idOf(resting), BTC);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true });
  assert.match((await failure(table.setPositionMode(false))).message, /"code":-4068,"msg":"Position side cannot be changed if there exists position\."/);
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, reduceOnly: true });
  const stop = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true, triggerPrice: 61000, clientOrderId: 'pm-stop' });
  assert.match((await failure(ex.setPositionMode(false))).message, /-4067/, 'an open conditional order counts as an open order');
  await ex.cancelOrder(idOf(stop), BTC, { trigger: true });
  assert.deepEqual(await ex.setPositionMode(false), { code: 200, msg: 'success' });
  assert.equal((await ex.fetchPositionMode()).hedged, false);

  const raw = await signed(creds, 'POST', '/fapi/v1/positionSide/dual', { dualSidePosition: 'maybe' });
  assert.equal(raw.json['code'], -1130);
  assert.equal((await signed(creds, 'POST', '/fapi/v1/positionSide/dual', {})).json['code'], -1102);
  // An account can also start in hedge mode.
  assert.equal((await exchange(hedgeAccount()).fetchPositionMode()).hedged, true);
});

test('hedge mode: hedged: true opens the LONG side; a one-way order is refused (-4061) and so is reduceOnly (-1106)', async () => {
  const sent: Sent[] = [];
  const creds = hedgeAccount();
  const ex = exchange(creds, { sent });
  const table = exchange(creds, { asNode: true });
  const entry = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true, clientOrderId: 'h-entry' });
  assert.equal(entry.status, 'closed');
  assert.equal(entry.info['positionSide'], 'LONG');
  assert.match(sent.at(-1)?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=BUY&newClientOrderId=h-entry&newOrderRespType=RESULT&type=MARKET&quantity=0\.01&positionSide=LONG&recvWindow=10000&signature=/);
  assert.equal(sim.orders(creds.apiKey)[0]?.positionSide, 'LONG');

  // Without hedged ccxt sends no positionSide, which a hedge account refuses: nothing is placed.
  for (const client of [ex, table]) {
    const refused = await failure(client.createOrder(BTC, 'market', 'buy', 0.01));
    assert.equal(refused.constructor.name, 'OperationRejected', 'ccxt: -4061 is OperationRejected (common table; the USD-M table has no entry)');
    assert.match(refused.message, /"code":-4061,"msg":"Order's position side does not match user's setting\."/);
  }
  assert.match((await failure(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { triggerPrice: 61000 }))).message, /-4061/, 'the algo endpoint too');
  assert.equal(sim.orders(creds.apiKey).length, 1);

  // ccxt only sends reduceOnly in hedge mode when told positionSide by hand instead of hedged: true.
  for (const client of [ex, table]) {
    const refused = await failure(client.createOrder(BTC, 'market', 'sell', 0.01, undefined, { positionSide: 'LONG', reduceOnly: true }));
    assert.equal(refused.constructor.name, 'BadRequest');
    assert.match(refused.message, /"code":-1106,"msg":"Parameter 'reduceonly' sent when not required\."/);
  }
  const expect = async (params: Record<string, string>, code: number) => {
    const r = await signed(creds, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', ...params });
    assert.equal(r.json['code'], code, JSON.stringify(r.json));
  };
  await expect({ positionSide: 'BOTH' }, -4061);
  await expect({ positionSide: 'SHORT', reduceOnly: 'false' }, -1106);
  await expect({ positionSide: 'UP' }, -4060);
  assert.equal(sim.orders(creds.apiKey).length, 1);

  // And the other way round: a one-way account refuses a position side.
  const oneWay = account();
  const plain = exchange(oneWay);
  assert.match((await failure(plain.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true }))).message, /-4061/);
  const order = await plain.createOrder(BTC, 'market', 'buy', 0.01);
  assert.equal(order.info['positionSide'], 'BOTH');
  assert.equal(sim.orders(oneWay.apiKey)[0]?.positionSide, 'BOTH');
});

test('hedge mode: both sides at once; fetchPositions answers a row per side, a close may not exceed its side', async () => {
  const sent: Sent[] = [];
  const creds = hedgeAccount();
  const ex = exchange(creds, { sent });
  const table = exchange(creds, { asNode: true });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true });
  await ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { hedged: true });
  assert.match(sent.at(-1)?.body ?? '', /&side=SELL&.*&positionSide=SHORT&/);
  sim.setMarkPrice('BTCUSDT', 61000);
  const positions = await ex.fetchPositions([BTC]);
  assert.match(sent.at(-1)?.url ?? '', /\/fapi\/v3\/positionRisk\?/);
  assert.deepEqual(
    positions.map((p) => [p.side, p.contracts, p.hedged, p.entryPrice, p.unrealizedPnl, p.info['positionSide'], p.info['positionAmt']]),
    [
      ['long', 0.01, true, 60000, 10, 'LONG', '0.010'],
      ['short', 0.02, true, 60000, -20, 'SHORT', '-0.020'],
    ],
  );
  const balance = await ex.fetchBalance();
  assert.equal(balance['USDT']?.used, 91.5, 'both sides hold margin: (610 + 1220) / 20x');

  // ccxt's hedged reduceOnly close (recording "swap hedged reduceOnly market sell order"): SELL with positionSide=LONG, no reduceOnly.
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { hedged: true, reduceOnly: true })), 'ExchangeError', '-2022: more than the LONG side holds');
  assert.match((await failure(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { hedged: true, reduceOnly: true }))).message, /"code":-2022,"msg":"ReduceOnly Order is rejected\."/);
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'buy', 0.03, undefined, { hedged: true, reduceOnly: true })), 'InvalidOrder');
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, reduceOnly: true, clientOrderId: 'close-long' });
  assert.match(sent.at(-1)?.body ?? '', /&side=SELL&newClientOrderId=close-long&newOrderRespType=RESULT&type=MARKET&quantity=0\.01&positionSide=LONG&recvWindow=/);
  assert.doesNotMatch(sent.at(-1)?.body ?? '', /reduceOnly/);
  assert.deepEqual((await ex.fetchPositions([BTC])).map((p) => [p.side, p.contracts]), [['short', 0.02]], 'the SHORT side is untouched');
  assert.equal(await errorClass(table.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, reduceOnly: true })), 'InvalidOrder', 'nothing left on LONG');

  // v2 answers every symbol with a LONG and a SHORT row; v3 and the account only the open side.
  const v2 = (await signed(creds, 'GET', '/fapi/v2/positionRisk', { symbol: 'BTCUSDT' })).json as unknown as Array<Record<string, string>>;
  assert.deepEqual(v2.map((r) => [r['positionSide'], r['positionAmt']]), [['LONG', '0.000'], ['SHORT', '-0.020']]);
  const v3 = (await signed(creds, 'GET', '/fapi/v3/positionRisk', {})).json as unknown as Array<Record<string, string>>;
  assert.deepEqual(v3.map((r) => [r['symbol'], r['positionSide'], r['positionAmt'], r['notional']]), [['BTCUSDT', 'SHORT', '-0.020', '-1220.00000000']]);
  const acct = (await signed(creds, 'GET', '/fapi/v3/account', {})).json['positions'] as Array<Record<string, string>>;
  assert.deepEqual(acct.map((r) => [r['positionSide'], r['positionAmt']]), [['SHORT', '-0.020']]);
});

test('hedge mode: a stop-loss and take-profit with hedged + reduceOnly close the LONG side only, the stop firing on the mark', async () => {
  const sent: Sent[] = [];
  const creds = hedgeAccount();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true, clientOrderId: 'hl' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, clientOrderId: 'hs' });
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, hedged: true, reduceOnly: true, clientOrderId: 'hl-sl' });
  const tp = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 63000, hedged: true, reduceOnly: true, clientOrderId: 'hl-tp' });
  const algoPosts = sent.filter((s) => s.method === 'POST' && s.url.endsWith('/fapi/v1/algoOrder'));
  assert.match(algoPosts[0]?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=SELL&clientAlgoId=hl-sl&newOrderRespType=RESULT&type=STOP_MARKET&quantity=0\.01&triggerPrice=58000&positionSide=LONG&algoType=CONDITIONAL&recvWindow=10000&signature=/);
  assert.match(algoPosts[1]?.body ?? '', /&clientAlgoId=hl-tp&.*&type=TAKE_PROFIT_MARKET&.*&triggerPrice=63000&positionSide=LONG&/);
  assert.ok(algoPosts.every((s) => !/reduceOnly/.test(s.body ?? '')), 'ccxt drops reduceOnly with hedged');
  assert.deepEqual([sl.info['positionSide'], sl.info['reduceOnly'], sl.status], ['LONG', false, 'open']);
  assert.deepEqual((await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true })).map((o) => [o.clientOrderId, o.info['positionSide']]).sort(), [['hl-sl', 'LONG'], ['hl-tp', 'LONG']]);
  // A stop that would close more than the LONG side holds is refused when placed.
  assert.match((await failure(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { stopLossPrice: 57000, hedged: true, reduceOnly: true }))).message, /-2022/);

  sim.setMarkPrice('BTCUSDT', 57900);
  const fired = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'hl-sl', trigger: true });
  assert.equal(fired.status, 'closed');
  const exit = sim.orders(creds.apiKey).find((o) => o.kind === 'order' && String(o.orderId) === fired.info['actualOrderId']);
  assert.deepEqual([exit?.status, exit?.side, exit?.positionSide, exit?.avgPrice], ['FILLED', 'SELL', 'LONG', '57900.0']);
  assert.deepEqual((await ex.fetchPositions([BTC])).map((p) => [p.side, p.contracts, p.entryPrice]), [['short', 0.01, 60000]], 'the SHORT side is left as it was');

  // The take-profit stays open (Binance does not cancel the sibling); firing with LONG empty it closes nothing and opens nothing.
  sim.setMarkPrice('BTCUSDT', 63000);
  const late = await ex.fetchOrder(idOf(tp), BTC, { trigger: true });
  const lateExit = sim.orders(creds.apiKey).find((o) => o.kind === 'order' && String(o.orderId) === late.info['actualOrderId']);
  assert.equal(lateExit?.status, 'EXPIRED');
  assert.deepEqual((await ex.fetchPositions([BTC])).map((p) => [p.side, p.contracts]), [['short', 0.01]]);

  // The SHORT side's own stop is a BUY with positionSide=SHORT.
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { stopLossPrice: 64000, hedged: true, reduceOnly: true, clientOrderId: 'hs-sl' });
  assert.match(sent.filter((s) => s.url.endsWith('/fapi/v1/algoOrder')).at(-1)?.body ?? '', /&side=BUY&clientAlgoId=hs-sl&.*&positionSide=SHORT&/);
  sim.setMarkPrice('BTCUSDT', 64100);
  assert.deepEqual(await ex.fetchPositions([BTC]), []);
});

test('latency is added with timers: concurrent requests overlap', async () => {
  sim.setLatency(200);
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${sim.url}/fapi/v1/time`)));
  const elapsed = Date.now() - started;
  assert.ok(answers.every((r) => r.status === 200));
  assert.ok(elapsed >= 190 && elapsed < 1000, `20 × 200 ms took ${elapsed} ms`);
});

test('the /__sim/ HTTP control surface', async () => {
  const other = await startBinanceSim();
  const ctl = (method: string, path: string, body?: unknown) =>
    fetch(`${other.url}/__sim/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as unknown }));
  try {
    assert.equal((await ctl('POST', 'accounts', [{ apiKey: 'h1', secret: 's1' }, { apiKey: 'h2', secret: 's2', usdt: 50 }, { apiKey: 'h3', secret: 's3', positionMode: 'hedge' }])).status, 200);
    assert.equal((await ctl('POST', 'accounts', { apiKey: 'h4', secret: 's4', positionMode: 'dual' })).status, 400);
    assert.equal((await exchange({ apiKey: 'h3', secret: 's3' }, { base: other.url }).fetchPositionMode()).hedged, true);
    assert.equal((await ctl('POST', 'mark-price', { symbol: 'ETHUSDT', price: 3100 })).status, 200);
    const eth = (await (await fetch(`${other.url}/fapi/v1/premiumIndex?symbol=ETHUSDT`)).json()) as Record<string, string>;
    assert.equal(Number(eth['markPrice']), 3100);

    const ex = exchange({ apiKey: 'h1', secret: 's1' }, { base: other.url });
    const order = await ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'ctl-1' });
    assert.equal(order.average, 3100);
    assert.equal((await ctl('POST', 'faults', { kind: 'reject', path: '/fapi/v1/order', code: -1008, msg: 'busy', status: 503, times: null })).status, 200);
    assert.equal(await errorClass(ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 0.01)), 'ExchangeError');
    assert.equal(await errorClass(ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 0.01)), 'ExchangeError', 'times: null is Infinity');
    assert.equal((await ctl('DELETE', 'faults')).status, 200);
    await ex.createOrder('ETH/USDT:USDT', 'market', 'buy', 0.01);
    assert.equal((await ctl('POST', 'latency', { ms: 120 })).status, 200);
    const t0 = Date.now();
    await ex.fetchBalance();
    assert.ok(Date.now() - t0 >= 110);
    await ctl('POST', 'latency', { ms: 0 });

    const orders = (await ctl('GET', 'orders?apiKey=h1')).json as Array<Record<string, unknown>>;
    assert.equal(orders.length, 2);
    assert.equal(orders[0]?.['clientOrderId'], 'ctl-1');
    assert.equal(((await ctl('GET', 'orders?apiKey=h2')).json as unknown[]).length, 0);
    const counts = (await ctl('GET', 'counts')).json as Record<string, number>;
    assert.equal(counts['GET /fapi/v1/exchangeInfo'], 1);
    assert.equal(counts['POST /fapi/v1/order'], 4);
    assert.equal((await ctl('POST', 'faults', { kind: 'no-such-kind' })).status, 400);
    assert.equal((await ctl('GET', 'nope')).status, 404);
    assert.equal((await ctl('POST', 'reset')).status, 200);
    assert.deepEqual((await ctl('GET', 'orders')).json, []);
    assert.deepEqual((await ctl('GET', 'counts')).json, {});
    assert.equal(await errorClass(ex.fetchBalance()), 'AuthenticationError', 'reset drops the accounts');
  } finally {
    await other.close();
  }
});

test('close() returns promptly while a timed-out request holds its socket', async () => {
  const local = await startBinanceSim({ accounts: [{ apiKey: 'k', secret: 's' }] });
  local.fault({ kind: 'timeout' });
  const pending = fetch(`${local.url}/fapi/v1/time`).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await local.close();
  assert.ok(Date.now() - t0 < 500);
  assert.ok((await pending) instanceof Error);
});

test('main.ts runs as its own process, prints its url and exits on SIGTERM', async () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--accounts', '2', '--latency', '5'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const { url } = JSON.parse(line) as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const balance = await exchange({ apiKey: 'key-2', secret: 'secret-2' }, { base: url }).fetchBalance();
    assert.equal(balance['USDT']?.total, 1_000_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
