import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as v from 'valibot';
import { reconcileOnce } from '../../src/center/dispatch/reconciler.js';
import { SignalEntries, SignalSchema, type Signal } from '../../src/core/wire-execute.js';
import { VERSION } from '../../src/core/version.js';
import type { TraderPool } from '../../src/exchange/trader-pool.js';
import type { OrderRequest, Trader } from '../../src/exchange/trader.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { startCaptureNode, type CaptureNode } from '../helpers/capture-node.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { DIALECTS, onDialect } from '../helpers/databases.js';

const SECRET = 'signal-fields-node-secret-012345';

/**
 * Signals that, between them, set every field of the signal schema to a
 * value other than its default (a reduce-only signal cannot carry a
 * stop-loss, and each action takes its own fields, so one signal cannot
 * hold them all).
 */
export const FULL_SIGNALS: Array<Record<string, unknown>> = [
  { signal_id: 'full-open', symbol: 'ETH/USDT:USDT', side: 'sell', quantity: 0.25, order_type: 'limit', price: 3100.5, stop_loss: 3300, take_profit: 2800.25, leverage: 7, reduce_only: false, margin_mode: 'isolated' },
  { signal_id: 'full-close', symbol: 'ETH/USDT:USDT', side: 'buy', quantity: '0.125', order_type: 'limit', price: '2999.75', leverage: 3, reduce_only: true, margin_mode: 'cross' },
  { signal_id: 'full-reduce', action: 'reduce', symbol: 'ETH/USDT:USDT', side: 'buy', position_side: 'short', close_fraction: 0.375 },
  { signal_id: 'full-cancel', action: 'Cancel', symbol: 'ETH/USDT:USDT', position_side: 'long', cancel: 'all' },
];

test('the round-trip signals set every field of the signal schema to a non-default value', () => {
  const defaults = v.parse(SignalSchema, { signal_id: 'd', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 1 });
  for (const field of Object.keys(SignalEntries) as Array<keyof Signal>) {
    const differs = FULL_SIGNALS.some((raw) => raw[field] !== undefined && v.parse(SignalSchema, raw)[field] !== defaults[field]);
    assert.ok(differs, `no round-trip signal sets "${field}" to something other than its default: add it to FULL_SIGNALS`);
  }
});

/** What the node's parser makes of a signal the data API accepted. */
const parsedSignal = (raw: Record<string, unknown>): Signal => v.parse(SignalSchema, raw);

/** A trader pool that records what reaches the exchange, for the center's in-process path. */
function recordingPool(pool: TraderPool, seen: Array<OrderRequest | { leverage: number; symbol: string } | { marginMode: string; symbol: string }>): TraderPool {
  return {
    stats: () => pool.stats(),
    async trader(account) {
      const inner = await pool.trader(account);
      const recorded: Trader = {
        ...inner,
        exchange: inner.exchange,
        placeOrder: (request) => {
          seen.push(request);
          return inner.placeOrder(request);
        },
        setLeverage: (symbol, leverage) => {
          seen.push({ symbol, leverage });
          return inner.setLeverage(symbol, leverage);
        },
        setMarginMode: (symbol, marginMode) => {
          seen.push({ symbol, marginMode });
          return inner.setMarginMode(symbol, marginMode);
        },
        findOrder: (...args) => inner.findOrder(...args),
        fetchBalances: () => inner.fetchBalances(),
        marketSizing: (symbol) => inner.marketSizing(symbol),
        lastPrice: (symbol) => inner.lastPrice(symbol),
        fetchPositions: (symbols) => inner.fetchPositions(symbols),
      };
      return recorded;
    },
  };
}

for (const dialect of DIALECTS) {
  describe(`every signal field reaches the node on ${dialect}`, onDialect(dialect), () => {
    let h: CenterHarness;
    let node: CaptureNode;
    let remoteAccount: number;
    let localAccount: number;

    before(async () => {
      node = await startCaptureNode('cap');
      h = await startCenterHarness(dialect, { node_auth_secret: SECRET });
      await h.api('POST', '/api/nodes', { node_code: 'cap', base_url: node.url });
      const beat = await sendHeartbeat(
        { centerUrl: h.url, nodeCode: 'cap', secret: SECRET, mode: 'token', timeoutMs: 5000 },
        { node_code: 'cap', version: VERSION, status: 'ok', started_at: new Date().toISOString(), uptime_seconds: 1, in_flight: 0, capacity: 8 },
      );
      assert.ok(beat.ok, JSON.stringify(beat));
      const owner = (await h.api('POST', '/api/users', { username: 'fields' })).body.user.id;
      remoteAccount = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'field-key-remote', api_secret: 'field-secret-remote', passphrase: 'field-pass-remote', sandbox: true, node_code: 'cap' })).body.account.id;
      localAccount = (await h.api('POST', '/api/accounts', { user_id: owner, exchange: 'paper', api_key: 'field-key-local', api_secret: 'field-secret-local' })).body.account.id;
      await h.api('POST', '/api/strategies', { strategy_code: 'remote' });
      await h.api('POST', '/api/strategies/remote/bindings', { account_id: remoteAccount, multiplier: 2 });
      await h.api('POST', '/api/strategies', { strategy_code: 'local' });
      await h.api('POST', '/api/strategies/local/bindings', { account_id: localAccount });
    });
    after(async () => {
      await h?.close();
      await node?.close();
    });

    test('a node receives exactly the signal the data API accepted, field by field', async () => {
      for (const raw of FULL_SIGNALS) {
        const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'remote', ...raw, signal_id: `${raw['signal_id']}-direct` });
        assert.equal(res.status, 201, res.text);
        const batch = node.batches.at(-1);
        assert.ok(batch);
        assert.deepEqual(batch.signal, parsedSignal({ ...raw, signal_id: `${raw['signal_id']}-direct` }));
        const quantity = parsedSignal(raw).quantity;
        assert.equal(batch.accounts[0]?.quantity, quantity === undefined ? undefined : quantity * 2, 'the binding multiplier applies to the account, not the signal; an action sized from the position carries none');
        const account = batch.accounts[0];
        assert.deepEqual(
          { id: account?.account_id, exchange: account?.exchange, sandbox: account?.sandbox, credentials: account?.credentials.reveal() },
          { id: remoteAccount, exchange: 'paper', sandbox: true, credentials: { apiKey: 'field-key-remote', secret: 'field-secret-remote', passphrase: 'field-pass-remote' } },
          'the account fields arrive as stored',
        );
      }
    });

    test('GET /api/signals/{id} shows every field of the signal as accepted', async () => {
      for (const raw of FULL_SIGNALS) {
        const view = (await h.api('GET', `/api/signals/${raw['signal_id']}-direct`)).body.signal;
        const expected = parsedSignal({ ...raw, signal_id: `${raw['signal_id']}-direct` });
        for (const field of Object.keys(SignalEntries) as Array<keyof Signal>) {
          assert.deepEqual(view[field], expected[field] ?? null, `GET /api/signals/{id} shows ${field}`);
        }
      }
    });

    test("the reconciler's resend carries the same signal", async () => {
      for (const raw of FULL_SIGNALS) {
        const id = `${raw['signal_id']}-resend`;
        // The node is draining: the orders stay pending for the reconciler.
        node.failNext.push(503);
        const sent = node.batches.length;
        const res = await h.api('POST', '/api/signals', { strategy_code: 'remote', ...raw, signal_id: id });
        assert.equal(res.status, 202, res.text);
        await h.idle();
        assert.equal((await h.api('GET', `/api/signals/${id}`)).body.signal.orders[0].status, 'pending');
        const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
        assert.equal(report.resent, 1, JSON.stringify(report));
        await h.idle();
        const resent = node.batches.slice(sent);
        assert.equal(resent.length, 2, 'the first send and the resend');
        assert.equal(resent[1]?.retry, true);
        for (const batch of resent) assert.deepEqual(batch.signal, parsedSignal({ ...raw, signal_id: id }));
        assert.equal((await h.api('GET', `/api/signals/${id}`)).body.signal.orders[0].status, 'filled');
      }
    });

    test('a node that refuses a signature as older than itself (just restarted) leaves the orders for the reconciler, not failed', async () => {
      node.failNext.push({ status: 401, code: 'signature_expired' });
      const sent = node.batches.length;
      assert.equal((await h.api('POST', '/api/signals', { strategy_code: 'remote', signal_id: 'restarted-node', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 })).status, 202);
      await h.idle();
      const waiting = (await h.api('GET', '/api/signals/restarted-node')).body.signal.orders[0];
      assert.equal(waiting.status, 'pending', JSON.stringify(waiting));
      assert.equal(waiting.error.code, 'node_unavailable');
      const report = await reconcileOnce(h.center.ctx, Date.now() + h.center.ctx.config.reconcile_after + 1000);
      assert.equal(report.resent, 1, JSON.stringify(report));
      await h.idle();
      assert.equal(node.batches.length, sent + 2);
      assert.equal(node.batches.at(-1)?.retry, true, 'resent as a retry, so the node looks the order up first');
      assert.equal((await h.api('GET', '/api/signals/restarted-node')).body.signal.orders[0].status, 'filled');
    });

    test("a node's odd error code and fee currency are recorded, held to their columns, never leaving the order unrecordable", async () => {
      node.answerNext.push({ success: false, status: 'rejected', order_id: null, filled_price: null, filled_quantity: 0, error: { code: `code_${'x'.repeat(60)}`, message: 'odd' }, fee: { cost: 0.1, currency: 'C'.repeat(40) } });
      const res = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'remote', signal_id: 'odd-node', symbol: 'BTC/USDT:USDT', side: 'buy', quantity: 0.01 });
      const order = res.body.signal.orders[0];
      assert.equal(order.status, 'rejected', JSON.stringify(order));
      assert.equal(order.error.code, `code_${'x'.repeat(27)}`);
      assert.equal(order.fee.currency, 'C'.repeat(16));
    });

    test("the center's in-process path places what the signal says", async () => {
      const seen: Array<OrderRequest | { leverage: number; symbol: string } | { marginMode: string; symbol: string }> = [];
      const ctx = h.center.ctx;
      const original = ctx.local.traders;
      ctx.local.traders = recordingPool(original, seen);
      try {
        // The paper exchange holds no position yet: open one to close.
        const open = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'local', signal_id: 'local-open', symbol: 'ETH/USDT:USDT', side: 'sell', quantity: 0.25, stop_loss: 3300, take_profit: 2800.25, leverage: 7, margin_mode: 'isolated' });
        assert.equal(open.body.signal.orders[0].status, 'filled', open.text);
        const close = await h.api('POST', '/api/signals?wait=true', { strategy_code: 'local', signal_id: 'local-close', symbol: 'ETH/USDT:USDT', side: 'buy', quantity: 0.25, order_type: 'limit', price: 2999.75, reduce_only: true });
        assert.equal(close.status, 201, close.text);
      } finally {
        ctx.local.traders = original;
      }
      assert.deepEqual(seen.slice(0, 2), [{ symbol: 'ETH/USDT:USDT', marginMode: 'isolated' }, { symbol: 'ETH/USDT:USDT', leverage: 7 }], 'the margin mode first, then the leverage');
      const [entry, ...legs] = seen.slice(2, 5) as OrderRequest[];
      assert.deepEqual(
        { symbol: entry?.symbol, side: entry?.side, type: entry?.type, amount: entry?.amount, reduceOnly: entry?.reduceOnly },
        { symbol: 'ETH/USDT:USDT', side: 'sell', type: 'market', amount: 0.25, reduceOnly: false },
      );
      assert.deepEqual(legs.map((l) => [l.trigger?.kind, l.trigger?.price, l.reduceOnly, l.side]).sort(), [['stop_loss', 3300, true, 'buy'], ['take_profit', 2800.25, true, 'buy']]);
      const closing = seen[5] as OrderRequest;
      assert.deepEqual(
        { side: closing.side, type: closing.type, price: closing.price, amount: closing.amount, reduceOnly: closing.reduceOnly },
        { side: 'buy', type: 'limit', price: 2999.75, amount: 0.25, reduceOnly: true },
      );
    });
  });
}
