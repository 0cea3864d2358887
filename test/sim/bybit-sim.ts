import type { ExchangeSim, ExchangeSimOptions, SimAccountSpec } from './exchange-sim.js';
import { serveSim, type ExchangeDialect, type SimAnswer, type SimBook, type SimRequest } from './sim-server.js';
import { apiKeyHeader } from './bybit-auth.js';
import { BybitBook } from './bybit-book.js';
import { BybitError, errors } from './bybit-errors.js';
import { LINEAR_MARKETS, marketByAnyName } from './bybit-markets.js';
import { setMarkPrice } from './bybit-orders.js';
import { operationOf, PRIVATE_LIMITS, route } from './bybit-routes.js';
import { simOrderView, simPositionViews } from './bybit-views.js';

export interface BybitSimOptions extends ExchangeSimOptions {
  /**
   * Answer 10006 "Too many visits!" once a key exceeds an endpoint's per-second
   * limit, as Bybit does. Off by default so tests that place many orders on
   * one account within a second are not throttled; the X-Bapi-Limit headers
   * are sent either way.
   */
  enforceRateLimits?: boolean;
}

const ok = (result: unknown, now: number) => ({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: now });

/**
 * Bybit's per-UID, per-endpoint, one-second rolling windows, reported on
 * every private answer as X-Bapi-Limit / X-Bapi-Limit-Status /
 * X-Bapi-Limit-Reset-Timestamp (docs/v5/rate-limit.mdx).
 */
class RateWindows {
  private hits = new Map<string, number[]>();

  /** Counts the request and returns [limit, remaining, resetAt]. */
  take(key: string, limit: number, now: number): [number, number, number] {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - 1000);
    recent.push(now);
    this.hits.set(key, recent);
    const resetAt = recent.length > limit ? (recent[recent.length - limit - 1] as number) + 1000 : now;
    return [limit, Math.max(0, limit - recent.length), resetAt];
  }

  over(key: string, limit: number, now: number): boolean {
    return (this.hits.get(key) ?? []).filter((t) => t > now - 1000).length > limit;
  }

  clear(): void {
    this.hits = new Map();
  }
}

function bookFacade(book: BybitBook): SimBook {
  const resolve = (symbol: string) => {
    const market = marketByAnyName(symbol);
    if (!market) throw new Error(`the Bybit simulator lists no ${symbol}`);
    return market;
  };
  return {
    symbols: LINEAR_MARKETS.map((m) => m.symbol),
    addAccount: (spec: SimAccountSpec) => book.addAccount(spec),
    setMarkPrice: (symbol, price, now) => setMarkPrice(book, resolve(symbol).id, price, now),
    markPrice: (symbol) => book.mark(resolve(symbol).id),
    orders: (apiKey) => (apiKey === undefined ? book.all : (book.accounts.get(apiKey)?.orders ?? [])).map((o) => simOrderView(book, o)),
    positions: (apiKey) => [...book.accounts.values()].filter((a) => apiKey === undefined || a.apiKey === apiKey).flatMap((a) => simPositionViews(book, a)),
    leverage: (apiKey, symbol) => {
      const account = book.accounts.get(apiKey);
      if (!account) throw new Error(`no account ${apiKey}`);
      return book.leverageOf(account, resolve(symbol).id, 1);
    },
    reset: () => book.reset(),
  };
}

/**
 * The Bybit v5 dialect: USDT perpetuals (category=linear) on a unified
 * trading account, behind Bybit's real paths, header signatures, envelopes
 * and retCodes, for ccxt's real `bybit` code path.
 */
export function bybitDialect(options: BybitSimOptions = {}): ExchangeDialect & { windows: RateWindows } {
  const book = new BybitBook();
  const windows = new RateWindows();
  const facade = bookFacade(book);
  const limitOf = (request: SimRequest) => PRIVATE_LIMITS[`${request.method} ${request.path}`];
  const windowKey = (request: SimRequest) => `${apiKeyHeader(request.headers) ?? ''} ${request.method} ${request.path}`;
  const answerError = (error: BybitError, now: number): SimAnswer => ({ status: error.status, body: error.envelope(now) });
  return {
    exchange: 'bybit',
    book: { ...facade, reset: () => (facade.reset(), windows.clear()) },
    windows,
    operationOf: (r) => operationOf(r.method, r.path, r.query, r.body),
    apiKeyOf: (r) => apiKeyHeader(r.headers),
    usageHeaders(request): Record<string, string> {
      const limit = limitOf(request);
      if (limit === undefined || apiKeyHeader(request.headers) === undefined) return {};
      const [max, remaining, resetAt] = windows.take(windowKey(request), limit, request.now);
      return { 'X-Bapi-Limit': String(max), 'X-Bapi-Limit-Status': String(remaining), 'X-Bapi-Limit-Reset-Timestamp': String(resetAt) };
    },
    handle(request) {
      const limit = limitOf(request);
      if (options.enforceRateLimits && limit !== undefined && windows.over(windowKey(request), limit, request.now)) {
        return answerError(errors.tooManyVisits(), request.now);
      }
      try {
        return { status: 200, body: ok(route(book, request.method, request.path, request.query, request.rawQuery, request.body, request.headers, request.now), request.now) };
      } catch (error) {
        if (error instanceof BybitError) return answerError(error, request.now);
        throw error;
      }
    },
    rateLimited: (request) => ({
      ...answerError(errors.tooManyVisits(), request.now),
      headers: { 'X-Bapi-Limit': String(limitOf(request) ?? 10), 'X-Bapi-Limit-Status': '0', 'X-Bapi-Limit-Reset-Timestamp': String(request.now + 1000) },
    }),
    // A gateway that lost the backend's answer: the request may have been executed.
    unknownOutcome: (request) => ({ status: 503, body: errors.requestTimeout().envelope(request.now) }),
    rejected: (request, code, msg, status) => ({
      status: status ?? 200,
      body: new BybitError(Number(code ?? 10016), msg ?? 'Server error.').envelope(request.now),
    }),
  };
}

/** Starts a Bybit v5 simulator on 127.0.0.1. */
export function startBybitSim(options: BybitSimOptions = {}): Promise<ExchangeSim> {
  return serveSim(bybitDialect(options), options);
}
