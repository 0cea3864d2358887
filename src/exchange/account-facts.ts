import type { Exchange } from 'ccxt';
import type { Trader } from './trader.js';

/**
 * What the node has learnt about one account from the exchange's answers,
 * kept apart from the account's ccxt instance so that an instance rebuilt
 * after the cache evicted it (or after `ccxt_cache_size: 0`) does not pay to
 * learn it again. Keyed by the credentials' fingerprint; holds no secret.
 */
export interface AccountFacts {
  /** The position mode the exchange last showed (see `ccxtTrader`). */
  hedged: boolean;
  /** ccxt's own per-account detection results, copied off the instance it learnt them on. */
  ccxtOptions: Record<string, unknown> | undefined;
}

/**
 * The `options` ccxt fills in per account on its first private call, by
 * exchange: Bybit asks `/v5/user/query-api` and `/v5/account/info` to tell
 * a unified account from a classic one; Bitget asks `/api/v3/account/settings`
 * to tell a unified (UTA) account. Both are signed calls against the
 * account's request budget, made again by every new instance.
 */
const DETECTED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  bybit: ['enableUnifiedMargin', 'enableUnifiedAccount', 'unifiedMarginStatus'],
  bitget: ['uta'],
};

/** Copies what ccxt has detected on `instance` into `facts` (nothing until every option of the exchange is known). */
export function rememberDetected(instance: Exchange, facts: AccountFacts): void {
  const keys = DETECTED_OPTIONS[instance.id];
  if (!keys || facts.ccxtOptions) return;
  const options = instance.options as Record<string, unknown>;
  if (keys.some((key) => options[key] === undefined)) return;
  facts.ccxtOptions = Object.fromEntries(keys.map((key) => [key, options[key]]));
}

/**
 * `trader`, copying ccxt's detection results off `instance` after each call
 * until they are known; `trader` itself where the exchange detects nothing.
 */
export function rememberingDetected(trader: Trader, instance: Exchange, facts: AccountFacts): Trader {
  if (!DETECTED_OPTIONS[instance.id] || facts.ccxtOptions) return trader;
  const after = <T>(call: Promise<T>): Promise<T> => call.finally(() => rememberDetected(instance, facts));
  return {
    exchange: trader.exchange,
    placeOrder: (request) => after(trader.placeOrder(request)),
    findOrder: (symbol, clientOrderId, trigger) => after(trader.findOrder(symbol, clientOrderId, trigger)),
    setLeverage: (symbol, leverage) => after(trader.setLeverage(symbol, leverage)),
    setMarginMode: (symbol, mode) => after(trader.setMarginMode(symbol, mode)),
    fetchBalances: () => after(trader.fetchBalances()),
    marketSizing: (symbol) => trader.marketSizing(symbol),
    lastPrice: (symbol) => after(trader.lastPrice(symbol)),
    fetchPositions: (symbols) => after(trader.fetchPositions(symbols)),
    openOrders: (symbol) => after(trader.openOrders(symbol)),
    cancelOrder: (order) => after(trader.cancelOrder(order)),
    positionMode: (symbol) => trader.positionMode(symbol),
  };
}

/** Gives a new instance what an earlier one of the same account detected. */
export function restoreDetected(instance: Exchange, facts: AccountFacts): void {
  if (facts.ccxtOptions) Object.assign(instance.options, facts.ccxtOptions);
}

/**
 * A bounded memory of facts per account key, least recently used dropped
 * first. An entry is a few dozen bytes, so it can outlive many instance
 * evictions at a small fraction of an instance's size.
 */
export function accountFactsMemory(maxEntries: number) {
  const entries = new Map<string, AccountFacts>();
  return {
    /** The account's facts, made empty on first sight; `inUse` (its cached trader's) is kept as they are. */
    of(key: string, inUse?: AccountFacts): AccountFacts {
      let facts = inUse ?? entries.get(key);
      entries.delete(key);
      facts ??= { hedged: false, ccxtOptions: undefined };
      entries.set(key, facts);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return facts;
    },
    get size(): number {
      return entries.size;
    },
  };
}
