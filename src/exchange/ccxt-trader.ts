import type { Exchange, MarketInterface as Market, Order } from 'ccxt';
import type { Credentials } from '../core/credentials.js';
import type { AccountFacts } from './account-facts.js';
import type { Balance, Position } from '../core/wire-sync.js';
import { clientIdLookup } from './client-id-lookup.js';
import { ExchangeFailure } from './exchange-failure.js';
import { normaliseError } from './ccxt-errors.js';
import { balanceParams, spotOnly } from './market-types.js';
import { orderParams, positionModeRefused } from './order-params.js';
import { marketSizing, orderAmount, requireBaseUnits, unitsToBase, type MarketSizing } from './order-units.js';
import { restingOrders } from './resting-orders.js';
import type { MarginMode, OrderRequest, OrderSnapshot, ExchangeOrderState, RestingOrder, Trader } from './trader.js';

/** Bybit refuses to set the leverage a symbol already has (110043); what was asked for is in place. */
const LEVERAGE_ALREADY_SET = /"retCode"\s*:\s*110043\b|leverage not modified/i;

/** The margin mode asked for is the one set: Binance -4046 "No need to change margin type.", Bybit 110026 "… margin mode is not modified". */
const MARGIN_MODE_ALREADY_SET = /"code"\s*:\s*-4046\b|no need to change margin type|"retCode"\s*:\s*110026\b|margin mode is not modified/i;

/** Pauses before each look at a new market order's state: at once, then backing off (1.35 s in all). */
const MARKET_STATE_WAITS_MS = [0, 50, 100, 200, 400, 600];

const STATUSES: ReadonlySet<string> = new Set(['open', 'closed', 'canceled', 'expired', 'rejected']);

function finite(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** The exchange's order, with amounts in the base currency (`market` converts contracts). */
export function toSnapshot(order: Order, market?: Market): OrderSnapshot {
  const status = typeof order.status === 'string' && STATUSES.has(order.status) ? (order.status as ExchangeOrderState) : 'unknown';
  const feeCost = finite(order.fee?.cost);
  const base = (units: number | null) => (units === null || !market ? units : unitsToBase(market, units));
  return {
    id: String(order.id),
    clientOrderId: order.clientOrderId ?? null,
    status,
    amount: base(finite(order.amount)),
    filled: base(finite(order.filled)) ?? 0,
    average: finite(order.average) ?? (finite(order.filled) ? finite(order.price) : null),
    fee: feeCost === null ? null : { cost: feeCost, currency: order.fee?.currency ?? null },
  };
}

/** What a trader asks of the exchange's shared state in this process. */
export interface VenueLookups {
  /** Checks the symbol is listed: `undefined` when it is known, else a promise that settles it. */
  requireSymbol?(symbol: string): Promise<void> | undefined;
  /** A recent price (shared by the exchange's accounts), to check a market order's minimum order value; `undefined` when none. */
  referencePrice?(symbol: string): Promise<number | undefined>;
}

/**
 * A `Trader` over one ccxt instance (one account on one exchange). Every
 * error leaves here normalised and scrubbed of the account's credentials.
 */
export function ccxtTrader(
  exchange: Exchange,
  credentials: Credentials,
  venue: VenueLookups = {},
  facts: AccountFacts = { hedged: false, ccxtOptions: undefined },
): Trader {
  const fail = (error: unknown) => normaliseError(error, credentials);

  const lookup = clientIdLookup(exchange.id);
  // The account's position mode (`facts.hedged`), as its exchange last showed
  // it: one-way until an order is refused for it. Learnt per account, at the
  // cost of one refused request for a hedge-mode account's first order in
  // this process; `facts` outlives this instance.
  /** Margin modes the signals asked for, by symbol: where the exchange takes the mode per order (OKX, Bitget), each order names it. */
  const marginModes = new Map<string, MarginMode>();

  async function fetchByClientId(symbol: string, clientOrderId: string, trigger: boolean): Promise<OrderSnapshot | null> {
    try {
      const order = await lookup(exchange, symbol, clientOrderId, trigger);
      return order ? toSnapshot(order, exchange.market(symbol)) : null;
    } catch (error) {
      throw fail(error);
    }
  }

  /**
   * OKX, Bybit and Bitget answer a new order with its ids only, and match it
   * a moment later: ask for its state, and for a market order ask again
   * while the exchange does not have it yet or still shows it unmatched, so
   * a fill is reported as a fill (and protected) rather than as a resting
   * order. What the last answer said is what is reported.
   */
  async function settledState(request: OrderRequest, acknowledged: OrderSnapshot): Promise<OrderSnapshot> {
    let state: OrderSnapshot | null = null;
    for (const wait of request.type === 'market' ? MARKET_STATE_WAITS_MS : [0]) {
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      state = (await fetchByClientId(request.symbol, request.clientOrderId, false).catch(() => null)) ?? state;
      if (state && (request.type !== 'market' || state.status !== 'open' || state.filled > 0)) break;
    }
    return state ?? acknowledged;
  }

  /**
   * The price a minimum order value is checked at: the order's own, else a
   * recent one for a market order. Reduce-only orders are not checked:
   * exchanges let them close a position smaller than the minimum.
   */
  async function priceToCheck(request: OrderRequest, market: Market): Promise<number | undefined> {
    if (request.reduceOnly || market.limits?.cost?.min === undefined) return undefined;
    return request.trigger?.price ?? request.price ?? (await venue.referencePrice?.(request.symbol));
  }

  return {
    exchange: exchange.id,

    async placeOrder(request: OrderRequest): Promise<OrderSnapshot> {
      const check = venue.requireSymbol?.(request.symbol);
      if (check) await check;
      const price = request.type === 'limit' ? request.price : undefined;
      let order: Order;
      let market: Market;
      try {
        market = exchange.market(request.symbol);
        const amount = orderAmount(exchange, request.symbol, request.amount, await priceToCheck(request, market));
        const marginMode = marginModes.get(request.symbol);
        const send = (inHedgeMode: boolean) => exchange.createOrder(request.symbol, request.type, request.side, amount, price, orderParams(exchange.id, market, request, { hedged: inHedgeMode, marginMode }));
        const mode = facts.hedged;
        try {
          order = await send(mode);
        } catch (error) {
          if (!market.contract || !positionModeRefused(error)) throw error;
          // Refused for the position mode, so nothing was placed: the account is in the other mode. Learn it and send once more.
          // Set from the mode this order was sent in, not toggled: a stop-loss and a take-profit refused together both learn the same.
          facts.hedged = !mode;
          order = await send(!mode);
        }
      } catch (error) {
        throw fail(error);
      }
      const snapshot = toSnapshot(order, market);
      if (snapshot.status === 'unknown' && !request.trigger) return settledState(request, snapshot);
      return snapshot;
    },

    findOrder: fetchByClientId,

    positionMode(symbol: string) {
      const market = exchange.markets?.[symbol];
      if (!market?.contract) return null;
      return facts.hedged ? 'hedge' : 'one_way';
    },

    async setLeverage(symbol: string, leverage: number): Promise<void> {
      try {
        const market = exchange.market(symbol);
        // Leverage is a derivatives setting; a spot order of the same signal trades the coins as they are.
        if (market.spot) return;
        requireBaseUnits(exchange, market);
        const max = market.limits?.leverage?.max;
        if (typeof max === 'number' && max > 0 && leverage > max) {
          throw new ExchangeFailure('invalid_order', `leverage ${leverage} is above the most ${symbol} allows on ${exchange.id} (${max}); nothing was placed`);
        }
        // OKX keeps a leverage per margin mode; ccxt's default is cross.
        const marginMode = marginModes.get(symbol);
        await exchange.setLeverage(leverage, symbol, marginMode ? { marginMode } : {});
      } catch (error) {
        if (LEVERAGE_ALREADY_SET.test(error instanceof Error ? error.message : String(error))) return;
        throw fail(error);
      }
    },

    async setMarginMode(symbol: string, mode: MarginMode): Promise<void> {
      try {
        const market = exchange.market(symbol);
        // Spot has no margin here: the signal trades the coins as they are.
        if (market.spot) return;
        requireBaseUnits(exchange, market);
        marginModes.set(symbol, mode);
        // OKX takes the mode on every order (tdMode) and has nothing to set.
        if (exchange.id === 'okx') return;
        await exchange.setMarginMode(mode, symbol);
      } catch (error) {
        if (MARGIN_MODE_ALREADY_SET.test(error instanceof Error ? error.message : String(error))) return;
        throw fail(error);
      }
    },

    async fetchBalances(): Promise<Balance[]> {
      let raw: Awaited<ReturnType<Exchange['fetchBalance']>>;
      try {
        raw = await exchange.fetchBalance(balanceParams(exchange.id));
      } catch (error) {
        throw fail(error);
      }
      const out: Balance[] = [];
      const totals = (raw.total ?? {}) as unknown as Record<string, number | undefined>;
      const free = (raw.free ?? {}) as unknown as Record<string, number | undefined>;
      const used = (raw.used ?? {}) as unknown as Record<string, number | undefined>;
      for (const [currency, total] of Object.entries(totals)) {
        const t = finite(total);
        if (t === null || t === 0) continue;
        out.push({ currency, total: t, free: finite(free[currency]), used: finite(used[currency]) });
      }
      return out.sort((a, b) => a.currency.localeCompare(b.currency));
    },

    async marketSizing(symbol: string): Promise<MarketSizing> {
      const check = venue.requireSymbol?.(symbol);
      if (check) await check;
      try {
        return marketSizing(exchange, symbol);
      } catch (error) {
        throw fail(error);
      }
    },

    async lastPrice(symbol: string): Promise<number | undefined> {
      try {
        const ticker = await exchange.fetchTicker(symbol);
        return finite(ticker.last) ?? finite(ticker.close) ?? finite(ticker.markPrice) ?? undefined;
      } catch (error) {
        throw fail(error);
      }
    },

    async fetchPositions(symbols: string[] | undefined): Promise<Position[]> {
      // A spot account holds coins, reported by fetchBalances; ccxt's binance would ask a futures endpoint.
      if (spotOnly(exchange.id)) return [];
      let raw: Awaited<ReturnType<Exchange['fetchPositions']>>;
      try {
        raw = await exchange.fetchPositions(symbols);
      } catch (error) {
        throw fail(error);
      }
      const out: Position[] = [];
      for (const p of raw) {
        const contracts = finite(p.contracts);
        if (contracts === null || contracts === 0 || !p.symbol) continue;
        out.push({
          symbol: p.symbol,
          side: p.side === 'short' ? 'short' : 'long',
          contracts: Math.abs(contracts),
          contract_size: finite(p.contractSize),
          entry_price: finite(p.entryPrice),
          mark_price: finite(p.markPrice),
          notional: finite(p.notional),
          unrealized_pnl: finite(p.unrealizedPnl),
          leverage: finite(p.leverage),
          liquidation_price: finite(p.liquidationPrice),
          margin_mode: p.marginMode ?? null,
        });
      }
      return out.sort((a, b) => a.symbol.localeCompare(b.symbol));
    },

    async openOrders(symbol: string): Promise<RestingOrder[]> {
      const check = venue.requireSymbol?.(symbol);
      if (check) await check;
      try {
        return await restingOrders(exchange.id).list(exchange, symbol);
      } catch (error) {
        throw fail(error);
      }
    },

    async cancelOrder(order: RestingOrder): Promise<boolean> {
      try {
        return await restingOrders(exchange.id).cancel(exchange, order);
      } catch (error) {
        throw fail(error);
      }
    },
  };
}
