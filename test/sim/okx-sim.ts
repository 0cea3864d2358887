import type { ExchangeSim, ExchangeSimOptions, SimAccountSpec, SimOperation, SimOrderView, SimPositionView, SimSymbol } from './exchange-sim.js';
import { type ExchangeDialect, type SimAnswer, type SimBook, type SimRequest, serveSim } from './sim-server.js';
import { apiKeyHeader } from './okx-auth.js';
import { type Algo, DEFAULT_LEVER, EPS, type Leg, OkxBook, type Order } from './okx-book.js';
import { errors, OkxError, statusOf } from './okx-errors.js';
import { swapBySymbol, SWAPS } from './okx-markets.js';
import { setMarkPrice } from './okx-orders.js';
import { errorAnswer, operationOf, route } from './okx-routes.js';

/** The OKX simulator adds what only OKX has: ccxt's default market load asks per instrument type. */
export interface OkxSim extends ExchangeSim {
  /** `GET /api/v5/public/instruments` requests by instType (OPTION is asked once per underlying). */
  instrumentRequests(): Record<string, number>;
}

const ORDER_PATHS = new Set(['/api/v5/trade/order', '/api/v5/trade/batch-orders', '/api/v5/trade/order-algo', '/api/v5/trade/cancel-order', '/api/v5/trade/cancel-batch-orders', '/api/v5/trade/cancel-algos']);

function ctVal(instId: string): number {
  return Number(swapBySymbol(instId)?.ctVal ?? 1);
}

/** Contracts × ctVal, without the binary noise of the product (3 × 0.1). */
const base = (contracts: number, instId: string) => Number((contracts * ctVal(instId)).toFixed(12));

function symbolOf(instId: string): SimSymbol {
  return swapBySymbol(instId)?.symbol ?? instId;
}

/**
 * The exchange-neutral views over the OKX book. Quantities convert from
 * contracts to base currency (× ctVal); an OCO algo shows as its two legs,
 * and TP/SL still attached to a pending entry show as open legs of it.
 */
class OkxSimBook implements SimBook {
  readonly symbols = SWAPS.map((m) => m.symbol);
  constructor(readonly okx: OkxBook) {}

  addAccount(account: SimAccountSpec): void {
    this.okx.addAccount(account);
  }

  setMarkPrice(symbol: SimSymbol, price: number, now: number): void {
    const m = swapBySymbol(symbol);
    if (!m) throw new Error(`unknown symbol ${symbol}`);
    setMarkPrice(this.okx, m.instId, price, now);
  }

  markPrice(symbol: SimSymbol): number {
    const m = swapBySymbol(symbol);
    return m ? this.okx.mark(m.instId) : 0;
  }

  reset(): void {
    this.okx.reset();
  }

  leverage(apiKey: string, symbol: SimSymbol): number {
    const m = swapBySymbol(symbol);
    const account = this.okx.accounts.get(apiKey);
    if (!m || !account) return DEFAULT_LEVER;
    return account.lastLever.get(m.instId) ?? DEFAULT_LEVER;
  }

  orders(apiKey?: string): SimOrderView[] {
    const out: SimOrderView[] = [];
    for (const entry of this.okx.journal) {
      if (apiKey !== undefined && entry.account !== apiKey) continue;
      if ('ordId' in entry && 'clOrdId' in entry && 'attach' in entry) out.push(...this.regular(entry));
      else out.push(...this.algo(entry as Algo));
    }
    return out;
  }

  private regular(o: Order): SimOrderView[] {
    const status = o.state === 'live' ? 'open' : o.state;
    const views: SimOrderView[] = [
      {
        account: o.account,
        symbol: symbolOf(o.instId),
        id: o.ordId,
        clientOrderId: o.clOrdId,
        side: o.side,
        type: o.ordType === 'market' || o.ordType === 'optimal_limit_ioc' ? 'market' : 'limit',
        status,
        amount: base(o.sz, o.instId),
        filled: base(o.accFillSz, o.instId),
        average: o.accFillSz > EPS ? o.avgPx : null,
        price: o.px,
        triggerPrice: null,
        reduceOnly: o.reduceOnly,
        positionSide: o.posSide === 'net' ? null : o.posSide,
        parentId: o.algoId || null,
        createdAt: o.cTime,
      },
    ];
    // Attachments not yet turned into algo orders (those show through the journal).
    for (const a of o.attach) {
      if (a.algoId) continue;
      for (const [type, l] of [['take_profit', a.tp], ['stop_loss', a.sl]] as const) {
        if (!l) continue;
        views.push({
          account: o.account,
          symbol: symbolOf(o.instId),
          id: a.attachAlgoId,
          clientOrderId: a.attachAlgoClOrdId,
          side: o.side === 'buy' ? 'sell' : 'buy',
          type,
          status: a.discarded ? 'canceled' : 'open',
          amount: base(a.sz ?? o.sz, o.instId),
          filled: 0,
          average: null,
          price: l.ordPx === -1 ? null : l.ordPx,
          triggerPrice: l.triggerPx,
          reduceOnly: true,
          positionSide: o.posSide === 'net' ? null : o.posSide,
          parentId: o.ordId,
          createdAt: o.cTime,
        });
      }
    }
    return views;
  }

  private algo(a: Algo): SimOrderView[] {
    const account = this.okx.accounts.get(a.account);
    const fired = a.ordId ? account?.orders.find((o) => o.ordId === a.ordId) : undefined;
    const status = a.state === 'live' ? 'open' : a.state === 'effective' ? 'triggered' : a.state === 'canceled' ? 'canceled' : 'rejected';
    const legs: Array<['stop_loss' | 'take_profit', Leg]> = [];
    if (a.sl) legs.push(['stop_loss', a.sl]);
    if (a.tp) legs.push(['take_profit', a.tp]);
    // A trigger order is a stop on the side the price must travel to reach it.
    if (a.trigger) legs.push([(a.side === 'buy') === (a.trigger.direction === 'up') ? 'stop_loss' : 'take_profit', a.trigger]);
    return legs.map(([type, l]) => {
      const won = a.state !== 'effective' || a.ordType === 'trigger' || a.actualSide === (type === 'stop_loss' ? 'sl' : 'tp');
      return {
        account: a.account,
        symbol: symbolOf(a.instId),
        id: a.algoId,
        clientOrderId: a.algoClOrdId,
        side: a.side,
        type,
        // The losing leg of a fired OCO is gone with it.
        status: won ? status : 'canceled',
        amount: a.sz === null ? null : base(a.sz, a.instId),
        filled: won && fired ? base(fired.accFillSz, a.instId) : 0,
        average: won && fired && fired.accFillSz > EPS ? fired.avgPx : null,
        price: l.ordPx === -1 ? null : l.ordPx,
        triggerPrice: l.triggerPx,
        reduceOnly: a.reduceOnly,
        positionSide: a.posSide === 'net' ? null : a.posSide,
        parentId: a.parentOrdId || null,
        createdAt: a.cTime,
      };
    });
  }

  positions(apiKey?: string): SimPositionView[] {
    const out: SimPositionView[] = [];
    for (const account of this.okx.accounts.values()) {
      if (apiKey !== undefined && account.apiKey !== apiKey) continue;
      for (const p of this.okx.openPositions(account)) {
        const signed = this.okx.signedContracts(p);
        out.push({
          account: account.apiKey,
          symbol: symbolOf(p.instId),
          side: signed > 0 ? 'long' : 'short',
          amount: base(Math.abs(p.pos), p.instId),
          entryPrice: p.avgPx,
          leverage: this.okx.leverOf(account, p.instId, p.mgnMode, p.posSide),
          marginMode: p.mgnMode,
        });
      }
    }
    return out;
  }
}

/**
 * OKX v5 as the node's ccxt sees it: USDT-margined perpetual swaps in a
 * Futures-mode account, signed requests, the code/data/msg envelope with
 * per-order sCode, contracts on the wire, algo and attached TP/SL orders.
 */
class OkxDialect implements ExchangeDialect {
  readonly exchange = 'okx';
  readonly okx = new OkxBook();
  readonly book = new OkxSimBook(this.okx);
  instrumentCounts: Record<string, number> = {};

  operationOf(request: SimRequest): SimOperation | undefined {
    // The server asks this once per request before any fault, so it is where every instruments request is seen.
    if (request.path === '/api/v5/public/instruments') {
      const type = request.query.get('instType') ?? '';
      this.instrumentCounts[type] = (this.instrumentCounts[type] ?? 0) + 1;
    }
    return operationOf(request);
  }

  apiKeyOf(request: SimRequest): string | undefined {
    return apiKeyHeader(request.headers);
  }

  handle(request: SimRequest): SimAnswer {
    return route(this.okx, request);
  }

  /** OKX's throttle answer: HTTP 429 with code 50011. */
  rateLimited(): SimAnswer {
    return { status: 429, body: { msg: 'Too Many Requests', code: '50011' } };
  }

  /** 50004: "does not mean that the request was successful or failed, please check the request result". */
  unknownOutcome(): SimAnswer {
    return errorAnswer(errors.endpointTimeout());
  }

  /**
   * A queued rejection: on the place / cancel endpoints a trade-class code
   * is what OKX puts in the item (`code` "1", HTTP 200); anything else is a
   * request-level envelope with the table's HTTP status.
   */
  rejected(request: SimRequest, code: number | string | undefined, msg: string | undefined, status: number | undefined): SimAnswer {
    const c = String(code ?? '50026');
    const text = msg ?? 'System error. Try again later';
    if (ORDER_PATHS.has(request.path) && /^5[1-9]/.test(c)) {
      const item = request.path.includes('algo')
        ? { algoClOrdId: '', algoId: '', clOrdId: '', sCode: c, sMsg: text, tag: '' }
        : { clOrdId: '', ordId: '', sCode: c, sMsg: text, subCode: '', tag: '', ts: String(request.now) };
      return { status: status ?? 200, body: { code: '1', data: [item], msg: '' } };
    }
    return errorAnswer(new OkxError(c, text, status ?? statusOf(c)));
  }
}

export async function startOkxSim(options: ExchangeSimOptions = {}): Promise<OkxSim> {
  const dialect = new OkxDialect();
  const sim = await serveSim(dialect, options);
  const baseReset = sim.reset.bind(sim);
  const baseResetCounts = sim.resetCounts.bind(sim);
  // Overridden on the server's own object, so the /__sim/reset route resets these counts too.
  return Object.assign(sim, {
    instrumentRequests: () => ({ ...dialect.instrumentCounts }),
    resetCounts: () => {
      baseResetCounts();
      dialect.instrumentCounts = {};
    },
    reset: () => {
      baseReset();
      dialect.instrumentCounts = {};
    },
  });
}
