import { BitgetBook, LOSS_TYPES, type PlanOrder, type RegularOrder } from './bitget-book.js';
import { BitgetError, errors } from './bitget-errors.js';
import { contractOf, DEFAULT_LEVERAGE, SIM_SYMBOLS, unifiedSymbol } from './bitget-markets.js';
import { setMarkPrice } from './bitget-orders.js';
import { OPERATIONS, route } from './bitget-routes.js';
import type { ExchangeSim, ExchangeSimOptions, SimOrderView, SimPositionView } from './exchange-sim.js';
import { type ExchangeDialect, type SimAnswer, type SimBook, type SimRequest, serveSim } from './sim-server.js';

const unified = (id: string) => {
  const c = contractOf(id);
  return c ? unifiedSymbol(c) : id;
};

function regularView(o: RegularOrder): SimOrderView {
  return {
    account: o.account,
    symbol: unified(o.symbol),
    id: o.orderId,
    clientOrderId: o.clientOid,
    // The direction the order trades in: a hedge-mode close-long is sent as side=buy but sells.
    side: o.posMode === 'hedge_mode' && o.tradeSide === 'close' ? (o.holdSide === 'long' ? 'sell' : 'buy') : o.side,
    type: o.orderType,
    status: o.state === 'live' ? 'open' : o.state === 'canceled' ? 'canceled' : o.state,
    amount: o.size,
    filled: o.filled,
    average: o.priceAvg,
    price: o.price,
    triggerPrice: null,
    reduceOnly: o.reduceOnly,
    positionSide: o.posMode === 'hedge_mode' ? o.holdSide : null,
    parentId: o.planId,
    createdAt: o.cTime,
  };
}

function planOrderView(p: PlanOrder): SimOrderView {
  const protectsLong = p.holdSide === 'long';
  const isLoss = p.planType === 'normal_plan' ? (p.direction === 'down') === protectsLong : LOSS_TYPES.has(p.planType);
  return {
    account: p.account,
    symbol: unified(p.symbol),
    id: p.orderId,
    clientOrderId: p.clientOid,
    side: p.planType === 'normal_plan' ? p.side : protectsLong ? 'sell' : 'buy',
    type: isLoss ? 'stop_loss' : 'take_profit',
    status: p.planStatus === 'live' ? 'open' : p.planStatus === 'executed' ? 'triggered' : p.planStatus === 'cancelled' ? 'canceled' : 'rejected',
    amount: p.size,
    filled: 0,
    average: null,
    price: p.executePrice,
    triggerPrice: p.triggerPrice,
    reduceOnly: p.reduceOnly,
    positionSide: p.posMode === 'hedge_mode' ? p.holdSide : null,
    parentId: p.parentId,
    createdAt: p.cTime,
  };
}

/** The book behind the exchange-neutral views: amounts are base coin on Bitget already. */
class BitgetSimBook extends BitgetBook implements SimBook {
  readonly symbols = SIM_SYMBOLS;

  setMarkPrice(symbol: string, price: number, now: number): void {
    setMarkPrice(this, symbol, price, now);
  }

  markPrice(symbol: string): number {
    const c = contractOf(symbol);
    return c ? this.mark(c.symbol) : 0;
  }

  orders(apiKey?: string): SimOrderView[] {
    return this.all.filter((o) => apiKey === undefined || o.account === apiKey).map((o) => (o.kind === 'order' ? regularView(o) : planOrderView(o)));
  }

  positions(apiKey?: string): SimPositionView[] {
    const out: SimPositionView[] = [];
    for (const account of this.accounts.values()) {
      if (apiKey !== undefined && account.apiKey !== apiKey) continue;
      for (const p of account.positions.values()) {
        out.push({
          account: account.apiKey,
          symbol: unified(p.symbol),
          side: p.holdSide,
          amount: p.size,
          entryPrice: p.entry,
          leverage: this.leverageOf(account, p.symbol),
          marginMode: this.marginModeOf(account, p.symbol) === 'isolated' ? 'isolated' : 'cross',
        });
      }
    }
    return out;
  }

  leverage(apiKey: string, symbol: string): number {
    const account = this.accounts.get(apiKey);
    const c = contractOf(symbol);
    return account && c ? this.leverageOf(account, c.symbol) : DEFAULT_LEVERAGE;
  }
}

const ok = (data: unknown, now: number): SimAnswer => ({ status: 200, body: { code: '00000', msg: 'success', requestTime: now, data } });
const fail = (error: BitgetError, now: number): SimAnswer => ({ status: error.status, body: error.body(now) });

/**
 * Bitget v2 USDT-M futures (productType USDT-FUTURES) for ccxt's `bitget`:
 * HMAC-SHA256/base64 signatures with passphrase, the `{"code":"00000"}`
 * envelope, regular orders, plan and TP/SL orders in their own book,
 * one-way and hedge position modes, leverage and margin modes, separate
 * spot and futures wallets, and Bitget's error codes.
 */
export function bitgetDialect(): ExchangeDialect {
  const book = new BitgetSimBook();
  return {
    exchange: 'bitget',
    book,
    operationOf: (request: SimRequest) => OPERATIONS[`${request.method} ${request.path}`],
    apiKeyOf: (request: SimRequest) => {
      const key = request.headers['access-key'];
      return typeof key === 'string' ? key : undefined;
    },
    handle: (request: SimRequest) => {
      try {
        return ok(route(book, request), request.now);
      } catch (error) {
        if (error instanceof BitgetError) return fail(error, request.now);
        throw error;
      }
    },
    rateLimited: (request: SimRequest) => fail(errors.rateLimit(), request.now),
    // A gateway 503 page: Bitget's API answered nothing the client can read, so the outcome is unknown.
    unknownOutcome: () => ({ status: 503, body: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>', contentType: 'text/html' }),
    rejected: (request: SimRequest, code, msg, status) =>
      fail(new BitgetError(status ?? 400, code === undefined ? '40015' : String(code), msg ?? 'System is abnormal, please try again later'), request.now),
  };
}

export async function startBitgetSim(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  return serveSim(bitgetDialect(), options);
}
