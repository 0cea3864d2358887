import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Exchange } from 'ccxt';
import { Credentials } from '../../src/core/credentials.js';
import type { PositionMode } from '../sim/exchange-sim.js';
import { fullCatalog, type LoadedCatalog } from '../../src/exchange/ccxt-catalog.js';
import { ccxtTrader } from '../../src/exchange/ccxt-trader.js';
import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import { instanceSettings, redirectInstance } from '../../src/exchange/trader-pool.js';
import type { OrderSnapshot, RestingOrder, Trader } from '../../src/exchange/trader.js';
import { newAccount, VENUES, type Venue, type VenueAccount, type VenueSim } from './venues.js';

/**
 * `Trader.openOrders` and `Trader.cancelOrder` on every exchange the node
 * ships with: ccxt's real code and the adapter against each simulator,
 * checked on the simulated exchange's own book. The trader is built the way
 * the pool builds it (same ccxt settings, markets shared from one load).
 */

/**
 * Whether the exchange itself cancels a reduce-only take-profit once the
 * stop-loss beside it has closed the position. OKX: only with
 * cxlOnClosePos=true, default false (docs-v5 "Place algo order"); Bybit:
 * documented for position TP/SL (trading-stop) only, not for conditional
 * orders; Binance: not documented for reduceOnly algo orders; Bitget: TP/SL
 * plans belong to the position and go with it.
 */
const TAKE_PROFIT_OUTLIVES_ITS_POSITION: Readonly<Record<string, boolean>> = { binanceusdm: true, okx: true, bybit: true, bitget: false };

const OTHER_SYMBOL = { perpetual: 'ETH/USDT:USDT', spot: 'ETH/USDT' };

/**
 * A stop-loss at 58,000 that closes whatever the position holds, placed by
 * the exchange's own endpoint (ccxt's implicit method and its params): it
 * reports no size of its own.
 */
const WHOLE_POSITION_STOP: Readonly<Record<string, readonly [string, Record<string, unknown>]>> = {
  binanceusdm: ['fapiPrivatePostAlgoOrder', { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: '58000', closePosition: 'true' }],
  okx: ['privatePostTradeOrderAlgo', { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'sell', ordType: 'conditional', closeFraction: '1', reduceOnly: true, slTriggerPx: '58000', slOrdPx: '-1' }],
  bybit: ['privatePostV5PositionTradingStop', { category: 'linear', symbol: 'BTCUSDT', stopLoss: '58000', tpslMode: 'Full', positionIdx: 0 }],
  bitget: ['privateMixPostV2MixOrderPlaceTpslOrder', { symbol: 'BTCUSDT', productType: 'USDT-FUTURES', marginCoin: 'USDT', planType: 'pos_loss', triggerPrice: '58000', holdSide: 'buy' }],
};

const cid = () => `tr${randomBytes(8).toString('hex')}`;
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

interface Placed {
  limit: OrderSnapshot;
  stopLoss?: OrderSnapshot;
  takeProfit?: OrderSnapshot;
  other: OrderSnapshot;
  clientIds: Map<string, string>;
}

for (const venue of VENUES) {
  describe(`${venue.exchange}: resting orders against its simulator`, () => {
    let sim: VenueSim;
    let catalog: LoadedCatalog;
    let template: Exchange;
    let nextId = 1;
    const other = venue.spot ? OTHER_SYMBOL.spot : OTHER_SYMBOL.perpetual;

    before(async () => {
      sim = await venue.start();
      catalog = await fullCatalog().load();
      template = catalog.create(venue.exchange, instanceSettings(venue.exchange, 10_000)) as Exchange;
      redirectInstance(template, sim.url);
      await template.loadMarkets();
    });
    after(async () => {
      await sim?.close();
    });

    const traderFor = (account: VenueAccount, mode: PositionMode): { trader: Trader; instance: Exchange } => {
      const credentials = new Credentials(account.api_key, account.api_secret, account.passphrase);
      const secrets = credentials.reveal();
      const instance = catalog.create(venue.exchange, { apiKey: secrets.apiKey, secret: secrets.secret, password: secrets.passphrase, ...instanceSettings(venue.exchange, 10_000) }) as Exchange;
      redirectInstance(instance, sim.url);
      instance.setMarketsFromExchange(template);
      return { trader: ccxtTrader(instance, credentials, {}, { hedged: mode === 'hedge', ccxtOptions: undefined }), instance };
    };

    const fresh = (mode: PositionMode = 'one_way') => {
      const account = newAccount(venue, sim, nextId++, mode);
      return { account, ...traderFor(account, mode) };
    };

    /** A limit entry far below the market, a filled entry with its stop-loss and take-profit (derivatives), and a limit on another symbol. */
    async function placeBook(trader: Trader): Promise<Placed> {
      const clientIds = new Map<string, string>();
      const place = async (request: Parameters<Trader['placeOrder']>[0]) => {
        const order = await trader.placeOrder(request);
        clientIds.set(order.id, request.clientOrderId);
        return order;
      };
      const limit = await place({ symbol: venue.symbol, side: 'buy', type: 'limit', amount: 0.01, price: 50_000, clientOrderId: cid(), reduceOnly: false });
      const placed: Placed = { limit, other: await place({ symbol: other, side: 'buy', type: 'limit', amount: 0.1, price: 2_500, clientOrderId: cid(), reduceOnly: false }), clientIds };
      if (venue.spot) return placed;
      const entry = await place({ symbol: venue.symbol, side: 'buy', type: 'market', amount: 0.02, price: undefined, clientOrderId: cid(), reduceOnly: false });
      assert.equal(entry.filled, 0.02, 'the entry filled');
      const leg = (kind: 'stop_loss' | 'take_profit', price: number) =>
        place({ symbol: venue.symbol, side: 'sell', type: 'market', amount: 0.02, price: undefined, clientOrderId: cid(), reduceOnly: true, trigger: { kind, price } });
      placed.stopLoss = await leg('stop_loss', venue.stopLoss);
      placed.takeProfit = await leg('take_profit', venue.takeProfit);
      return placed;
    }

    /** What openOrders must answer for `placed`, by id. */
    function expected(placed: Placed, positionSide: 'long' | null): RestingOrder[] {
      const common = { symbol: venue.symbol, filled: 0, positionSide };
      const clientOrderId = (o: OrderSnapshot) => placed.clientIds.get(o.id) ?? null;
      const out: RestingOrder[] = [{ ...common, id: placed.limit.id, clientOrderId: clientOrderId(placed.limit), side: 'buy', amount: 0.01, price: 50_000, trigger: null, reduceOnly: false }];
      for (const [order, kind, price] of [[placed.stopLoss, 'stop_loss', venue.stopLoss], [placed.takeProfit, 'take_profit', venue.takeProfit]] as const) {
        if (!order) continue;
        out.push({ ...common, id: order.id, clientOrderId: clientOrderId(order), side: 'sell', amount: 0.02, price: null, trigger: { kind, price }, reduceOnly: true });
      }
      return out.sort(byId);
    }

    const bookStatus = (account: VenueAccount, id: string) => sim.orders(account.api_key).find((o) => o.id === id)?.status;

    test(`openOrders lists the limit entry${venue.spot ? '' : ' and both protective legs'}, in base units, and no order of another symbol`, async () => {
      const { account, trader } = fresh();
      const placed = await placeBook(trader);
      const listed = (await trader.openOrders(venue.symbol)).sort(byId);
      assert.deepEqual(listed, expected(placed, null));
      // The simulator's own book holds the same orders open, by the same ids.
      for (const o of listed) assert.equal(bookStatus(account, o.id), 'open', o.id);
      const elsewhere = await trader.openOrders(other);
      assert.deepEqual(elsewhere.map((o) => [o.id, o.amount, o.price, o.trigger]), [[placed.other.id, 0.1, 2_500, null]], 'the other symbol has its own order');
    });

    if (!venue.spot) {
      test('a hedge-mode account reports the position side of every order', async () => {
        const { trader } = fresh('hedge');
        const placed = await placeBook(trader);
        assert.deepEqual((await trader.openOrders(venue.symbol)).sort(byId), expected(placed, 'long'));
      });
    }

    test('cancelOrder takes each order off the book, and answers false once it is gone', async () => {
      const { account, trader } = fresh();
      const placed = await placeBook(trader);
      const listed = await trader.openOrders(venue.symbol);
      assert.equal(listed.length, venue.spot ? 1 : 3);
      for (const order of listed) {
        assert.equal(await trader.cancelOrder(order), true, `cancel ${order.id}`);
        assert.equal(bookStatus(account, order.id), 'canceled', `${order.id} on the simulator's book`);
      }
      assert.deepEqual(await trader.openOrders(venue.symbol), []);
      for (const order of listed) assert.equal(await trader.cancelOrder(order), false, `cancel ${order.id} again`);
      assert.equal(bookStatus(account, placed.other.id), 'open', 'the other symbol is untouched');
    });

    if (!venue.spot) {
      test('a stop-loss that fired cannot be cancelled: false; the take-profit beside it stays as the exchange leaves it', async () => {
        const { account, trader } = fresh();
        await placeBook(trader);
        const listed = await trader.openOrders(venue.symbol);
        const stopLoss = listed.find((o) => o.trigger?.kind === 'stop_loss');
        const takeProfit = listed.find((o) => o.trigger?.kind === 'take_profit');
        assert.ok(stopLoss && takeProfit);
        sim.setMarkPrice(venue.symbol, venue.stopLoss - 100);
        try {
          assert.notEqual(bookStatus(account, stopLoss.id), 'open', 'the stop-loss fired');
          assert.equal(await trader.cancelOrder(stopLoss), false);
          const left = (await trader.openOrders(venue.symbol)).map((o) => o.id);
          assert.equal(left.includes(takeProfit.id), TAKE_PROFIT_OUTLIVES_ITS_POSITION[venue.exchange], JSON.stringify(left));
          assert.equal(await trader.cancelOrder(takeProfit), TAKE_PROFIT_OUTLIVES_ITS_POSITION[venue.exchange]);
        } finally {
          // The default mark, for the next test's entries and stops.
          sim.setMarkPrice(venue.symbol, 60_000);
        }
      });
    }

    const whole = WHOLE_POSITION_STOP[venue.exchange];
    if (whole) {
      test('a whole-position stop is listed at the size of the position it closes, reduce-only, and cancels', async () => {
        const { account, trader, instance } = fresh();
        const entry = await trader.placeOrder({ symbol: venue.symbol, side: 'buy', type: 'market', amount: 0.03, price: undefined, clientOrderId: cid(), reduceOnly: false });
        assert.equal(entry.filled, 0.03);
        const [method, params] = whole;
        // ccxt's implicit endpoints are generated per exchange and absent from the base Exchange type.
        await (instance as unknown as Record<string, (p: Record<string, unknown>) => Promise<unknown>>)[method]?.(params);
        const listed = await trader.openOrders(venue.symbol);
        assert.deepEqual(
          listed.map((o) => [o.side, o.amount, o.trigger, o.reduceOnly, o.positionSide]),
          [['sell', 0.03, { kind: 'stop_loss', price: 58_000 }, true, null]],
        );
        const [stop] = listed;
        assert.ok(stop);
        assert.equal(await trader.cancelOrder(stop), true);
        assert.equal(bookStatus(account, stop.id), 'canceled');
        assert.equal(await trader.cancelOrder(stop), false);
      });
    }

    test('a failure that is not "already gone" throws, normalised and without the credentials', async () => {
      const { account, trader } = fresh();
      await placeBook(trader);
      const [order] = await trader.openOrders(venue.symbol);
      assert.ok(order);
      for (const call of [() => trader.cancelOrder(order), () => trader.openOrders(venue.symbol)]) {
        sim.fault({ kind: 'http_500', apiKey: account.api_key });
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof ExchangeFailure, String(error));
          for (const secret of [account.api_key, account.api_secret, account.passphrase ?? account.api_secret]) assert.ok(!error.message.includes(secret), error.message);
          return true;
        });
      }
      assert.equal(bookStatus(account, order.id), 'open', 'nothing was cancelled');
    });
  });
}
