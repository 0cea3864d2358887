import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadNodeConfig } from '../../src/node/commands.js';
import { sendHeartbeat } from '../../src/node/heartbeat.js';
import { heartbeatOf } from '../../src/node/runtime.js';
import { startNodeServer, type RunningNode } from '../../src/node/server.js';
import { createLogger } from '../../src/process/logger.js';
import { startCenterHarness, type CenterHarness } from '../helpers/center-harness.js';
import { newAccount, VENUES, type Venue, type VenueAccount, type VenueSim } from './venues.js';

/**
 * Issue 19's whole life of a position with the center in the loop, on every
 * exchange of the acceptance suite that trades positions: a real center (the
 * embedded SQLite) sends each signal to one real node, which trades through
 * ccxt against that exchange's simulator for two followers of different
 * sizes. After every step each follower's result in the signal view, the
 * simulator's own book (position, open protective orders and their sizes) and
 * the center's position book, after a positions sync, must agree.
 */

const NODE_SECRET = 'center-book-node-secret-0123456789';
const MULTIPLIERS = [1, 2] as const;

/** The parts of the data API's views these tests read (docs/center-api.md). */
interface LegView {
  role: string;
  position_side: string | null;
  status: string;
  filled_quantity: number;
  filled_price: number | null;
  fee: { cost: number; currency: string | null } | null;
  position_before: number | null;
  position_after: number | null;
}
interface OrderView {
  account_id: number;
  node_code: string | null;
  status: string;
  quantity: number;
  filled_quantity: number;
  filled_price: number | null;
  fee: { cost: number; currency: string | null } | null;
  stop_loss_order_id: string | null;
  take_profit_order_id: string | null;
  stop_loss_error: unknown;
  take_profit_error: unknown;
  error: { code: string; message: string } | null;
  unprotected: boolean;
  legs?: LegView[];
}
interface SignalView {
  signal_id: string;
  action: string;
  status: string;
  orders: OrderView[];
}
interface BookRow {
  symbol: string;
  side: 'long' | 'short';
  quantity: number;
  entry_price: number | null;
  realised_pnl: number;
  exchange_quantity: number | null;
  state: 'ok' | 'drift' | 'not_synced';
}

/** Base amounts are decimals: compare them at the precision the exchanges keep. */
const round = (x: number) => Number(x.toFixed(8));
const near = (actual: number, expected: number, message: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${message}: ${actual} is not ${expected}`);

for (const venue of VENUES.filter((v: Venue) => !v.spot)) {
  describe(`${venue.exchange}: a position's whole life through the center, one node and the simulator`, () => {
    let sim: VenueSim;
    let h: CenterHarness;
    let node: RunningNode;
    const nodeCode = `book-${venue.exchange}`;
    const strategy = `life-${venue.exchange}`;
    /** The followers, in MULTIPLIERS order: the center's account id beside the simulator's credentials. */
    const followers: Array<{ id: number; multiplier: number; account: VenueAccount }> = [];
    const q = venue.quantity;
    const breakeven = 60_000;
    /** What each follower's book realised so far, from the fills the signal views report. */
    const realised = new Map<number, { long: number; short: number }>();
    const entries = new Map<number, { long: number; short: number }>();
    /** What opening each side paid in fees and no close has carried yet. */
    const entryFees = new Map<number, { long: number; short: number }>();

    before(async () => {
      sim = await venue.start();
      h = await startCenterHarness('sqlite', { node_auth_secret: NODE_SECRET, node_auth_mode: 'hmac' });
      const logger = createLogger({ level: 'warn', format: 'json', stream: { write: () => undefined } });
      const config = loadNodeConfig(undefined, { port: 0, node_code: nodeCode, node_auth_enabled: true, node_auth_secret: NODE_SECRET, node_auth_mode: 'hmac', exchange_urls: { [venue.exchange]: sim.url } }, {});
      node = await startNodeServer(config, logger);
      const registered = await h.api('POST', '/api/nodes', { node_code: nodeCode, name: nodeCode, base_url: node.url });
      assert.equal(registered.status, 201, registered.text);
      const beat = await sendHeartbeat({ centerUrl: h.url, nodeCode, secret: NODE_SECRET, mode: 'hmac', timeoutMs: 5000 }, heartbeatOf(node.runtime, nodeCode));
      assert.ok(beat.ok, JSON.stringify(beat));

      const owner = (await h.api('POST', '/api/users', { username: `owner-${venue.exchange}`, points: 100_000 })).body.user.id as number;
      assert.equal((await h.api('POST', '/api/strategies', { strategy_code: strategy })).status, 201);
      for (const [i, multiplier] of MULTIPLIERS.entries()) {
        const account = newAccount(venue, sim, i + 1);
        const created = await h.api('POST', '/api/accounts', {
          user_id: owner,
          exchange: venue.exchange,
          api_key: account.api_key,
          api_secret: account.api_secret,
          ...(account.passphrase ? { passphrase: account.passphrase } : {}),
          node_code: nodeCode,
          label: `follower-x${multiplier}`,
        });
        assert.equal(created.status, 201, created.text);
        const id = created.body.account.id as number;
        const bound = await h.api('POST', `/api/strategies/${strategy}/bindings`, { account_id: id, multiplier });
        assert.ok(bound.status === 200 || bound.status === 201, bound.text);
        followers.push({ id, multiplier, account });
        realised.set(id, { long: 0, short: 0 });
        entries.set(id, { long: 0, short: 0 });
        entryFees.set(id, { long: 0, short: 0 });
      }
    });
    after(async () => {
      await h?.close();
      await node?.close();
      await sim?.close();
    });

    /** Posts one signal of the strategy, waits for every follower's result, and answers the signal view read back by GET. */
    async function step(signal: Record<string, unknown>): Promise<SignalView> {
      const signalId = `${strategy}-${String(signal['action'] ?? 'open')}-${randomBytes(4).toString('hex')}`;
      const posted = await h.api('POST', '/api/signals?wait=true', { strategy_code: strategy, signal_id: signalId, symbol: venue.symbol, ...signal });
      assert.equal(posted.status, 201, posted.text);
      await h.idle();
      const view = await h.api('GET', `/api/signals/${signalId}`);
      assert.equal(view.status, 200, view.text);
      const sig = view.body.signal as SignalView;
      assert.equal(sig.status, 'completed', view.text);
      assert.equal(sig.orders.length, followers.length, view.text);
      return sig;
    }
    const orderOf = (sig: SignalView, id: number): OrderView => {
      const order = sig.orders.find((o) => o.account_id === id);
      assert.ok(order, `no order for account ${id}: ${JSON.stringify(sig)}`);
      assert.equal(order.node_code, nodeCode, 'executed on the node');
      assert.equal(order.error, null, JSON.stringify(order));
      return order;
    };
    const legsOf = (order: OrderView) => (order.legs ?? []).map((l) => [l.role, l.position_side, l.status, l.filled_quantity, l.position_before, l.position_after]);

    /** The follower's live positions and open protective orders on the simulator's own book, in base currency. */
    const onExchange = (a: VenueAccount) => ({
      positions: sim.positions(a.api_key).filter((p) => p.symbol === venue.symbol).map((p) => [p.side, p.amount]),
      protection: sim
        .orders(a.api_key)
        .filter((o) => (o.type === 'stop_loss' || o.type === 'take_profit') && o.status === 'open')
        .map((o) => [o.type, o.side, o.amount, o.triggerPrice])
        .sort(),
    });

    const book = async (id: number): Promise<BookRow[]> => {
      const res = await h.api('GET', `/api/accounts/${id}/position-book`);
      assert.equal(res.status, 200, res.text);
      return (res.body.positions as BookRow[]).filter((p) => p.symbol === venue.symbol);
    };

    /** A positions sync through the center, then each follower's book must match the simulator's size on every side, state ok. */
    async function syncAndCompare(): Promise<Map<number, BookRow[]>> {
      const synced = await h.api('POST', '/api/sync/positions', { account_ids: followers.map((f) => f.id) });
      assert.equal(synced.status, 200, synced.text);
      assert.deepEqual([synced.body.synced, synced.body.failed], [followers.length, []], synced.text);
      const out = new Map<number, BookRow[]>();
      for (const f of followers) {
        const rows = await book(f.id);
        const held = new Map(sim.positions(f.account.api_key).filter((p) => p.symbol === venue.symbol).map((p) => [p.side, p.amount]));
        for (const side of ['long', 'short'] as const) {
          const exchange = held.get(side) ?? 0;
          const row = rows.find((r) => r.side === side);
          if (exchange === 0 && (row === undefined || row.quantity === 0)) {
            if (row) assert.deepEqual([row.exchange_quantity, row.state], [0, 'ok'], `account ${f.id} ${side}: ${JSON.stringify(rows)}`);
            continue;
          }
          assert.ok(row, `account ${f.id}: the exchange holds ${exchange} ${side}, the center's book has no row: ${JSON.stringify(rows)}`);
          assert.deepEqual(
            [row.state, round(row.quantity), round(row.exchange_quantity ?? Number.NaN)],
            ['ok', round(exchange), round(exchange)],
            `account ${f.id} ${side}: the center's book agrees with the exchange's after a sync: ${JSON.stringify(rows)}`,
          );
        }
        out.set(f.id, rows);
      }
      return out;
    }

    /**
     * What a closing leg realised per docs/center-api.md: (exit − entry) ×
     * quantity (the other way for a short), less its fee and its share of
     * what opening the side paid in fees.
     */
    const realisedBy = (leg: LegView, entry: number, fees: { long: number; short: number }) => {
      assert.ok(leg.filled_price !== null && leg.position_before !== null && leg.position_side !== null, JSON.stringify(leg));
      const side = leg.position_side as 'long' | 'short';
      const move = side === 'short' ? entry - leg.filled_price : leg.filled_price - entry;
      const share = (fees[side] * leg.filled_quantity) / leg.position_before;
      fees[side] -= share;
      return move * leg.filled_quantity - (leg.fee?.cost ?? 0) - share;
    };
    const feeOf = (order: OrderView) => order.fee?.cost ?? 0;

    test('open buy with a stop-loss and a take-profit: each follower filled at its size, protected on the exchange, booked long', async () => {
      const sig = await step({ side: 'buy', quantity: 2 * q, stop_loss: venue.stopLoss, take_profit: venue.takeProfit });
      for (const f of followers) {
        const size = round(2 * q * f.multiplier);
        const order = orderOf(sig, f.id);
        assert.deepEqual([order.status, order.filled_quantity], ['filled', size], JSON.stringify(order));
        assert.ok(order.stop_loss_order_id && order.take_profit_order_id, JSON.stringify(order));
        assert.deepEqual([order.stop_loss_error, order.take_profit_error, order.unprotected], [null, null, false], JSON.stringify(order));
        assert.ok(order.filled_price !== null && order.filled_price > 0, JSON.stringify(order));
        (entries.get(f.id) as { long: number }).long = order.filled_price;
        (entryFees.get(f.id) as { long: number }).long = feeOf(order);
        assert.deepEqual(onExchange(f.account), {
          positions: [['long', size]],
          protection: [['stop_loss', 'sell', size, venue.stopLoss], ['take_profit', 'sell', size, venue.takeProfit]],
        });
        const before = await book(f.id);
        assert.deepEqual(
          before.map((r) => [r.side, round(r.quantity), r.entry_price, r.realised_pnl, r.state]),
          [['long', size, order.filled_price, 0, 'not_synced']],
          'booked from the fill, not yet compared with the exchange',
        );
      }
      await syncAndCompare();
    });

    test('update_protection moves the stop to breakeven: the stop is replaced at the same size, the take-profit and the position stay', async () => {
      // The market moves up; the entry price is then a valid stop for the long.
      sim.setMarkPrice(venue.symbol, 61_000);
      const sig = await step({ action: 'update_protection', position_side: 'long', stop_loss: breakeven });
      for (const f of followers) {
        const size = round(2 * q * f.multiplier);
        const order = orderOf(sig, f.id);
        assert.deepEqual([order.status, order.filled_quantity, legsOf(order)], ['done', 0, []], JSON.stringify(order));
        assert.deepEqual(onExchange(f.account), {
          positions: [['long', size]],
          protection: [['stop_loss', 'sell', size, breakeven], ['take_profit', 'sell', size, venue.takeProfit]],
        });
      }
      await syncAndCompare();
    });

    test('reduce by half: each follower closes half of its own position, protection is resized, the book realises the PnL', async () => {
      const sig = await step({ action: 'reduce', close_fraction: 0.5 });
      for (const f of followers) {
        const [was, left] = [round(2 * q * f.multiplier), round(q * f.multiplier)];
        const order = orderOf(sig, f.id);
        assert.deepEqual([order.status, order.quantity, order.filled_quantity], ['filled', 0, left], JSON.stringify(order));
        assert.deepEqual(legsOf(order), [['close', 'long', 'filled', left, was, left]], JSON.stringify(order));
        assert.deepEqual(onExchange(f.account), {
          positions: [['long', left]],
          protection: [['stop_loss', 'sell', left, breakeven], ['take_profit', 'sell', left, venue.takeProfit]],
        });
        const pnl = realised.get(f.id) as { long: number };
        pnl.long += realisedBy((order.legs ?? [])[0] as LegView, (entries.get(f.id) as { long: number }).long, entryFees.get(f.id) as { long: number; short: number });
      }
      const books = await syncAndCompare();
      for (const f of followers) {
        const long = books.get(f.id)?.find((r) => r.side === 'long');
        assert.ok(long, JSON.stringify(books.get(f.id)));
        near(long.realised_pnl, (realised.get(f.id) as { long: number }).long, `account ${f.id}: the reduce realised its close, net of the fee`);
        assert.equal(long.entry_price, (entries.get(f.id) as { long: number }).long, 'a reduce leaves the average entry');
      }
      assert.ok(
        followers.some((f) => books.get(f.id)?.find((r) => r.side === 'long')?.realised_pnl !== 0),
        'a reduce at 61,000 of a long entered near 60,000 realised something',
      );
    });

    test('reverse to a short: the long is closed with both its protective orders, the short is opened with its own stop', async () => {
      const sig = await step({ action: 'reverse', side: 'sell', quantity: q, stop_loss: 64_000 });
      for (const f of followers) {
        const size = round(q * f.multiplier);
        const order = orderOf(sig, f.id);
        assert.deepEqual([order.status, order.filled_quantity], ['filled', size], 'the new short');
        assert.ok(order.stop_loss_order_id, JSON.stringify(order));
        assert.deepEqual([order.stop_loss_error, order.unprotected], [null, false], JSON.stringify(order));
        assert.deepEqual(legsOf(order), [['close', 'long', 'filled', size, size, 0]], 'the long it closed');
        assert.ok(order.filled_price !== null, JSON.stringify(order));
        (entries.get(f.id) as { short: number }).short = order.filled_price;
        (entryFees.get(f.id) as { short: number }).short = feeOf(order);
        assert.deepEqual(onExchange(f.account), { positions: [['short', size]], protection: [['stop_loss', 'buy', size, 64_000]] });
        const pnl = realised.get(f.id) as { long: number };
        pnl.long += realisedBy((order.legs ?? [])[0] as LegView, (entries.get(f.id) as { long: number }).long, entryFees.get(f.id) as { long: number; short: number });
        // Before a sync, the closed long still shows what it realised in all.
        const long = (await book(f.id)).find((r) => r.side === 'long');
        assert.ok(long, 'the long closed since the last sync is still listed');
        assert.deepEqual([long.quantity, long.entry_price, long.state], [0, null, 'not_synced'], JSON.stringify(long));
        near(long.realised_pnl, pnl.long, `account ${f.id}: the reduce's and the reverse's closes realised`);
      }
      const books = await syncAndCompare();
      for (const f of followers) {
        const short = books.get(f.id)?.find((r) => r.side === 'short');
        assert.deepEqual([short?.entry_price, short?.realised_pnl], [(entries.get(f.id) as { short: number }).short, 0], JSON.stringify(books.get(f.id)));
      }
    });

    test('close: every follower ends flat, with no open protective order on the exchange and no position in the book', async () => {
      // The market falls back: the short, entered at 61,000, closes in profit.
      sim.setMarkPrice(venue.symbol, 60_500);
      const sig = await step({ action: 'close' });
      for (const f of followers) {
        const size = round(q * f.multiplier);
        const order = orderOf(sig, f.id);
        assert.deepEqual([order.status, order.quantity, order.filled_quantity], ['filled', 0, size], JSON.stringify(order));
        assert.deepEqual(legsOf(order), [['close', 'short', 'filled', size, size, 0]], JSON.stringify(order));
        assert.deepEqual(onExchange(f.account), { positions: [], protection: [] }, 'flat, and no stop left behind');
        assert.deepEqual(
          sim.orders(f.account.api_key).filter((o) => o.status === 'open' || o.status === 'partially_filled').map((o) => [o.type, o.side, o.amount]),
          [],
          'nothing resting on the exchange',
        );
        const pnl = realised.get(f.id) as { short: number };
        pnl.short += realisedBy((order.legs ?? [])[0] as LegView, (entries.get(f.id) as { short: number }).short, entryFees.get(f.id) as { long: number; short: number });
        const short = (await book(f.id)).find((r) => r.side === 'short');
        assert.ok(short, 'the short closed since the last sync is still listed');
        assert.deepEqual([short.quantity, short.entry_price, short.state], [0, null, 'not_synced'], JSON.stringify(short));
        near(short.realised_pnl, pnl.short, `account ${f.id}: the close realised`);
        assert.notEqual(short.realised_pnl, 0, 'a short entered at 61,000 and closed at 60,500 realised something');
      }
      const books = await syncAndCompare();
      for (const f of followers) {
        const rows = books.get(f.id) ?? [];
        assert.deepEqual(rows.filter((r) => r.quantity !== 0 || r.exchange_quantity !== 0 || r.state !== 'ok'), [], `account ${f.id}: flat on both books: ${JSON.stringify(rows)}`);
      }
      const positions = await h.api('GET', `/api/accounts/${followers[0]?.id}/positions`);
      assert.deepEqual(positions.body.positions.filter((p: { symbol: string }) => p.symbol === venue.symbol), [], 'the sync wrote no position');
    });
  });
}
