import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import ccxt from 'ccxt';
import { Credentials } from '../../src/core/credentials.js';
import { ccxtTrader } from '../../src/exchange/ccxt-trader.js';
import { loadCcxt } from '../../src/exchange/ccxt-module.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import type { ExchangeSim } from './exchange-sim.js';
import { startBinanceSpotSim } from './binance-spot-sim.js';
import { type Sent, errorClass, failure, idOf, recordRequests } from './ccxt-calls.js';
import { signedBinance } from './binance-signed.js';

/**
 * Drives the spot simulator with REAL, unmodified ccxt (`binance`, built
 * with the node's instance settings and redirected the way the node
 * redirects it), so what passes here is what the node's ccxt code path sees
 * against Binance spot — including where that path fails on the real
 * exchange (reduceOnly on spot, two protective sells of one holding,
 * futures calls for positions).
 */

type Binance = InstanceType<typeof ccxt.binance>;
interface Creds {
  apiKey: string;
  secret: string;
}

const BTC = 'BTC/USDT';
/** ccxt types fetchOrder's id as string, but Binance's fetchOrder takes none when a clientOrderId is given. */
const NO_ID = undefined as unknown as string;
let sim: ExchangeSim;

before(async () => {
  sim = await startBinanceSpotSim();
  // The node classifies errors only once it has loaded ccxt.
  await loadCcxt();
});
afterEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  for (const [symbol, price] of Object.entries({ 'BTC/USDT': 60000, 'ETH/USDT': 3000, 'SOL/USDT': 150 })) sim.setMarkPrice(symbol, price);
});
after(async () => {
  await sim.close();
});

function account(usdt?: number, assets?: Record<string, number>): Creds {
  const creds = { apiKey: `key${randomUUID().replaceAll('-', '')}`, secret: `secret-${randomUUID()}` };
  sim.addAccount({ ...creds, ...(usdt === undefined ? {} : { usdt }), ...(assets ? { assets } : {}) });
  return creds;
}

/** A `binance` instance as the node builds it (instanceSettings + credentials) aimed at the simulator by redirectInstance. */
function exchange(creds: Creds, opts: { timeout?: number; sent?: Sent[]; options?: Record<string, unknown> } = {}): Binance {
  const settings = instanceSettings('binance', opts.timeout ?? 10_000);
  const ex = new ccxt.binance({ ...creds, ...settings, options: { ...(settings['options'] as object), ...opts.options } });
  redirectInstance(ex, sim.url);
  recordRequests(ex, opts.sent);
  return ex;
}

/** A signed request written by hand from Binance's spec, to test the protocol without ccxt. */
const signed = (creds: Creds, method: string, path: string, params: Record<string, string>, split?: { query: string[] }) => signedBinance(sim.url, creds, method, path, params, split);

function balanceOf(balance: Awaited<ReturnType<Binance['fetchBalance']>>, code: string) {
  const entry = balance[code] as { free?: number; used?: number; total?: number } | undefined;
  return { free: entry?.free, used: entry?.used, total: entry?.total };
}

test("markets: ccxt's binance loads spot, USD-M and COIN-M lists (and margin pairs with credentials); the simulator counts each", async () => {
  sim.resetCounts();
  // ccxt's own defaults, which the node narrows (src/exchange/market-types.ts; checked at the end).
  const ex = exchange(account(), { options: { fetchMarkets: { types: ['spot', 'linear', 'inverse'] }, fetchMargins: true } });
  await ex.loadMarkets();
  const count = (path: string) => sim.requestCount({ method: 'GET', path });
  assert.equal(count('/api/v3/exchangeInfo'), 1);
  assert.equal(count('/fapi/v1/exchangeInfo'), 1);
  assert.equal(count('/dapi/v1/exchangeInfo'), 1);
  assert.equal(count('/eapi/v1/exchangeInfo'), 0, 'options only with loadAllOptions');
  assert.equal(count('/sapi/v1/margin/allPairs'), 1, 'fetchMargins: ccxt asks when it holds credentials');
  assert.equal(count('/sapi/v1/margin/isolated/allPairs'), 1);
  assert.equal(sim.requestCount({ operation: 'markets' }), 5);
  assert.equal(sim.requestCount(), 5, 'fetchCurrencies:false: nothing else');
  assert.deepEqual(Object.keys(ex.markets ?? {}).sort(), ['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);

  const btc = ex.market(BTC);
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.spot, true);
  assert.equal(btc.contract, false);
  assert.equal(btc.contractSize, undefined, 'spot: amounts are base currency');
  assert.equal(btc.precision.amount, 0.00001);
  assert.equal(btc.precision.price, 0.01);
  assert.equal(btc.limits.amount?.min, 0.00001);
  assert.equal(btc.limits.cost?.min, 5, 'NOTIONAL minNotional');
  assert.equal(btc.limits.market?.max, 119.23);
  assert.deepEqual(btc.marginModes, { cross: true, isolated: true });
  assert.equal(ex.market('ETH/USDT').precision.amount, 0.0001);
  assert.equal(ex.market('SOL/USDT').precision.amount, 0.001);

  // What a later node fix can do: narrow the types ccxt loads.
  sim.resetCounts();
  const narrow = exchange(account(), { options: { fetchMarkets: { types: ['spot'] }, fetchMargins: false } });
  await narrow.loadMarkets();
  assert.equal(sim.requestCount(), 1);
  assert.equal(count('/api/v3/exchangeInfo'), 1);

  sim.resetCounts();
  const all = exchange(account(), { options: { fetchMarkets: { types: ['spot', 'linear', 'inverse'], loadAllOptions: true } } });
  await all.loadMarkets();
  assert.equal(count('/eapi/v1/exchangeInfo'), 1);

  // ccxt's own default (fetchCurrencies: true) adds the wallet's coin list.
  sim.resetCounts();
  const plain = new ccxt.binance({ ...account(), enableRateLimit: false });
  redirectInstance(plain, sim.url);
  await plain.loadMarkets();
  assert.equal(count('/sapi/v1/capital/config/getall'), 1);
  assert.equal(count('/sapi/v1/margin/allPairs'), 2, 'fetchCurrencies asks for the margin pairs again');
  assert.equal(sim.requestCount(), 7);
});

test('an entry market BUY credits the quantity minus 0.1% commission in BTC: the account holds the NET amount', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  const order = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'entry-1' });
  assert.equal(order.status, 'closed');
  assert.equal(order.filled, 0.01, 'executedQty is the gross quantity');
  assert.equal(order.average, 60000);
  assert.equal(order.cost, 600);
  assert.deepEqual(order.fee, { currency: 'BTC', cost: 0.00001 });
  assert.equal(order.clientOrderId, 'entry-1');
  const post = sent.find((s) => s.method === 'POST');
  assert.match(post?.url ?? '', /\/api\/v3\/order$/);
  assert.match(post?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=BUY&newClientOrderId=entry-1&newOrderRespType=FULL&type=MARKET&quantity=0\.01&recvWindow=10000&signature=[0-9a-f]{64}$/);

  const balance = await ex.fetchBalance();
  assert.deepEqual(balanceOf(balance, 'BTC'), { free: 0.00999, used: 0, total: 0.00999 });
  assert.deepEqual(balanceOf(balance, 'USDT'), { free: 9400, used: 0, total: 9400 });

  // Selling the gross amount back fails: 0.00001 BTC went to commission.
  const err = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01));
  assert.ok(err instanceof ccxt.InsufficientFunds, err.message);
  assert.match(err.message, /"code":-2010|Account has insufficient balance for requested action\./);
  const sold = await ex.createOrder(BTC, 'market', 'sell', 0.00999);
  assert.equal(sold.status, 'closed');
  assert.deepEqual(sold.fee, { currency: 'USDT', cost: 0.5994 }, 'a SELL pays commission in the quote asset');
  assert.equal(balanceOf(await ex.fetchBalance(), 'USDT').total, 9400 + 599.4 - 0.5994);

  const found = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'entry-1' });
  assert.equal(found.id, order.id);
  assert.equal(found.status, 'closed');
  assert.match(sent.find((s) => s.method === 'GET' && s.url.includes('/api/v3/order?'))?.url ?? '', /\/api\/v3\/order\?timestamp=\d+&symbol=BTCUSDT&origClientOrderId=entry-1&recvWindow=10000&signature=/);
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'never-sent' })), 'OrderNotFound', '-2013');
});

test("the node's stop-loss (stopLossPrice + reduceOnly) is a STOP_LOSS with stopPrice that spot refuses with -1104: it has no reduceOnly", async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const err = await failure(ex.createOrder(BTC, 'market', 'sell', 0.00999, undefined, { clientOrderId: 'sl-1', stopLossPrice: 58000, reduceOnly: true }));
  assert.ok(err instanceof ccxt.BadRequest, err.constructor.name);
  assert.match(err.message, /\{"code":-1104,"msg":"Not all sent parameters were read; read '10' parameter\(s\) but was sent '11'\."\}/);
  assert.match(sent.at(-1)?.body ?? '', /^timestamp=\d+&symbol=BTCUSDT&side=SELL&newClientOrderId=sl-1&newOrderRespType=FULL&type=STOP_LOSS&quantity=0\.00999&stopPrice=58000&reduceOnly=true&recvWindow=10000&signature=/);
  const tp = await failure(ex.createOrder(BTC, 'market', 'sell', 0.00999, undefined, { clientOrderId: 'tp-1', takeProfitPrice: 63000, reduceOnly: true }));
  assert.ok(tp instanceof ccxt.BadRequest);
  assert.match(sent.at(-1)?.body ?? '', /&type=TAKE_PROFIT&quantity=0\.00999&stopPrice=63000&reduceOnly=true&/);
  // A limit price makes ccxt choose the _LIMIT types.
  const sll = await failure(ex.createOrder(BTC, 'limit', 'sell', 0.00999, 57900, { stopLossPrice: 58000, reduceOnly: true }));
  assert.ok(sll instanceof ccxt.BadRequest);
  assert.match(sent.at(-1)?.body ?? '', /&type=STOP_LOSS_LIMIT&quantity=0\.00999&price=57900&stopPrice=58000&timeInForce=GTC&reduceOnly=true&/);
  assert.equal(sim.orders(creds.apiKey).length, 1, 'only the entry exists');
});

test('every resting SELL locks its quantity: a stop-loss of the holding leaves nothing for a separate take-profit', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'e2' });
  // The gross entry amount is more than the account holds.
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, clientOrderId: 'e2-sl' })), 'InsufficientFunds');
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.00999, undefined, { stopLossPrice: 58000, clientOrderId: 'e2-sl' });
  assert.equal(sl.status, 'open');
  assert.equal(sl.type, 'market', 'ccxt reads STOP_LOSS as a market order with a trigger');
  assert.equal(sl.triggerPrice, 58000);
  assert.deepEqual(balanceOf(await ex.fetchBalance(), 'BTC'), { free: 0, used: 0.00999, total: 0.00999 });

  const tp = await failure(ex.createOrder(BTC, 'market', 'sell', 0.00999, undefined, { takeProfitPrice: 63000, clientOrderId: 'e2-tp' }));
  assert.ok(tp instanceof ccxt.InsufficientFunds);
  assert.match(tp.message, /Account has insufficient balance for requested action\./);

  // The stop is a regular spot order: found by client id with or without trigger:true.
  for (const params of [{ clientOrderId: 'e2-sl' }, { clientOrderId: 'e2-sl', trigger: true }]) {
    const open = await ex.fetchOrder(NO_ID, BTC, params);
    assert.equal(open.id, sl.id);
    assert.equal(open.status, 'open');
    assert.equal(open.triggerPrice, 58000);
  }
  assert.deepEqual((await ex.fetchOpenOrders(BTC)).map((o) => o.clientOrderId), ['e2-sl']);

  sim.setMarkPrice(BTC, 57900);
  const fired = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'e2-sl', trigger: true });
  assert.equal(fired.status, 'closed');
  assert.equal(fired.filled, 0.00999);
  assert.equal(fired.average, 57900, 'a fired STOP_LOSS is a market order at the price that reached the stop');
  const balance = await ex.fetchBalance();
  assert.deepEqual(balanceOf(balance, 'BTC'), { free: 0, used: 0, total: 0 });
  assert.equal(balanceOf(balance, 'USDT').total, Number((9400 + 0.00999 * 57900 * 0.999).toFixed(8)));
  const [view] = sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'e2-sl');
  assert.equal(view?.type, 'stop_loss');
  assert.equal(view?.status, 'filled');
  assert.equal(view?.amount, 0.00999);
  assert.equal(view?.triggerPrice, 58000);
});

test('a stop the last price already crossed is refused (-2010 "Stop price would trigger immediately."), and so is a post-only that would take', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const err = await failure(ex.createOrder(BTC, 'market', 'sell', 0.005, undefined, { stopLossPrice: 61000 }));
  assert.ok(err instanceof ccxt.OrderImmediatelyFillable, err.constructor.name);
  assert.match(err.message, /Stop price would trigger immediately\./);
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.005, undefined, { takeProfitPrice: 59000 })), 'OrderImmediatelyFillable');
  assert.equal(await errorClass(ex.createOrder(BTC, 'limit', 'buy', 0.001, 60500, { postOnly: true })), 'OrderImmediatelyFillable', 'LIMIT_MAKER: "Order would immediately match and take."');
  // A BUY stop sits above the market.
  const buyStop = await ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { stopLossPrice: 61000 });
  assert.equal(buyStop.status, 'open');
  assert.equal(balanceOf(await ex.fetchBalance(), 'USDT').used, 61, 'a BUY stop locks its quantity at the stop price');
  assert.equal(sim.orders(creds.apiKey).length, 2);
});

test("duplicate client ids: -2010 \"Duplicate order sent.\" while the first order is open; reusable once it is filled or cancelled", async () => {
  const creds = account();
  const ex = exchange(creds);
  const open = await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' });
  assert.equal(open.status, 'open');
  const err = await failure(ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' }));
  assert.ok(err instanceof ccxt.InvalidOrder, err.constructor.name);
  assert.match(err.message, /\{"code":-2010,"msg":"Duplicate order sent\."\}/);
  // A market order of a different symbol with that id is just as refused: the rule is per account.
  assert.equal(await errorClass(ex.createOrder('ETH/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' })), 'InvalidOrder');

  await ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-2' });
  const again = await ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-2' });
  assert.equal(again.status, 'closed', 'the id of a filled order may be sent again');
  assert.equal(sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'dup-2').length, 2);

  const canceled = await ex.cancelOrder(idOf(open), BTC);
  assert.equal(canceled.status, 'canceled');
  assert.notEqual(canceled.clientOrderId, 'dup-1', "ccxt reads the cancel's own clientOrderId; the order's is info.origClientOrderId");
  assert.equal(canceled.info['origClientOrderId'], 'dup-1');
  assert.equal(await errorClass(ex.cancelOrder(idOf(open), BTC)), 'OrderNotFound', '-2011 Unknown order sent.');
  assert.equal((await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000, { clientOrderId: 'dup-1' })).status, 'open');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'dup-1' })).status, 'open', 'by client id: the open order, not the cancelled one');
});

test('an OCO (orderList/oco) locks the quantity once for both legs; the take-profit filling expires the stop', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'o1' });
  const placed = await ex.privatePostOrderListOco({
    symbol: 'BTCUSDT',
    side: 'SELL',
    quantity: '0.00999',
    aboveType: 'LIMIT_MAKER',
    abovePrice: '63000',
    aboveClientOrderId: 'o1-tp',
    belowType: 'STOP_LOSS',
    belowStopPrice: '58000',
    belowClientOrderId: 'o1-sl',
    listClientOrderId: 'o1-oco',
  });
  assert.equal(placed['contingencyType'], 'OCO');
  assert.equal(placed['listStatusType'], 'EXEC_STARTED');
  assert.equal(placed['listOrderStatus'], 'EXECUTING');
  const reports = placed['orderReports'] as Array<Record<string, unknown>>;
  assert.deepEqual(reports.map((r) => [r['clientOrderId'], r['type'], r['status'], r['workingTime'] === -1]), [
    ['o1-sl', 'STOP_LOSS', 'NEW', true],
    ['o1-tp', 'LIMIT_MAKER', 'NEW', false],
  ]);
  assert.deepEqual(balanceOf(await ex.fetchBalance(), 'BTC'), { free: 0, used: 0.00999, total: 0.00999 }, 'locked once, not twice');
  assert.deepEqual((await ex.fetchOpenOrders(BTC)).map((o) => o.clientOrderId).sort(), ['o1-sl', 'o1-tp']);
  const lists = (await ex.privateGetOpenOrderList()) as Array<Record<string, unknown>>;
  assert.deepEqual(lists.map((l) => l['listClientOrderId']), ['o1-oco']);

  sim.setMarkPrice(BTC, 63000);
  const tp = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'o1-tp' });
  assert.equal(tp.status, 'closed');
  assert.equal(tp.average, 63000, 'the limit leg fills at its price');
  const sl = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'o1-sl' });
  assert.equal(sl.status, 'expired', 'the other leg expires');
  const list = await ex.privateGetOrderList({ origClientOrderId: 'o1-oco' });
  assert.equal(list['listStatusType'], 'ALL_DONE');
  assert.equal(list['listOrderStatus'], 'ALL_DONE');
  assert.deepEqual(await ex.privateGetOpenOrderList(), []);
  const balance = await ex.fetchBalance();
  assert.deepEqual(balanceOf(balance, 'BTC'), { free: 0, used: 0, total: 0 });
  assert.equal(balanceOf(balance, 'USDT').total, Number((9400 + 0.00999 * 63000 * 0.999).toFixed(8)), 'maker commission 0.1% in USDT');
  const views = sim.orders(creds.apiKey).filter((o) => o.parentId !== null);
  assert.deepEqual(views.map((v) => [v.clientOrderId, v.type, v.status, v.amount]), [
    ['o1-sl', 'stop_loss', 'canceled', 0.00999],
    ['o1-tp', 'take_profit', 'filled', 0.00999],
  ]);
  assert.equal(views[0]?.parentId, String(list['orderListId']));
  assert.equal(await errorClass(ex.privateGetOrderList({ origClientOrderId: 'no-such-list' })), 'ExchangeError', '-2018 "Order list does not exist." is in no ccxt table');
});

test('an OCO whose stop fires expires the take-profit; the deprecated order/oco places the same pair; cancelling one leg cancels the list', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  await ex.privatePostOrderListOco({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.005', aboveType: 'LIMIT_MAKER', abovePrice: '63000', aboveClientOrderId: 'p-tp', belowType: 'STOP_LOSS_LIMIT', belowStopPrice: '58000', belowPrice: '57500', belowTimeInForce: 'GTC', belowClientOrderId: 'p-sl' });
  const legacy = await ex.privatePostOrderOco({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.004', price: '64000', stopPrice: '57000', limitClientOrderId: 'q-tp', stopClientOrderId: 'q-sl' });
  assert.deepEqual((legacy['orderReports'] as Array<Record<string, unknown>>).map((r) => r['type']), ['STOP_LOSS', 'LIMIT_MAKER']);
  assert.equal(balanceOf(await ex.fetchBalance(), 'BTC').used, 0.009);

  sim.setMarkPrice(BTC, 57900);
  const fired = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'p-sl' });
  assert.equal(fired.status, 'closed', 'STOP_LOSS_LIMIT at 57500 fires at 58000 and takes the 57900 bid');
  assert.equal(fired.average, 57900);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'p-tp' })).status, 'expired');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'q-sl' })).status, 'open', 'the second OCO stop (57000) is not reached');

  const qtp = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'q-tp' });
  await ex.cancelOrder(idOf(qtp), BTC);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'q-sl' })).status, 'canceled', 'the whole list is cancelled');
  assert.deepEqual(balanceOf(await ex.fetchBalance(), 'BTC'), { free: 0.00499, used: 0, total: 0.00499 });

  // DELETE /api/v3/orderList by listClientOrderId cancels both legs and unlocks.
  await ex.privatePostOrderListOco({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.002', aboveType: 'TAKE_PROFIT', aboveStopPrice: '63000', belowType: 'STOP_LOSS', belowStopPrice: '57000', listClientOrderId: 'r-oco' });
  assert.equal(balanceOf(await ex.fetchBalance(), 'BTC').used, 0.002);
  const cancelled = await ex.privateDeleteOrderList({ symbol: 'BTCUSDT', listClientOrderId: 'r-oco' });
  assert.equal(cancelled['listOrderStatus'], 'ALL_DONE');
  assert.deepEqual((cancelled['orderReports'] as Array<Record<string, unknown>>).map((r) => [r['type'], r['status']]), [['STOP_LOSS', 'CANCELED'], ['TAKE_PROFIT', 'CANCELED']]);
  assert.equal(balanceOf(await ex.fetchBalance(), 'BTC').used, 0);
  assert.equal(await errorClass(ex.privateDeleteOrderList({ symbol: 'BTCUSDT', listClientOrderId: 'r-oco' })), 'OrderNotFound', '-2011');

  // Leg rules and the price relationship, back at 60000.
  sim.setMarkPrice(BTC, 60000);
  const oco = (p: Record<string, string>) => ex.privatePostOrderListOco({ symbol: 'BTCUSDT', side: 'SELL', quantity: '0.001', aboveType: 'LIMIT_MAKER', abovePrice: '63000', belowType: 'STOP_LOSS', belowStopPrice: '58000', ...p });
  const codeOf = async (call: Promise<unknown>) => JSON.parse(((await failure(call)).message.match(/\{.*\}/) ?? ['{}'])[0]) as { code?: number; msg?: string };
  assert.deepEqual(await codeOf(oco({ belowStopPrice: '61000' })), { code: -2010, msg: 'The relationship of the prices for the orders is not correct.' });
  assert.equal((await codeOf(oco({ aboveType: 'STOP_LOSS', aboveStopPrice: '63000' }))).code, -1197);
  assert.equal((await codeOf(oco({ aboveType: 'TAKE_PROFIT', aboveStopPrice: '63000', belowType: 'LIMIT_MAKER', belowPrice: '58000' }))).code, -1166);
  assert.equal((await codeOf(oco({ belowType: 'LIMIT_MAKER', belowPrice: '58000' }))).code, -1168);
  assert.equal((await codeOf(oco({ aboveType: 'MARKET' }))).code, -1158);
  const funds = await failure(oco({ quantity: '0.01' }));
  assert.ok(funds instanceof ccxt.InsufficientFunds, 'ccxt matches this message before the code, and drops the JSON from its text');
  assert.equal(funds.message, 'binance Account has insufficient balance for requested action.');
});

test('filters from exchangeInfo: NOTIONAL, PERCENT_PRICE_BY_SIDE and MAX_NUM_ALGO_ORDERS through ccxt, each with the ccxt class it becomes', async () => {
  const creds = account(10_000, { BTC: 1 });
  const ex = exchange(creds);
  const notional = await failure(ex.createOrder(BTC, 'market', 'buy', 0.00005));
  assert.ok(notional instanceof ccxt.BadRequest);
  assert.match(notional.message, /\{"code":-1013,"msg":"Filter failure: NOTIONAL"\}/, '0.00005 × 60000 = 3 USDT < 5');
  const percent = await failure(ex.createOrder(BTC, 'limit', 'buy', 0.001, 400000));
  assert.ok(percent instanceof ccxt.InvalidOrder, percent.constructor.name);
  assert.match(percent.message, /Filter failure: PERCENT_PRICE_BY_SIDE/);
  assert.equal(await errorClass(ex.createOrder(BTC, 'limit', 'sell', 0.001, 11000)), 'InvalidOrder', 'an ask below 0.2 × average');
  for (let i = 0; i < 5; i++) await ex.createOrder(BTC, 'market', 'sell', 0.001, undefined, { stopLossPrice: 58000 - i });
  const algo = await failure(ex.createOrder(BTC, 'market', 'sell', 0.001, undefined, { stopLossPrice: 57000 }));
  assert.match(algo.message, /Filter failure: MAX_NUM_ALGO_ORDERS/);
  assert.ok(algo instanceof ccxt.BadRequest);
  assert.equal(sim.orders(creds.apiKey).length, 5);
});

test('the protocol by hand: signature over query + body, parameter checks and filters with their codes', async () => {
  const creds = account(10_000, { BTC: 1 });
  const split = await signed(creds, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '58000', newClientOrderId: 'raw-1' }, { query: ['symbol', 'side', 'type', 'timeInForce'] });
  assert.equal(split.status, 200, JSON.stringify(split.json));
  assert.equal(split.json['status'], 'NEW', 'a LIMIT answers FULL by default');
  assert.deepEqual(split.json['fills'], []);
  assert.ok(Number(split.headers.get('x-mbx-used-weight-1m')) >= 1);
  assert.equal(split.headers.get('x-mbx-order-count-10s'), '1');
  assert.equal(split.headers.get('x-mbx-order-count-1d'), '1');
  const stop = await signed(creds, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', quantity: '0.001', stopPrice: '58000' });
  assert.deepEqual(Object.keys(stop.json).sort(), ['clientOrderId', 'orderId', 'orderListId', 'symbol', 'transactTime'], 'other types answer ACK by default');
  assert.equal(String(stop.json['clientOrderId']).length, 22, 'a generated client id has 22 characters');

  const expect = async (params: Record<string, string>, code: number, msg?: string) => {
    const r = await signed(creds, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '58000', ...params });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json['code'], code, JSON.stringify(r.json));
    if (msg) assert.equal(r.json['msg'], msg);
  };
  await expect({ quantity: '0.000015' }, -1013, 'Filter failure: LOT_SIZE');
  await expect({ quantity: '0.000001' }, -1013, 'Filter failure: LOT_SIZE');
  await expect({ price: '58000.001' }, -1013, 'Filter failure: PRICE_FILTER');
  await expect({ type: 'MARKET', timeInForce: '', price: '', quantity: '200' }, -1013, 'Filter failure: MARKET_LOT_SIZE');
  await expect({ quantity: '0.000000001' }, -1111, "Parameter 'quantity' has too much precision.");
  await expect({ quantity: 'abc' }, -1100);
  await expect({ newClientOrderId: 'has space' }, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.");
  await expect({ symbol: 'DOGEUSDT' }, -1121, 'Invalid symbol.');
  await expect({ side: 'LONG' }, -1117);
  await expect({ type: 'STOP_MARKET' }, -1116);
  await expect({ timeInForce: 'GTX' }, -1115);
  await expect({ type: 'MARKET', timeInForce: '' }, -1106, "Parameter 'price' sent when not required.");
  await expect({ type: 'MARKET', price: '' }, -1114);
  await expect({ timeInForce: '' }, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
  await expect({ reduceOnly: 'true' }, -1104, "Not all sent parameters were read; read '8' parameter(s) but was sent '9'.");
  await expect({ positionSide: 'LONG', reduceOnly: 'true' }, -1104, "Not all sent parameters were read; read '8' parameter(s) but was sent '10'.");
  await expect({ quantity: '1' }, -2010, 'Account has insufficient balance for requested action.');

  assert.deepEqual((await signed(creds, 'POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '58000' })).json, {});
  assert.equal((await signed(creds, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: '1' })).json['code'], -2013);
  assert.equal((await signed(creds, 'GET', '/api/v3/order', { symbol: 'BTCUSDT' })).json['msg'], "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
  assert.equal((await signed(creds, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'nope' })).json['code'], -2011);
  const account_ = await signed(creds, 'GET', '/api/v3/account', { omitZeroBalances: 'true' });
  assert.deepEqual((account_.json['balances'] as Array<{ asset: string }>).map((b) => b.asset), ['BTC', 'USDT']);
  assert.equal(account_.json['takerCommission'], 10);
  assert.equal(account_.json['accountType'], 'SPOT');
});

test('authentication: unknown key, wrong secret, stale timestamp, recvWindow over 60 s', async () => {
  const good = account();
  const unknown = await failure(exchange({ apiKey: 'nobody', secret: 'x' }).fetchBalance());
  assert.ok(unknown instanceof ccxt.AuthenticationError, unknown.constructor.name);
  assert.match(unknown.message, /-2015/);
  const wrong = await failure(exchange({ apiKey: good.apiKey, secret: 'wrong' }).fetchBalance());
  assert.ok(wrong instanceof ccxt.AuthenticationError);
  assert.match(wrong.message, /\{"code":-1022,"msg":"Signature for this request is not valid\."\}/);
  const stale = exchange(good);
  stale.nonce = () => Date.now() - 60_000;
  assert.equal(await errorClass(stale.fetchBalance()), 'InvalidNonce', '-1021 outside recvWindow');
  const ahead = exchange(good);
  ahead.nonce = () => Date.now() + 5_000;
  assert.equal(await errorClass(ahead.fetchBalance()), 'InvalidNonce', '-1021 ahead of the server');
  const wide = exchange(good, { options: { recvWindow: 70_000 } });
  assert.equal(await errorClass(wide.fetchBalance()), 'BadRequest', '-1131');
  assert.equal((await exchange(good).fetchBalance())['USDT']?.total, 10_000);

  const raw = await fetch(`${sim.url}/api/v3/account?timestamp=${Date.now()}&signature=00`, { headers: { 'X-MBX-APIKEY': 'nobody' } });
  assert.equal(raw.status, 401);
  assert.deepEqual(await raw.json(), { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
  const noKey = await fetch(`${sim.url}/api/v3/account?timestamp=${Date.now()}&signature=00`);
  assert.equal(noKey.status, 401);
  assert.equal(((await noKey.json()) as { code: number }).code, -2014);
  // Binance has no passphrase: a ccxt `password` is simply not sent.
  const withPassword = exchange(good);
  withPassword.password = 'ignored';
  assert.equal((await withPassword.fetchBalance())['USDT']?.total, 10_000);
});

test("fetchPositions on a spot account calls the futures API, which refuses a spot-only key (-2015): ccxt calls that DDoSProtection once it has authenticated", async () => {
  const creds = account();
  const fresh = exchange(creds);
  await fresh.loadMarkets();
  sim.resetCounts();
  const first = await failure(fresh.fetchPositions());
  assert.ok(first instanceof ccxt.AuthenticationError, first.constructor.name);
  assert.match(first.message, /\{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action\."\}/);
  assert.equal(sim.requestCount({ method: 'GET', path: '/fapi/v1/leverageBracket' }), 1, 'ccxt loads USD-M leverage brackets first');
  assert.equal(sim.requestCount({ operation: 'positions' }), 1);

  // After any successful spot call ccxt reads -2015 as a temporary ban.
  await fresh.fetchBalance();
  const later = await failure(fresh.fetchPositions());
  assert.ok(later instanceof ccxt.DDoSProtection, later.constructor.name);
  assert.equal(await errorClass(fresh.fetchPositions(undefined, { method: 'account' })), 'DDoSProtection', '/fapi/v3/account the same');
  const raw = await signed(creds, 'GET', '/fapi/v3/positionRisk', {});
  assert.equal(raw.status, 401);
  assert.equal(raw.json['code'], -2015);
  assert.deepEqual(sim.positions(creds.apiKey), []);
});

test('setLeverage, setMarginMode and setPositionMode on spot are refused by ccxt itself; hedged orders are plain spot orders', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  sim.resetCounts();
  const leverage = await failure(ex.setLeverage(5, BTC));
  assert.ok(leverage instanceof ccxt.NotSupported);
  assert.equal(leverage.message, 'binance setLeverage() supports linear and inverse contracts only');
  const margin = await failure(ex.setMarginMode('isolated', BTC));
  assert.ok(margin instanceof ccxt.NotSupported);
  assert.equal(margin.message, 'binance setMarginMode() supports linear and inverse contracts only');
  const mode = await failure(ex.setPositionMode(true, BTC));
  assert.ok(mode instanceof ccxt.BadRequest);
  assert.equal(mode.message, 'binance setPositionMode() supports linear and inverse contracts only');
  assert.equal(sim.requestCount(), 0, 'nothing reaches the exchange');
  assert.equal(sim.leverage(creds.apiKey, BTC), 1);

  const sent: Sent[] = [];
  const hedged = exchange(creds, { sent });
  const order = await hedged.createOrder(BTC, 'market', 'buy', 0.001, undefined, { hedged: true });
  assert.equal(order.status, 'closed');
  assert.doesNotMatch(sent.at(-1)?.body ?? '', /positionSide/);
});

test('a resting limit locks its quote, fills as maker when the price reaches it; IOC expires; quoteOrderQty buys what the cost covers', async () => {
  const creds = account();
  const ex = exchange(creds);
  const order = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 59000, { clientOrderId: 'rest-1' });
  assert.equal(order.status, 'open');
  assert.deepEqual(balanceOf(await ex.fetchBalance(), 'USDT'), { free: 9410, used: 590, total: 10_000 });
  sim.setMarkPrice(BTC, 58900);
  const filled = await ex.fetchOrder(idOf(order), BTC);
  assert.equal(filled.status, 'closed');
  assert.equal(filled.average, 59000);
  let balance = await ex.fetchBalance();
  assert.deepEqual(balanceOf(balance, 'USDT'), { free: 9410, used: 0, total: 9410 });
  assert.equal(balanceOf(balance, 'BTC').total, 0.00999);

  const ioc = await ex.createOrder(BTC, 'limit', 'buy', 0.001, 58000, { timeInForce: 'IOC' });
  assert.equal(ioc.status, 'expired');
  const marketable = await ex.createOrder(BTC, 'limit', 'buy', 0.001, 59500);
  assert.equal(marketable.status, 'closed');
  assert.equal(marketable.average, 58900, 'a marketable limit takes at the last price');

  const byCost = await ex.createMarketBuyOrderWithCost(BTC, 100);
  assert.equal(byCost.info['origQuoteOrderQty'], '100.00000000');
  assert.equal(byCost.filled, 0.00169, '100 / 58900 = 0.001697…, down to the 0.00001 step');
  balance = await ex.fetchBalance();
  assert.equal(balanceOf(balance, 'BTC').total, Number((0.00999 + 0.000999 + 0.00169 * 0.999).toFixed(8)));
  const all = await ex.fetchOrders(BTC);
  assert.deepEqual(all.map((o) => o.status), ['closed', 'expired', 'closed', 'closed']);
  const trades = await ex.fetchMyTrades(BTC);
  assert.equal(trades.length, 3);
  assert.equal(trades[0]?.takerOrMaker, 'maker');
});

test('faults: 429 with Retry-After, 5xx before and after processing, timeouts, rejects, by operation', async () => {
  const creds = account(100_000);
  const ex = exchange(creds);
  const order = () => ex.createOrder(BTC, 'market', 'buy', 0.001);
  const placed = () => sim.orders(creds.apiKey).length;

  sim.fault({ kind: 'rate_limit', operation: 'place_order', apiKey: creds.apiKey });
  const limited = await failure(order());
  assert.ok(limited instanceof ccxt.DDoSProtection);
  assert.match(limited.message, /429/);
  sim.fault({ kind: 'rate_limit', path: '/api/v3/time' });
  const raw = await fetch(`${sim.url}/api/v3/time`);
  assert.equal(raw.status, 429);
  assert.equal(raw.headers.get('retry-after'), '7');
  assert.equal(((await raw.json()) as { code: number }).code, -1003);

  sim.fault({ kind: 'http_500', path: '/api/v3/order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'ExchangeNotAvailable');
  assert.equal(placed(), 0);
  sim.fault({ kind: 'http_503_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(order()), 'RequestTimeout', '503 -1007: execution status unknown');
  assert.equal(placed(), 1, 'the order exists although the client saw an error');

  const hasty = exchange(creds, { timeout: 300 });
  sim.fault({ kind: 'timeout', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.001)), 'RequestTimeout');
  assert.equal(placed(), 1);
  sim.fault({ kind: 'timeout_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'lost-1' })), 'RequestTimeout');
  assert.equal(placed(), 2);
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost-1' })).status, 'closed');

  // A trigger fault leaves entries alone.
  sim.fault({ kind: 'reject', operation: 'place_trigger', apiKey: creds.apiKey, code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.', status: 503 });
  assert.equal((await order()).status, 'closed');
  assert.equal(await errorClass(ex.createOrder(BTC, 'market', 'sell', 0.0005, undefined, { stopLossPrice: 50000 })), 'OperationFailed', '-1008');
  sim.fault({ kind: 'reject', operation: 'balance', code: -1001, msg: 'Internal error; unable to process your request. Please try again.', status: 500 });
  assert.equal(await errorClass(ex.fetchBalance()), 'OperationFailed');
  sim.fault({ kind: 'reject', operation: 'query_order', code: -2013, msg: 'Order does not exist.', times: Number.POSITIVE_INFINITY });
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost-1' })), 'OrderNotFound');
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'lost-1' })), 'OrderNotFound', 'times: Infinity keeps matching');
  sim.clearFaults();
  assert.equal(sim.requestCount({ operation: 'place_trigger', apiKey: creds.apiKey }), 1);
});

test('the ORDERS limit: the 101st order in 10 seconds is 429 -1015 without Retry-After', async () => {
  const creds = account(100_000);
  const ex = exchange(creds);
  for (let i = 0; i < 100; i++) await ex.createOrder(BTC, 'limit', 'buy', 0.0001, 50000);
  const err = await failure(ex.createOrder(BTC, 'limit', 'buy', 0.0001, 50000));
  assert.ok(err instanceof ccxt.DDoSProtection, 'ccxt turns every 429 into DDoSProtection');
  assert.match(err.message, /Too many new orders; current limit is 100 orders per 10 SECOND\./);
  const raw = await signed(creds, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.0001', price: '50000' });
  assert.equal(raw.status, 429);
  assert.equal(raw.json['code'], -1015);
  assert.equal(raw.headers.get('retry-after'), null);
  assert.equal(sim.orders(creds.apiKey).length, 100);
});

test('normalised views: base-currency amounts, no positions, 1x leverage, assets from the account spec', async () => {
  const creds = account(0, { BTC: 0.5, ETH: 2 });
  const ex = exchange(creds);
  const balance = await ex.fetchBalance();
  assert.equal(balanceOf(balance, 'BTC').total, 0.5);
  assert.equal(balanceOf(balance, 'ETH').total, 2);
  assert.equal(balanceOf(balance, 'USDT').total, 0);
  await ex.createOrder(BTC, 'market', 'sell', 0.25, undefined, { clientOrderId: 'v-1' });
  await ex.createOrder('ETH/USDT', 'limit', 'sell', 1.5, 3500, { clientOrderId: 'v-2' });
  const views = sim.orders(creds.apiKey);
  assert.deepEqual(
    views.map((v) => [v.symbol, v.clientOrderId, v.side, v.type, v.status, v.amount, v.filled, v.average, v.price]),
    [
      ['BTC/USDT', 'v-1', 'sell', 'market', 'filled', 0.25, 0.25, 60000, null],
      ['ETH/USDT', 'v-2', 'sell', 'limit', 'open', 1.5, 0, null, 3500],
    ],
  );
  assert.equal(views[0]?.reduceOnly, false);
  assert.equal(views[0]?.positionSide, null);
  assert.deepEqual(sim.positions(creds.apiKey), []);
  assert.equal(sim.leverage(creds.apiKey, BTC), 1);
  assert.equal(sim.markPrice(BTC), 60000);
  assert.deepEqual(sim.symbols, ['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
  assert.equal(sim.exchange, 'binance');
  assert.equal(balanceOf(await ex.fetchBalance(), 'USDT').total, 15000 - 15, '0.25 × 60000 minus 0.1%');
});

test("the node's own trader against spot: entry fills; stop-loss and take-profit are refused before sending, positions are none, leverage is ignored", async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets(); // the node's instances always have their markets
  const trader = ccxtTrader(ex, new Credentials(creds.apiKey, creds.secret));
  const entry = await trader.placeOrder({ symbol: BTC, side: 'buy', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'n-1', reduceOnly: false });
  assert.equal(entry.status, 'closed');
  assert.equal(entry.filled, 0.01);
  assert.deepEqual(entry.fee, { cost: 0.00001, currency: 'BTC' });
  const failed = async (call: Promise<unknown>) => {
    const e = await failure(call);
    assert.ok(e instanceof ExchangeFailure, e.constructor.name);
    return e;
  };
  sim.resetCounts();
  const sl = await failed(trader.placeOrder({ symbol: BTC, side: 'sell', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'n-1-sl', reduceOnly: true, trigger: { kind: 'stop_loss', price: 58000 } }));
  assert.equal(sl.code, 'invalid_order');
  assert.match(sl.message, /stop-loss on a spot market needs an OCO order for the amount held/);
  const tp = await failed(trader.placeOrder({ symbol: BTC, side: 'sell', type: 'market', amount: 0.01, price: undefined, clientOrderId: 'n-1-tp', reduceOnly: false, trigger: { kind: 'take_profit', price: 63000 } }));
  assert.equal(tp.code, 'invalid_order');
  assert.equal(sim.requestCount(), 0, 'refused before anything reached the exchange (it would answer -1104 for reduceOnly, then insufficient balance)');
  assert.deepEqual(await trader.fetchPositions(undefined), [], 'a spot account holds coins, not positions: no futures endpoint is asked');
  assert.equal(sim.requestCount(), 0);
  const balances = await trader.fetchBalances();
  assert.deepEqual(balances.map((b) => [b.currency, b.total]), [['BTC', 0.00999], ['USDT', 9400]]);
  assert.equal((await trader.findOrder(BTC, 'n-1', false))?.status, 'closed');
  assert.equal(await trader.findOrder(BTC, 'n-1-sl', true), null, 'never placed');
  await trader.setLeverage(BTC, 3); // ignored on spot: the same signal trades the coins as they are
  await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000, { clientOrderId: 'n-2' });
  const dup = await failed(trader.placeOrder({ symbol: BTC, side: 'buy', type: 'limit', amount: 0.001, price: 50000, clientOrderId: 'n-2', reduceOnly: false }));
  assert.equal(dup.duplicateClientId, true, '"Duplicate order sent." is recognised as a taken client id');
});

test('the /__sim/ HTTP control surface drives the spot simulator too', async () => {
  const other = await startBinanceSpotSim();
  const ctl = (method: string, path: string, body?: unknown) =>
    fetch(`${other.url}/__sim/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as unknown }));
  try {
    assert.equal((await ctl('POST', 'accounts', [{ apiKey: 'h1', secret: 's1', usdt: 50, assets: { SOL: 3 } }])).status, 200);
    assert.equal((await ctl('POST', 'mark-price', { symbol: 'SOL/USDT', price: 160 })).status, 200);
    const price = (await (await fetch(`${other.url}/api/v3/ticker/price?symbol=SOLUSDT`)).json()) as { price: string };
    assert.equal(price.price, '160.00000000');
    const ex = new ccxt.binance({ apiKey: 'h1', secret: 's1', ...instanceSettings('binance', 10_000) });
    redirectInstance(ex, other.url);
    const order = await ex.createOrder('SOL/USDT', 'market', 'sell', 1, undefined, { clientOrderId: 'ctl-1' });
    assert.equal(order.average, 160);
    const orders = (await ctl('GET', 'orders?apiKey=h1')).json as Array<Record<string, unknown>>;
    assert.deepEqual(orders.map((o) => [o['clientOrderId'], o['amount']]), [['ctl-1', 1]]);
    assert.deepEqual((await ctl('GET', 'positions')).json, []);
    const counts = (await ctl('GET', 'counts')).json as Record<string, number>;
    assert.equal(counts['POST /api/v3/order'], 1);
    assert.equal(counts['GET /api/v3/exchangeInfo'], 1);
    assert.equal((await ctl('POST', 'reset')).status, 200);
    // The key is gone (-2015), which ccxt, having authenticated before, reads as a temporary ban.
    assert.equal(await errorClass(ex.fetchBalance()), 'DDoSProtection', 'reset drops the accounts');
  } finally {
    await other.close();
  }
});

test('latency is added with timers: concurrent requests overlap', async () => {
  sim.setLatency(200);
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${sim.url}/api/v3/time`)));
  const elapsed = Date.now() - started;
  assert.ok(answers.every((r) => r.status === 200));
  assert.ok(elapsed >= 190 && elapsed < 1000, `20 × 200 ms took ${elapsed} ms`);
});

test('close() returns promptly while a timed-out request holds its socket', async () => {
  const local = await startBinanceSpotSim();
  local.fault({ kind: 'timeout' });
  const pending = fetch(`${local.url}/api/v3/time`).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await local.close();
  assert.ok(Date.now() - t0 < 500);
  assert.ok((await pending) instanceof Error);
});
