import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { clientOrderIdFor, protectionOrderId } from '../../src/core/client-order-id.js';
import { Credentials } from '../../src/core/credentials.js';
import { ExecuteRequestSchema, SignalSchema, type AccountOrder } from '../../src/core/wire-execute.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import type { OrderRequest, OrderSnapshot, RestingOrder, Trader } from '../../src/exchange/trader.js';
import { newActionProgress } from '../../src/execution/action-progress.js';
import { actionResultOf } from '../../src/execution/action-result.js';
import { closePositions, updateProtection } from '../../src/execution/position-actions.js';
import { execute } from '../../src/execution/execute.js';
import { createLimiter } from '../../src/execution/limiter.js';
import { createSymbolTurns } from '../../src/execution/symbol-turns.js';
import type { TraderPool } from '../../src/exchange/trader-pool.js';
import pino from 'pino';

/**
 * The steps of an action against a one-way account held in memory, for the
 * paths a simulator cannot easily reach: a resend after a partial earlier
 * attempt, an exchange refusing a new stop, the deadline mid-action.
 */
const SYMBOL = 'BTC/USDT:USDT';

/** A one-way account: one long, a book of resting trigger orders. */
function fakeTrader(opts: { long: number; mark: number | null; failCancel?: (o: RestingOrder) => boolean; refuse?: (r: OrderRequest) => boolean }) {
  let long = opts.long;
  let n = 1;
  const book = new Map<string, { resting: RestingOrder; snap: OrderSnapshot; open: boolean }>();
  const trader: Trader = {
    exchange: 'fake',
    async placeOrder(r) {
      if (opts.refuse?.(r)) throw new ExchangeFailure('invalid_order', 'Order would immediately trigger');
      const id = String(n++);
      if (!r.trigger) {
        const filled = Math.min(r.amount, long);
        long = Number((long - filled).toPrecision(12));
        const snap: OrderSnapshot = { id, clientOrderId: r.clientOrderId, status: 'closed', amount: r.amount, filled, average: 60000, fee: null };
        book.set(r.clientOrderId, { resting: undefined as never, snap, open: false });
        return snap;
      }
      const resting: RestingOrder = { id, clientOrderId: r.clientOrderId, symbol: r.symbol, side: r.side, amount: r.amount, filled: 0, price: null, trigger: { kind: r.trigger.kind, price: r.trigger.price }, reduceOnly: true, positionSide: null };
      const snap: OrderSnapshot = { id, clientOrderId: r.clientOrderId, status: 'open', amount: r.amount, filled: 0, average: null, fee: null };
      book.set(r.clientOrderId, { resting, snap, open: true });
      return snap;
    },
    async findOrder(_s, coid) {
      return book.get(coid)?.snap ?? null;
    },
    async setLeverage() {},
    async setMarginMode() {},
    async fetchBalances() { return []; },
    async marketSizing() { throw new Error('not sized here'); },
    async lastPrice() { return undefined; },
    async fetchPositions() {
      return long > 0 ? [{ symbol: SYMBOL, side: 'long', contracts: long, contract_size: 1, entry_price: 60000, mark_price: opts.mark, notional: null, unrealized_pnl: null, leverage: null, liquidation_price: null, margin_mode: null }] : [];
    },
    positionMode: () => 'one_way',
    async openOrders() {
      return [...book.values()].filter((o) => o.open).map((o) => o.resting);
    },
    async cancelOrder(o) {
      if (opts.failCancel?.(o)) throw new ExchangeFailure('exchange_unavailable', 'cancel failed (5xx)');
      const e = [...book.values()].find((x) => x.resting?.id === o.id);
      if (!e || !e.open) return false;
      e.open = false;
      e.snap = { ...e.snap, status: 'canceled' };
      return true;
    },
  };
  const seed = (coid: string, kind: 'stop_loss' | 'take_profit', amount: number, price: number) =>
    trader.placeOrder({ symbol: SYMBOL, side: 'sell', type: 'market', amount, price: undefined, clientOrderId: coid, reduceOnly: true, trigger: { kind, price } });
  const stops = () => [...book.values()].filter((o) => o.open && o.resting.trigger?.kind === 'stop_loss').map((o) => o.resting.amount);
  return { trader, seed, stops, long: () => long };
}

const account = (signalId: string): AccountOrder => ({ account_id: 1, exchange: 'fake', credentials: new Credentials('key-1234', 'secret-1234'), sandbox: false, quantity: undefined, client_order_id: clientOrderIdFor(signalId, 1) });

test('reduce: a resend after the old stop was not cancelled cancels it and keeps the replacement, never shrinking the protection again', async () => {
  let cancelFails = true;
  const f = fakeTrader({ long: 1, mark: 60000, failCancel: () => cancelFails });
  const openId = clientOrderIdFor('open-1', 1);
  await f.seed(protectionOrderId(openId, 'stop_loss'), 'stop_loss', 1, 55000);
  const signal = v.parse(SignalSchema, { signal_id: 'reduce-1', symbol: SYMBOL, action: 'reduce', close_fraction: 0.5 });
  const acct = account('reduce-1');
  // Attempt 1: close fills, SL' (0.5) placed, the old SL's cancel fails (or the node dies there); its answer is lost.
  const p1 = newActionProgress();
  await closePositions(f.trader, signal, acct, false, p1);
  assert.deepEqual(f.stops().sort(), [0.5, 1]);
  // Attempt 2 (resend, lookupFirst), the exchange healthy again.
  cancelFails = false;
  const p2 = newActionProgress();
  await closePositions(f.trader, signal, acct, true, p2);
  assert.equal(f.long(), 0.5, 'the resend found the close and placed no other');
  assert.deepEqual(f.stops(), [0.5], `the 0.5 left should have one 0.5 stop, has ${JSON.stringify(f.stops())}`);
});

test('update_protection: a new stop refused for its price leaves the old stop in place', async () => {
  // Mark price unknown (or stale / last price differs): the exchange refuses the new trigger as "would immediately trigger".
  const f = fakeTrader({ long: 1, mark: null, refuse: (r) => r.trigger?.kind === 'stop_loss' && r.trigger.price >= 60000 });
  await f.seed(protectionOrderId(clientOrderIdFor('open-2', 1), 'stop_loss'), 'stop_loss', 1, 55000);
  const signal = v.parse(SignalSchema, { signal_id: 'upd-1', symbol: SYMBOL, action: 'update_protection', position_side: 'long', stop_loss: 61000 });
  const acct = account('upd-1');
  const p = newActionProgress();
  await updateProtection(f.trader, signal, acct, false, p);
  assert.deepEqual(f.stops(), [1], 'the old stop should stay when the new one is refused');
});


test('reverse: the close filled and the deadline passed before the open: answered failed / timeout, so the center resends it', async () => {
  const f = fakeTrader({ long: 1, mark: 60000 });
  await f.seed(protectionOrderId(clientOrderIdFor('open-3', 1), 'stop_loss'), 'stop_loss', 1, 55000);
  const slowCancel = f.trader.cancelOrder.bind(f.trader);
  f.trader.cancelOrder = async (o) => { await new Promise((r) => setTimeout(r, 300)); return slowCancel(o); };
  const batch = v.parse(ExecuteRequestSchema, { signal: { signal_id: 'rev-1', symbol: SYMBOL, action: 'reverse', side: 'sell', quantity: 1 }, accounts: [{ account_id: 1, exchange: 'binanceusdm', api_key: 'key-1234', api_secret: 'secret-1234' }] });
  const traders = { trader: async () => f.trader } as unknown as TraderPool;
  const [r] = await execute(batch, { traders, limiter: createLimiter(4), accountTimeoutMs: 150, inFlight: new Map(), turns: createSymbolTurns(), logger: pino({ level: 'silent' }) });
  await new Promise((res) => setTimeout(res, 400));
  assert.equal(f.long(), 0, 'the long was closed');
  // holdUnsent only keeps status failed + timeout for a resend; rejected is final at the center.
  // The center keeps failed + timeout for a resend (holdUnsent); rejected would be final.
  assert.deepEqual([r?.status, r?.error?.code], ['failed', 'timeout'], JSON.stringify(r));
});

test('close: a stop that could not be cancelled is reported at the top level of the filled result', async () => {
  const f = fakeTrader({ long: 1, mark: 60000, failCancel: () => true });
  await f.seed(protectionOrderId(clientOrderIdFor('open-4', 1), 'stop_loss'), 'stop_loss', 1, 55000);
  const signal = v.parse(SignalSchema, { signal_id: 'close-1', symbol: SYMBOL, action: 'close' });
  const acct = account('close-1');
  const p = newActionProgress();
  await closePositions(f.trader, signal, acct, false, p);
  const r = actionResultOf(signal, acct, p, 0);
  assert.equal(f.long(), 0);
  assert.deepEqual(f.stops(), [1]);
  assert.equal(r.status, 'filled', 'the close did fill');
  assert.match(r.error?.message ?? '', /protection did not follow \(1 order\): cancel failed/, JSON.stringify(r));
});

test('a reduce and a close sent at once are worked on in turn: the close sees the reduce\'s resized stop and cancels it', async () => {
  const f = fakeTrader({ long: 1, mark: 60000 });
  await f.seed(protectionOrderId(clientOrderIdFor('open-5', 1), 'stop_loss'), 'stop_loss', 1, 55000);
  // The resized stop takes a while to be acknowledged: a close reading the book meanwhile would not see it.
  const place = f.trader.placeOrder.bind(f.trader);
  f.trader.placeOrder = async (r) => {
    if (r.trigger) await new Promise((resolve) => setTimeout(resolve, 50));
    return place(r);
  };
  const traders = { trader: async () => f.trader } as unknown as TraderPool;
  const deps = { traders, limiter: createLimiter(4), accountTimeoutMs: 5_000, inFlight: new Map(), turns: createSymbolTurns(), logger: pino({ level: 'silent' }) };
  const account = { account_id: 1, exchange: 'binanceusdm', api_key: 'key-1234', api_secret: 'secret-1234' };
  const reduce = v.parse(ExecuteRequestSchema, { signal: { signal_id: 'race-reduce', symbol: SYMBOL, action: 'reduce', close_fraction: 0.5 }, accounts: [account] });
  const close = v.parse(ExecuteRequestSchema, { signal: { signal_id: 'race-close', symbol: SYMBOL, action: 'close' }, accounts: [account] });
  const [[reduced], [closed]] = await Promise.all([execute(reduce, deps), execute(close, deps)]);
  assert.equal(reduced?.filled_quantity, 0.5, JSON.stringify(reduced));
  assert.equal(closed?.filled_quantity, 0.5, JSON.stringify(closed));
  assert.equal(f.long(), 0);
  assert.deepEqual(f.stops(), [], 'no stop is left behind a closed position');
  assert.equal(deps.turns.size, 0, 'nothing is kept once the work is done');
});
