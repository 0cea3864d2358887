import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import ccxt from 'ccxt';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import { startBitgetSim } from './bitget-sim.js';
import type { ExchangeSim, SimAccountSpec } from './exchange-sim.js';
import { type Sent, recordRequests } from './ccxt-calls.js';

/**
 * Drives the Bitget simulator with REAL, unmodified ccxt (`bitget`, built
 * with the node's instance settings and redirected the way the node
 * redirects it), so what passes here is what the node's ccxt code path
 * sees against Bitget — including where ccxt gets Bitget wrong.
 */

type Bitget = InstanceType<typeof ccxt.bitget>;
interface Creds {
  apiKey: string;
  secret: string;
  passphrase: string;
}

const BTC = 'BTC/USDT:USDT';
const SOL = 'SOL/USDT:USDT';
/** ccxt types fetchOrder's id as string; with a clientOrderId param it sends none. */
const NO_ID = undefined as unknown as string;
let sim: ExchangeSim;

before(async () => {
  sim = await startBitgetSim();
});
afterEach(() => {
  sim.clearFaults();
  sim.setLatency(0);
  for (const [symbol, price] of Object.entries({ [BTC]: 60000, 'ETH/USDT:USDT': 3000, [SOL]: 150 })) sim.setMarkPrice(symbol, price);
});
after(async () => {
  await sim.close();
});

function account(extra: Partial<SimAccountSpec> = {}): Creds {
  const creds = { apiKey: `bg_${randomUUID().replace(/-/g, '')}`, secret: randomUUID(), passphrase: `pass${randomUUID().slice(0, 8)}` };
  sim.addAccount({ ...creds, ...extra });
  return creds;
}

/** A bitget instance exactly as the node builds one (instanceSettings + redirectInstance), optionally recording what it sends. */
function exchange(creds: Creds, opts: { sent?: Sent[]; timeout?: number; options?: Record<string, unknown> } = {}): Bitget {
  const settings = instanceSettings('bitget', opts.timeout ?? 10_000);
  const ex = new ccxt.bitget({ apiKey: creds.apiKey, secret: creds.secret, password: creds.passphrase, ...settings, options: { ...(settings['options'] as object), ...opts.options } });
  redirectInstance(ex, sim.url);
  recordRequests(ex, opts.sent);
  return ex;
}

/** The ccxt error class a call ends in ('resolved' if it does not throw), and its message. */
async function failure(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await call;
    return { name: 'resolved', message: '' };
  } catch (error) {
    return { name: (error as Error).constructor.name, message: (error as Error).message };
  }
}
const errorClass = async (call: Promise<unknown>) => (await failure(call)).name;

/** A request signed by hand from Bitget's signature spec, to test the protocol without ccxt. */
async function signed(creds: Creds, method: 'GET' | 'POST', path: string, params: Record<string, unknown>, tweak: { timestamp?: number; passphrase?: string; secret?: string } = {}) {
  const timestamp = String(tweak.timestamp ?? Date.now());
  const query = method === 'GET' ? new URLSearchParams(params as Record<string, string>).toString() : '';
  const body = method === 'POST' ? JSON.stringify(params) : '';
  const prehash = timestamp + method + path + (query ? `?${query}` : '') + body;
  const sign = createHmac('sha256', tweak.secret ?? creds.secret).update(prehash).digest('base64');
  const res = await fetch(`${sim.url}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: { 'ACCESS-KEY': creds.apiKey, 'ACCESS-SIGN': sign, 'ACCESS-TIMESTAMP': timestamp, 'ACCESS-PASSPHRASE': tweak.passphrase ?? creds.passphrase, 'Content-Type': 'application/json', locale: 'en-US' },
    ...(body ? { body } : {}),
  });
  return { status: res.status, json: (await res.json()) as { code: string; msg: string; data: unknown } };
}

const order = (symbol: string, extra: Record<string, string>) => ({ symbol, productType: 'USDT-FUTURES', marginMode: 'crossed', marginCoin: 'USDT', orderType: 'market', side: 'buy', ...extra });

test('markets: ccxt asks for every default market type (UTA probe, spot, margin, six futures product types) and parses Bitget precision', async () => {
  sim.resetCounts();
  const narrowed = exchange(account());
  await narrowed.loadMarkets();
  assert.equal(sim.requestCount({ operation: 'markets' }), 6, "the node's settings: the 6 contract product types, no spot");
  sim.resetCounts();
  const sent: Sent[] = [];
  // ccxt's own defaults, which the node narrows (src/exchange/market-types.ts).
  const ex = exchange(account(), { sent, options: { fetchMarkets: { types: ['spot', 'swap'] } } });
  await ex.loadMarkets();
  assert.equal(sim.requestCount({ operation: 'markets' }), 8, 'spot symbols + margin currencies + 6 contract product types');
  assert.equal(sim.requestCount({ path: '/api/v2/mix/market/contracts' }), 6);
  assert.equal(sim.requestCount({ path: '/api/v3/account/settings' }), 1, 'ccxt probes the Unified Trading Account API once; a Classic account answers 40084');
  // instanceSettings' fetchCurrencies:false is a Binance option: ccxt's bitget still fetches the coin list.
  assert.equal(sim.requestCount({ path: '/api/v2/spot/public/coins' }), 1);
  assert.equal(sim.requestCount(), 10);
  assert.deepEqual(
    sent.filter((s) => s.url.includes('contracts')).map((s) => new URL(s.url).searchParams.get('productType')),
    ['USDT-FUTURES', 'COIN-FUTURES', 'USDC-FUTURES', 'SUSDT-FUTURES', 'SCOIN-FUTURES', 'SUSDC-FUTURES'],
  );

  const btc = ex.market(BTC);
  assert.equal(btc.id, 'BTCUSDT');
  assert.equal(btc.swap && btc.linear, true);
  assert.equal(btc.contractSize, 1, 'Bitget sizes USDT-M orders in the base coin');
  assert.equal(btc.precision.amount, 0.0001);
  assert.equal(btc.precision.price, 0.1);
  assert.equal(btc.limits.amount?.min, 0.0001);
  assert.equal(btc.limits.cost?.min, 5);
  assert.equal(btc.limits.leverage?.max, 125);
  assert.equal(btc.taker, 0.0006);
  assert.equal(ex.market(SOL).precision.price, 0.001);
  assert.equal(ex.market(SOL).limits.leverage?.max, 100);
  const pepe = ex.market('PEPE/USDT:USDT');
  assert.equal(pepe.precision.amount, 1000, 'PEPE trades in lots of 1,000 PEPE');
  assert.equal(pepe.contractSize, 1);
  assert.ok(ex.markets?.['BTC/USDT']?.spot, 'spot pairs are listed too');
  assert.deepEqual(sim.symbols, [BTC, 'ETH/USDT:USDT', SOL, 'PEPE/USDT:USDT']);
});

test('signatures: good, wrong secret (40009), wrong passphrase (40012), unknown key (40006), stale timestamp (40008)', async () => {
  const creds = account();
  assert.equal((await exchange(creds).fetchBalance({ type: 'swap' }))['USDT']?.total, 10000);
  const badSecret = await failure(exchange({ ...creds, secret: 'wrong' }).fetchBalance({ type: 'swap' }));
  assert.equal(badSecret.name, 'AuthenticationError');
  assert.match(badSecret.message, /"code":"40009","msg":"sign signature error"/);
  const badPass = await failure(exchange({ ...creds, passphrase: 'wrong' }).fetchBalance({ type: 'swap' }));
  assert.equal(badPass.name, 'AuthenticationError');
  assert.match(badPass.message, /40012/);
  assert.equal(await errorClass(exchange({ ...creds, apiKey: 'nobody' }).fetchBalance({ type: 'swap' })), 'AuthenticationError');
  const stale = exchange(creds);
  await stale.loadMarkets();
  stale.nonce = () => Date.now() - 31_000;
  const staleFailure = await failure(stale.fetchBalance({ type: 'swap' }));
  assert.equal(staleFailure.name, 'InvalidNonce');
  assert.match(staleFailure.message, /40008/);

  // By hand: the query string is part of the signed text, and the envelope is Bitget's.
  const ok = await signed(creds, 'GET', '/api/v2/mix/account/accounts', { productType: 'USDT-FUTURES' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.code, '00000');
  assert.equal(ok.json.msg, 'success');
  const raw = await fetch(`${sim.url}/api/v2/mix/account/accounts?productType=USDT-FUTURES`, {
    headers: { 'ACCESS-KEY': creds.apiKey, 'ACCESS-SIGN': createHmac('sha256', creds.secret).update(`${Date.now()}GET/api/v2/mix/account/accounts`).digest('base64'), 'ACCESS-TIMESTAMP': String(Date.now()), 'ACCESS-PASSPHRASE': creds.passphrase },
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as { code: string }).code, '40009', 'a signature without the query string is refused');
  assert.equal((await signed(creds, 'GET', '/api/v2/mix/account/accounts', { productType: 'USDT-FUTURES' }, { passphrase: 'x' })).json.code, '40012');
  assert.equal((await signed(creds, 'GET', '/api/v2/mix/account/accounts', { productType: 'USDT-FUTURES' }, { timestamp: Date.now() - 60_000 })).json.code, '40008');
  assert.equal((await signed({ ...creds, apiKey: 'nobody' }, 'GET', '/api/v2/mix/account/accounts', { productType: 'USDT-FUTURES' })).json.code, '40006');
});

test('a market entry fills at the mark; createOrder returns ids only, fetchOrder by clientOrderId returns the fill', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  const placed = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-1' });
  assert.equal(placed.status, undefined, 'place-order answers {orderId, clientOid} only');
  assert.equal(placed.clientOrderId, 'mkt-1');
  const post = sent.find((s) => s.method === 'POST');
  assert.ok(post?.url.endsWith('/api/v2/mix/order/place-order'));
  assert.deepEqual(JSON.parse(post?.body ?? '{}'), { symbol: 'BTCUSDT', orderType: 'market', force: 'GTC', marginCoin: 'USDT', size: '0.01', productType: 'USDT-FUTURES', clientOid: 'mkt-1', marginMode: 'crossed', side: 'buy' });

  const found = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'mkt-1' });
  assert.equal(found.id, placed.id);
  assert.equal(found.status, 'closed');
  assert.equal(found.filled, 0.01);
  assert.equal(found.average, 60000);
  assert.equal(found.fee?.cost, 0.36, 'taker 0.06% of 600 USDT');
  assert.equal(found.fee?.currency, 'USDT');
  assert.match(sent.at(-1)?.url ?? '', /\/api\/v2\/mix\/order\/detail\?clientOid=mkt-1&productType=USDT-FUTURES&symbol=BTCUSDT$/);
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'never-sent' })), 'OrderNotFound', '40109');

  const [view] = sim.orders(creds.apiKey);
  assert.equal(view?.amount, 0.01);
  assert.equal(view?.status, 'filled');
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.symbol, p.side, p.amount, p.entryPrice]), [[BTC, 'long', 0.01, 60000]]);
});

test('a resent clientOid is refused with 40786 "Duplicate clientOid" and ccxt raises a plain ExchangeError', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' });
  const again = await failure(ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'dup-1' }));
  assert.equal(again.name, 'ExchangeError', '40786 is not in ccxt bitget exception table');
  assert.match(again.message, /"code":"40786","msg":"Duplicate clientOid"/);
  assert.equal(sim.orders(creds.apiKey).length, 1, 'nothing placed twice');
  // Also for a filled or cancelled order's id, and for plan orders in their own book.
  const limit = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' });
  await ex.cancelOrder(limit.id ?? '', BTC);
  assert.match((await failure(ex.createOrder(BTC, 'limit', 'buy', 0.01, 58000, { clientOrderId: 'dup-2' }))).message, /40786/);
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 55000, clientOrderId: 'dup-3' });
  assert.match((await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 65000, clientOrderId: 'dup-3' }))).message, /40786/);
});

test('ccxt stopLossPrice / takeProfitPrice become WHOLE-POSITION plans (pos_loss / pos_profit); one of each per position', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 's1' });
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 's1-sl' });
  const tp = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 63000, reduceOnly: true, clientOrderId: 's1-tp' });
  const posts = sent.filter((s) => s.method === 'POST' && s.url.endsWith('/api/v2/mix/order/place-tpsl-order')).map((s) => JSON.parse(s.body ?? '{}') as Record<string, string>);
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[0], { symbol: 'BTCUSDT', orderType: 'market', force: 'GTC', marginCoin: 'USDT', size: '0.01', productType: 'USDT-FUTURES', clientOid: 's1-sl', triggerType: 'mark_price', holdSide: 'buy', triggerPrice: '58000', planType: 'pos_loss' });
  assert.equal(posts[1]?.['planType'], 'pos_profit');
  assert.equal(sl.clientOrderId, 's1-sl');
  assert.equal(tp.status, undefined);
  const plans = sim.orders(creds.apiKey).filter((o) => o.type !== 'market');
  assert.deepEqual(plans.map((o) => [o.type, o.status, o.amount, o.triggerPrice]), [['stop_loss', 'open', null, 58000], ['take_profit', 'open', null, 63000]], 'the size ccxt sent is ignored: whole position');

  // A second signal on the same symbol cannot get its own stop: Bitget keeps one position stop.
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 's2' });
  const second = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 57000, reduceOnly: true, clientOrderId: 's2-sl' }));
  assert.equal(second.name, 'ExchangeError');
  assert.match(second.message, /"code":"43031"/);
});

test('a pos_loss that fires closes the WHOLE position, two signals included, and takes the take-profit with it', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'w1' });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'w2' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 'w1-sl' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 64000, reduceOnly: true, clientOrderId: 'w1-tp' });
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => p.amount), [0.02]);

  sim.setMarkPrice(BTC, 57900);
  assert.deepEqual(sim.positions(creds.apiKey), [], 'both signals closed by the first signal\'s stop');
  const views = sim.orders(creds.apiKey);
  const stop = views.find((o) => o.clientOrderId === 'w1-sl');
  const take = views.find((o) => o.clientOrderId === 'w1-tp');
  assert.equal(stop?.status, 'triggered');
  assert.equal(take?.status, 'canceled', 'a position that closes cancels its TP/SL');
  const exit = views.find((o) => o.parentId === stop?.id);
  assert.deepEqual([exit?.type, exit?.side, exit?.amount, exit?.filled, exit?.average, exit?.reduceOnly], ['market', 'sell', 0.02, 0.02, 57900, true]);
  assert.deepEqual(await ex.fetchPositions([BTC]), []);
  const balance = await ex.fetchBalance({ type: 'swap' });
  assert.equal(Number(balance['USDT']?.total?.toFixed(6)), Number((10000 - 1200 * 0.0006 + 0.02 * -2100 - 0.02 * 57900 * 0.0006).toFixed(6)));
});

test('fetchOrder(…, {clientOrderId, trigger: true}) asks the REGULAR detail endpoint and gets 40109 for a plan order; the plan endpoints find it', async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 't1' });
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 't1-sl' });

  const lost = await failure(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 't1-sl', trigger: true }));
  assert.equal(lost.name, 'OrderNotFound', 'the node reads this as "never placed"');
  assert.match(lost.message, /40109/);
  assert.match(sent.at(-1)?.url ?? '', /\/api\/v2\/mix\/order\/detail\?clientOid=t1-sl&productType=USDT-FUTURES&symbol=BTCUSDT&trigger=true$/, 'trigger is passed through as an unknown query parameter');

  // ccxt's trigger open-orders default to planType normal_plan, which excludes TP/SL.
  assert.deepEqual(await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true }), []);
  const tpsl = await ex.fetchOpenOrders(BTC, undefined, undefined, { planType: 'profit_loss' });
  assert.deepEqual(tpsl.map((o) => [o.clientOrderId, o.status, o.triggerPrice, o.side]), [['t1-sl', 'open', 58000, 'sell']]);
  // The raw endpoint looks a plan up by clientOid.
  const raw = await signed(creds, 'GET', '/api/v2/mix/order/orders-plan-pending', { planType: 'profit_loss', productType: 'USDT-FUTURES', clientOid: 't1-sl' });
  const list = (raw.json.data as { entrustedList: Array<Record<string, string>> }).entrustedList;
  assert.deepEqual(list.map((x) => [x['clientOid'], x['planType'], x['planStatus'], x['triggerPrice'], x['size']]), [['t1-sl', 'pos_loss', 'live', '58000', '']]);
  assert.equal((await signed(creds, 'GET', '/api/v2/mix/order/orders-plan-pending', { productType: 'USDT-FUTURES' })).json.code, '40019', 'planType is required');

  sim.setMarkPrice(BTC, 57000);
  const history = await ex.fetchCanceledAndClosedOrders(BTC, undefined, undefined, { planType: 'profit_loss' });
  assert.deepEqual(history.map((o) => [o.clientOrderId, o.status]), [['t1-sl', 'closed']], 'planStatus executed');
  const executed = (history[0]?.info as Record<string, string>)['executeOrderId'];
  const exit = await ex.fetchOrder(executed ?? '', BTC);
  assert.deepEqual([exit.status, exit.filled, exit.average, exit.reduceOnly], ['closed', 0.01, 57000, true]);
  assert.equal((exit.info as Record<string, string>)['orderSource'], 'pos_loss_market');
});

test('cancelOrder(id, symbol, {trigger: true}) cancels normal_plan only: a TP/SL needs its planType', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const sl = await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true, clientOrderId: 'c1-sl' });
  const wrong = await ex.cancelOrder(sl.id ?? '', BTC, { trigger: true });
  assert.equal(wrong.id, undefined, 'Bitget lists it under failureList; ccxt reads an empty successList as an order with no id');
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'c1-sl')?.status, 'open');
  const right = await ex.cancelOrder(sl.id ?? '', BTC, { trigger: true, planType: 'pos_loss' });
  assert.equal(right.id, sl.id);
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'c1-sl')?.status, 'canceled');

  // A normal_plan trigger order is cancelled by the default.
  const plan = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { triggerPrice: 62000, clientOrderId: 'c1-plan' });
  assert.equal((await ex.fetchOpenOrders(BTC, undefined, undefined, { trigger: true })).length, 1);
  assert.equal((await ex.cancelOrder(plan.id ?? '', BTC, { trigger: true })).id, plan.id);
});

test("Bitget's attached TP/SL (presetStopLossPrice / presetStopSurplusPrice) become partial plans of the entry's size", async () => {
  const sent: Sent[] = [];
  const creds = account();
  const ex = exchange(creds, { sent });
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'a1', stopLoss: { triggerPrice: 58000 }, takeProfit: { triggerPrice: 62000 } });
  const body = JSON.parse(sent.find((s) => s.method === 'POST')?.body ?? '{}') as Record<string, string>;
  assert.equal(body['presetStopLossPrice'], '58000');
  assert.equal(body['presetStopSurplusPrice'], '62000');
  const entry = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'a1' });
  assert.equal(entry.stopLossPrice, 58000);
  assert.equal(entry.takeProfitPrice, 62000);
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'a2' });
  const legs = sim.orders(creds.apiKey).filter((o) => o.parentId === entry.id);
  assert.deepEqual(legs.map((o) => [o.type, o.amount, o.triggerPrice]), [['stop_loss', 0.01, 58000], ['take_profit', 0.01, 62000]]);

  sim.setMarkPrice(BTC, 62100);
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => p.amount), [0.01], 'the attached take-profit closes only the entry it came with');
  assert.equal(sim.orders(creds.apiKey).find((o) => o.parentId === entry.id && o.type === 'stop_loss')?.status, 'open');
});

test('trigger prices on the wrong side of the mark and TP/SL without a position are refused', async () => {
  const creds = account();
  const ex = exchange(creds);
  const none = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, reduceOnly: true }));
  assert.equal(none.name, 'ExchangeError');
  assert.match(none.message, /40837/);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const longStop = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 61000, reduceOnly: true }));
  assert.equal(longStop.name, 'InvalidOrder');
  assert.match(longStop.message, /"code":"40917","msg":"Stop price for long positions please < mark price 60000"/);
  const longTake = await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { takeProfitPrice: 59000, reduceOnly: true }));
  assert.equal(longTake.name, 'ExchangeError', '40915 is not in ccxt table');
  assert.match(longTake.message, /40915/);
  await ex.createOrder(SOL, 'market', 'sell', 1);
  const shortStop = await failure(ex.createOrder(SOL, 'market', 'buy', 1, undefined, { stopLossPrice: 140, reduceOnly: true }));
  assert.equal(shortStop.name, 'InvalidOrder');
  assert.match(shortStop.message, /45122/);
  assert.equal(sim.orders(creds.apiKey).filter((o) => o.triggerPrice !== null).length, 0);
});

test('reduce-only (one-way): nothing to reduce 22002, more than the position 40757, otherwise it closes', async () => {
  const creds = account();
  const ex = exchange(creds);
  assert.match((await failure(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true }))).message, /"code":"22002"/);
  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  assert.match((await failure(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { reduceOnly: true }))).message, /"code":"40757"/);
  // Resting reduce-only orders that together exceed the position: Bitget cancels the oldest.
  const first = await ex.createOrder(BTC, 'limit', 'sell', 0.01, 61000, { reduceOnly: true, clientOrderId: 'r1' });
  await ex.createOrder(BTC, 'limit', 'sell', 0.01, 62000, { reduceOnly: true, clientOrderId: 'r2' });
  assert.equal((await ex.fetchOrder(first.id ?? '', BTC)).status, 'canceled');
  await ex.createOrder(BTC, 'market', 'sell', 0.005, undefined, { reduceOnly: true, clientOrderId: 'r3' });
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => p.amount), [0.005]);
  const r3 = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'r3' });
  assert.equal(r3.reduceOnly, true);
});

test('hedge mode: tradeSide is required (ccxt sends it only with hedged: true), one-way refuses it (40774)', async () => {
  const sent: Sent[] = [];
  const oneWay = account();
  const exOne = exchange(oneWay);
  const refused = await failure(exOne.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true }));
  assert.equal(refused.name, 'InvalidOrder');
  assert.match(refused.message, /"code":"40774"/);

  const creds = account();
  const ex = exchange(creds, { sent });
  const mode = (await ex.setPositionMode(true, BTC)) as { data?: { posMode?: string } };
  assert.equal(mode.data?.posMode, 'hedge_mode');
  assert.equal(((await signed(creds, 'GET', '/api/v2/mix/account/account', { symbol: 'BTCUSDT', productType: 'USDT-FUTURES', marginCoin: 'USDT' })).json.data as Record<string, string>)['posMode'], 'hedge_mode');
  assert.match((await failure(ex.createOrder(BTC, 'market', 'buy', 0.01))).message, /40774/, 'no tradeSide in hedge mode');
  await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { hedged: true, clientOrderId: 'h-long' });
  await ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { hedged: true, clientOrderId: 'h-short' });
  assert.equal((JSON.parse(sent.filter((s) => s.method === 'POST').at(-1)?.body ?? '{}') as Record<string, string>)['tradeSide'], 'Open');
  const positions = await ex.fetchPositions([BTC]);
  assert.deepEqual(positions.map((p) => [p.side, p.contracts, p.hedged]).sort(), [['long', 0.01, true], ['short', 0.02, true]]);
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.side, p.amount]).sort(), [['long', 0.01], ['short', 0.02]]);

  // Close the long: ccxt flips reduceOnly sells into side=buy + tradeSide=Close.
  await ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { hedged: true, reduceOnly: true, clientOrderId: 'h-close' });
  const closeBody = JSON.parse(sent.filter((s) => s.method === 'POST').at(-1)?.body ?? '{}') as Record<string, string>;
  assert.deepEqual([closeBody['side'], closeBody['tradeSide']], ['buy', 'Close']);
  const close = await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'h-close' });
  assert.deepEqual([close.side, close.reduceOnly, close.status], ['sell', true, 'closed']);
  assert.deepEqual(sim.positions(creds.apiKey).map((p) => [p.side, p.amount]), [['short', 0.02]]);
  // Without hedged: true ccxt sends the one-way holdSide (buy/sell), which a hedge account refuses.
  assert.match((await failure(ex.createOrder(BTC, 'market', 'buy', 0.02, undefined, { stopLossPrice: 61000 }))).message, /"code":"40774"/);
  const hedgeStop = await ex.createOrder(BTC, 'market', 'buy', 0.02, undefined, { hedged: true, stopLossPrice: 61000, clientOrderId: 'h-sl' });
  assert.ok(hedgeStop.id);
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'h-sl')?.positionSide, 'short');
  assert.match((await failure(ex.setPositionMode(false, BTC))).message, /"code":"40920"/, 'not with a position open');
});

test('leverage set twice succeeds; above the maximum 40797; margin mode must match the order and cannot change with a position', async () => {
  const creds = account();
  const ex = exchange(creds);
  const first = (await ex.setLeverage(10, BTC)) as { code?: string; data?: Record<string, string> };
  const second = (await ex.setLeverage(10, BTC)) as { code?: string; data?: Record<string, string> };
  assert.equal(first.code, '00000');
  assert.equal(second.code, '00000', 'no "leverage not modified" error on Bitget');
  assert.equal(second.data?.['crossMarginLeverage'], '10');
  assert.equal(sim.leverage(creds.apiKey, BTC), 10);
  assert.equal(sim.leverage(creds.apiKey, SOL), 20, 'default');
  const high = await failure(ex.setLeverage(126, BTC));
  assert.equal(high.name, 'ExchangeError');
  assert.match(high.message, /"code":"40797","msg":"Exceeded the maximum settable leverage"/);

  const isolated = (await ex.setMarginMode('isolated', SOL)) as { data?: Record<string, string> };
  assert.equal(isolated.data?.['marginMode'], 'isolated');
  const mismatch = await failure(ex.createOrder(SOL, 'market', 'buy', 1));
  assert.equal(mismatch.name, 'InvalidOrder', 'ccxt defaults every order to marginMode crossed');
  assert.match(mismatch.message, /40808/);
  await ex.createOrder(SOL, 'market', 'buy', 1, undefined, { marginMode: 'isolated' });
  assert.equal(sim.positions(creds.apiKey)[0]?.marginMode, 'isolated');
  assert.match((await failure(ex.setMarginMode('cross', SOL))).message, /45117/);

  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  const balance = await ex.fetchBalance({ type: 'swap' });
  assert.equal(Number(balance['USDT']?.used?.toFixed(6)), Number((600 / 10 + 150 / 20).toFixed(6)), 'BTC at 10x, SOL at 20x');
});

test('balance: fetchBalance() with no type reads the SPOT wallet; the futures wallet needs type swap', async () => {
  const sent: Sent[] = [];
  const creds = account({ usdt: 5000, assets: { BTC: 0.25 } });
  const ex = exchange(creds, { sent });
  const spot = await ex.fetchBalance();
  assert.match(sent.at(-1)?.url ?? '', /\/api\/v2\/spot\/account\/assets$/);
  assert.equal(spot['USDT'], undefined, 'the 5,000 USDT futures wallet is not in the default answer');
  assert.equal(spot['BTC']?.total, 0.25);
  const futures = await ex.fetchBalance({ type: 'swap' });
  assert.match(sent.at(-1)?.url ?? '', /\/api\/v2\/mix\/account\/accounts\?productType=USDT-FUTURES$/);
  assert.deepEqual([futures['USDT']?.free, futures['USDT']?.used, futures['USDT']?.total], [5000, 0, 5000]);

  await ex.createOrder(BTC, 'market', 'buy', 0.01);
  sim.setMarkPrice(BTC, 61000);
  const after = await ex.fetchBalance({ type: 'swap' });
  assert.equal(after['USDT']?.total, 5000 - 0.36 + 10, 'equity = wallet − fee + unrealised');
  assert.equal(after['USDT']?.free, 5000 - 0.36 - 30, 'maxTransferOut: no unrealised profit, minus margin');
  const [position] = await ex.fetchPositions([BTC]);
  assert.deepEqual(
    [position?.side, position?.contracts, position?.contractSize, position?.entryPrice, position?.markPrice, position?.unrealizedPnl, position?.notional, position?.leverage, position?.marginMode, position?.hedged],
    ['long', 0.01, 1, 60000, 61000, 10, 610, 20, 'cross', false],
  );
  assert.equal(sim.requestCount({ operation: 'positions' }) > 0, true);
});

test('lot, precision, minimum, balance and price-band rules answer Bitget codes', async () => {
  const creds = account({ usdt: 100 });
  const post = (extra: Record<string, string>, symbol = 'BTCUSDT') => signed(creds, 'POST', '/api/v2/mix/order/place-order', order(symbol, extra));
  assert.deepEqual((await post({ size: '0.00015' })).json.msg, 'Parameter verification exception size checkBDScale error value=0.00015 checkScale=4');
  assert.equal((await post({ size: '0.00005' })).json.code, '40808');
  assert.equal((await post({ size: '0.0001' })).json.code, '00000', '0.0001 BTC = 6 USDT clears the 5 USDT minimum');
  assert.equal((await post({ size: '1000' }, 'PEPEUSDT')).json.code, '45110', '1,000 PEPE = 0.01 USDT');
  assert.equal((await post({ size: '1500' }, 'PEPEUSDT')).json.code, '40808', 'PEPE is traded in whole thousands');
  assert.equal((await post({ size: '0.1' })).json.code, '40762', '6,000 USDT at 20x needs 300 USDT');
  assert.equal((await post({ size: '0.001', orderType: 'limit', price: '59000.05' })).json.code, '41103');
  assert.equal((await post({ size: '0.001', orderType: 'limit', price: '64000' })).json.code, '40815');
  assert.equal((await post({ size: '0.001', orderType: 'limit', side: 'sell', price: '56000' })).json.code, '40816');
  assert.equal((await post({ size: '0.001', tradeSide: 'open' })).json.code, '40774');
  assert.equal((await post({ size: '0.001' }, 'DOGEUSDT')).json.code, '40102');
  assert.equal((await post({ size: '0.001', clientOid: 'x'.repeat(51) })).json.code, '40304');
  const okOrder = await post({ size: '1000000', clientOid: 'pepe-1' }, 'PEPEUSDT');
  assert.equal(okOrder.json.code, '00000', JSON.stringify(okOrder.json));
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'pepe-1')?.amount, 1_000_000, 'normalised views are in base coin: a million PEPE');
  assert.equal((await signed(creds, 'GET', '/api/v2/mix/order/detail', { symbol: 'BTCUSDT', productType: 'USDT-FUTURES', orderId: '1' })).json.code, '40109');
  const unknown = await signed(creds, 'GET', '/api/v2/mix/order/nope', {});
  assert.deepEqual([unknown.status, unknown.json.code], [404, '40404']);
});

test('a resting limit holds margin and fills as maker when the mark crosses it', async () => {
  const creds = account();
  const ex = exchange(creds);
  const resting = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 59000, { clientOrderId: 'l1' });
  assert.deepEqual((await ex.fetchOpenOrders(BTC)).map((o) => [o.clientOrderId, o.status, o.price, o.amount]), [['l1', 'open', 59000, 0.01]]);
  assert.equal((await ex.fetchBalance({ type: 'swap' }))['USDT']?.used, 29.5, '590 / 20x frozen');
  sim.setMarkPrice(BTC, 58900);
  const filled = await ex.fetchOrder(resting.id ?? '', BTC);
  assert.deepEqual([filled.status, filled.average, filled.fee?.cost], ['closed', 59000, 0.118], 'maker 0.02%');
  assert.deepEqual(await ex.fetchOpenOrders(BTC), []);
  assert.equal(await errorClass(ex.cancelOrder(resting.id ?? '', BTC)), 'OrderNotFound', '40768 for an order no longer open');
});

test('faults: 429, 500, 503 after processing, timeouts before and after, rejects', async () => {
  const creds = account();
  const ex = exchange(creds);
  await ex.loadMarkets();
  const place = (id?: string) => ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, id ? { clientOrderId: id } : {});
  const placed = () => sim.orders(creds.apiKey).length;

  sim.fault({ kind: 'rate_limit', operation: 'place_order', apiKey: creds.apiKey });
  const limited = await failure(place());
  assert.equal(limited.name, 'DDoSProtection');
  assert.match(limited.message, /"code":"429","msg":"Too Many Requests"/);
  sim.fault({ kind: 'http_500', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(place()), 'ExchangeNotAvailable');
  assert.equal(placed(), 0);

  sim.fault({ kind: 'http_503_after', operation: 'place_order', apiKey: creds.apiKey });
  assert.equal(await errorClass(place('u1')), 'ExchangeNotAvailable');
  assert.equal(placed(), 1, 'placed although the client saw an error');
  assert.equal((await ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'u1' })).status, 'closed');

  const hasty = exchange(creds, { timeout: 300 });
  await hasty.loadMarkets();
  sim.fault({ kind: 'timeout', operation: 'place_trigger', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000 })), 'RequestTimeout');
  sim.fault({ kind: 'timeout_after', operation: 'place_trigger', apiKey: creds.apiKey });
  assert.equal(await errorClass(hasty.createOrder(BTC, 'market', 'sell', 0.01, undefined, { stopLossPrice: 58000, clientOrderId: 'u1-sl' })), 'RequestTimeout');
  assert.equal(sim.orders(creds.apiKey).find((o) => o.clientOrderId === 'u1-sl')?.status, 'open');

  sim.fault({ kind: 'reject', operation: 'place_order', apiKey: creds.apiKey, code: '40762', msg: 'The order amount exceeds the balance' });
  assert.equal(await errorClass(place()), 'InsufficientFunds');
  sim.fault({ kind: 'reject', operation: 'query_order', code: '40015', times: Number.POSITIVE_INFINITY });
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'u1' })), 'ExchangeError');
  assert.equal(await errorClass(ex.fetchOrder(NO_ID, BTC, { clientOrderId: 'u1' })), 'ExchangeError', 'times: Infinity keeps matching');
  sim.clearFaults();
  assert.equal(sim.requestCount({ operation: 'place_order', apiKey: creds.apiKey }), 4, 'every place-order the faults answered was counted');
});

test('close() returns promptly while a timed-out request holds its socket', async () => {
  const local = await startBitgetSim();
  local.fault({ kind: 'timeout' });
  const pending = fetch(`${local.url}/api/v2/public/time`).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  await local.close();
  assert.ok(Date.now() - t0 < 500);
  assert.ok((await pending) instanceof Error);
});
