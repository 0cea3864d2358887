import type { Exchange } from 'ccxt';
import type { Credentials } from '../core/credentials.js';
import { accountFactsMemory, rememberingDetected, restoreDetected, type AccountFacts } from './account-facts.js';
import type { ExchangeCatalog, LoadedCatalog } from './ccxt-catalog.js';
import { normaliseError } from './ccxt-errors.js';
import { ccxtTrader } from './ccxt-trader.js';
import { marketOptions } from './market-types.js';
import { ExchangeFailure } from './exchange-failure.js';
import { referencePrices, type ReferencePrices } from './reference-prices.js';
import type { PaperExchange } from './paper-exchange.js';
import type { Trader } from './trader.js';

export interface TraderPoolOptions {
  catalog: ExchangeCatalog;
  /** exchange id → base URL (simulator, testnet, proxy). Node config only, never from a request. */
  exchangeUrls: Readonly<Record<string, string>>;
  /** ccxt's per-HTTP-request timeout. */
  requestTimeoutMs: number;
  /** How many account instances stay cached; the least recently used goes first. */
  maxInstances: number;
  /** Markets older than this are refreshed in the background while the old ones keep serving. */
  marketsTtlMs: number;
  paper: PaperExchange;
  onMarketsLoaded?: (exchange: string, sandbox: boolean, ms: number) => void;
  onMarketsFailed?: (exchange: string, sandbox: boolean, error: ExchangeFailure) => void;
}

export interface AccountRef {
  exchange: string;
  credentials: Credentials;
  sandbox: boolean;
}

export interface TraderPoolStats {
  /** Market-metadata loads per exchange since start (goal: one each). */
  market_loads: Record<string, number>;
  cached_instances: number;
  exchanges_loaded: string[];
}

export interface TraderPool {
  /** A ready trader for the account; throws `ExchangeFailure` (never ambiguous). */
  trader(account: AccountRef): Promise<Trader>;
  stats(): TraderPoolStats;
}

interface Venue {
  template: Exchange | undefined;
  loadedAt: number;
  loading: Promise<Exchange> | undefined;
  /** Read through the template, which holds no credentials: public calls only. */
  prices: ReferencePrices;
}

/** Accounts whose learnt facts are kept, at least, and per cached instance. */
const FACTS_KEPT_MIN = 10_000;
const FACTS_PER_INSTANCE = 10;

/** A symbol missing from markets this old triggers one reload (a new listing). */
const MISSING_SYMBOL_RELOAD_AFTER_MS = 60_000;

/**
 * Point every REST base URL of a ccxt instance at `base`, keeping the path:
 * `https://fapi.binance.com/fapi/v1` → `http://127.0.0.1:9000/fapi/v1`.
 */
export function rewriteApiUrls(urls: unknown, base: string): unknown {
  const origin = base.replace(/\/+$/, '');
  if (typeof urls === 'string') return urls.replace(/^https?:\/\/[^/]+/i, origin);
  if (urls && typeof urls === 'object') {
    const out: Record<string, unknown> = Array.isArray(urls) ? [] as unknown as Record<string, unknown> : {};
    for (const [key, value] of Object.entries(urls)) out[key] = rewriteApiUrls(value, origin);
    return out;
  }
  return urls;
}

function stringLeaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringLeaves(v, out);
  return out;
}

/**
 * Sends an instance's REST calls to `base` while keeping ccxt's error
 * classification as it is for the real hosts: some exchanges (Binance) pick
 * their error table by request URL (`https://fapi.binance.com/...` → the
 * USD-M codes), and a redirected URL would otherwise fall back to generic
 * codes (Binance -2019 "Margin is insufficient" would become a plain
 * ExchangeError instead of InsufficientFunds).
 */
export function redirectInstance(instance: Exchange, base: string): void {
  const original = stringLeaves(instance.urls['api']);
  instance.urls['api'] = rewriteApiUrls(instance.urls['api'], base) as Exchange['urls']['api'];
  const pairs = original.map((url) => [rewriteApiUrls(url, base) as string, url] as const).sort((a, b) => b[0].length - a[0].length);
  // ccxt's typings do not declare this per-exchange hook; it exists on Binance.
  const hooked = instance as unknown as { getExceptionsByUrl?: (url: string, kind: string) => unknown };
  const byUrl = hooked.getExceptionsByUrl;
  if (typeof byUrl !== 'function') return;
  hooked.getExceptionsByUrl = (url: string, kind: string) => {
    const pair = typeof url === 'string' ? pairs.find(([rewritten]) => url.startsWith(rewritten)) : undefined;
    return byUrl.call(instance, pair ? pair[1] + url.slice(pair[0].length) : url, kind);
  };
}

/** Exchanges whose ccxt code reads the last response back (Kraken's cancelOrder looks for "EOrder:Unknown order" in it). */
const READS_LAST_RESPONSE: ReadonlySet<string> = new Set(['kraken']);

/**
 * The ccxt settings of every instance the pool makes, besides credentials.
 *
 * - No throttle (see `createTraderPool`).
 * - No currency fetch: it would add a spot-wallet call to every market load
 *   (Binance sapi); orders and balances do not need it.
 * - No copy of the last response on the instance: by default each instance
 *   keeps its last response's text and headers until its next call, so a
 *   node serving hundreds of accounts keeps hundreds of responses alive and
 *   the garbage collector promotes and re-marks them. The node reads results
 *   from return values only. Without them ccxt's own CPU per order fell by
 *   3-6% (entry, stop-loss and take-profit for 1,000 accounts, paired runs).
 */
export function instanceSettings(exchange: string, timeoutMs: number): Record<string, unknown> {
  const keepLast = READS_LAST_RESPONSE.has(exchange);
  return {
    enableRateLimit: false,
    timeout: timeoutMs,
    enableLastHttpResponse: keepLast,
    enableLastResponseHeaders: keepLast,
    options: { fetchCurrencies: false, ...marketOptions(exchange) },
  };
}

/**
 * ccxt instances for many accounts, sharing one set of markets per exchange.
 *
 * Markets are loaded once per (exchange, sandbox) per process and handed to
 * each account's instance with ccxt's `setMarketsFromExchange`, so no request
 * ever waits on `loadMarkets`. Instances are cached per credentials with an
 * LRU bound; a new instance costs milliseconds, a cached one nothing.
 * ccxt's own throttle is off: it spaces one instance's calls far apart, which
 * would serialise an account's entry, stop-loss and take-profit; exchange
 * limits are per account and per IP and answer 429 when crossed.
 */
export function createTraderPool(options: TraderPoolOptions): TraderPool {
  const venues = new Map<string, Venue>();
  const instances = new Map<string, { instance: Exchange; facts: AccountFacts; trader: Trader }>();
  const loads: Record<string, number> = {};
  // What each account's instances learnt, kept past their eviction; entries are tiny next to an instance.
  const facts = accountFactsMemory(Math.max(FACTS_KEPT_MIN, options.maxInstances * FACTS_PER_INSTANCE));

  function newInstance(catalog: LoadedCatalog, exchange: string, sandbox: boolean, credentials?: Credentials): Exchange {
    const secrets = credentials?.reveal();
    const instance = catalog.create(exchange, {
      apiKey: secrets?.apiKey,
      secret: secrets?.secret,
      password: secrets?.passphrase,
      ...instanceSettings(exchange, options.requestTimeoutMs),
    });
    if (!instance) throw new ExchangeFailure('exchange_not_supported', `exchange "${exchange}" is not supported by this node`);
    if (sandbox) {
      try {
        instance.setSandboxMode(true);
      } catch (error) {
        throw new ExchangeFailure('invalid_order', `sandbox mode is not available for ${exchange}: ${normaliseError(error).message}`);
      }
    }
    const base = options.exchangeUrls[exchange];
    if (base) redirectInstance(instance, base);
    return instance;
  }

  async function loadVenue(exchange: string, sandbox: boolean): Promise<Exchange> {
    const started = Date.now();
    // A fresh template each time: ccxt caches a failed loadMarkets promise
    // on the instance, so a failed instance could never recover.
    const template = newInstance(await options.catalog.load(), exchange, sandbox);
    try {
      await template.loadMarkets();
    } catch (error) {
      const failure = normaliseError(error);
      const code = failure.code === 'unknown_outcome' || failure.code === 'internal_error' ? 'exchange_unavailable' : failure.code;
      const wrapped = new ExchangeFailure(code, `could not load ${exchange} markets: ${failure.message}`);
      options.onMarketsFailed?.(exchange, sandbox, wrapped);
      throw wrapped;
    }
    loads[exchange] = (loads[exchange] ?? 0) + 1;
    options.onMarketsLoaded?.(exchange, sandbox, Date.now() - started);
    return template;
  }

  function reload(venueKey: string, venue: Venue, exchange: string, sandbox: boolean): Promise<Exchange> {
    venue.loading ??= loadVenue(exchange, sandbox).then(
      (template) => {
        venue.template = template;
        venue.loadedAt = Date.now();
        venue.loading = undefined;
        for (const [key, pooled] of instances) {
          if (key.startsWith(`${venueKey}|`)) pooled.instance.setMarketsFromExchange(template);
        }
        return template;
      },
      (error: unknown) => {
        venue.loading = undefined;
        throw error;
      },
    );
    return venue.loading;
  }

  async function marketsFor(exchange: string, sandbox: boolean): Promise<Exchange> {
    const venueKey = `${exchange}|${sandbox ? 'sandbox' : 'live'}`;
    let venue = venues.get(venueKey);
    if (!venue) {
      const self: Venue = {
        template: undefined,
        loadedAt: 0,
        loading: undefined,
        prices: referencePrices(async (symbol) => {
          const ticker = await self.template?.fetchTicker(symbol);
          return ticker?.last ?? ticker?.close ?? undefined;
        }),
      };
      venue = self;
      venues.set(venueKey, venue);
    }
    if (!venue.template) return reload(venueKey, venue, exchange, sandbox);
    if (Date.now() - venue.loadedAt > options.marketsTtlMs) {
      // Stale markets keep serving; a failed refresh is retried next time.
      reload(venueKey, venue, exchange, sandbox).catch(() => undefined);
    }
    return venue.template;
  }

  /**
   * `undefined` for a known symbol, with no promise to await: it is asked
   * before every order. Else a promise that reloads stale markets once or
   * rejects with market_not_found.
   */
  function requireSymbol(exchange: string, sandbox: boolean, symbol: string): Promise<void> | undefined {
    const venueKey = `${exchange}|${sandbox ? 'sandbox' : 'live'}`;
    const venue = venues.get(venueKey);
    const known = () => venue?.template?.markets?.[symbol] !== undefined;
    if (known()) return undefined;
    return (async () => {
      if (venue && Date.now() - venue.loadedAt > MISSING_SYMBOL_RELOAD_AFTER_MS) {
        await reload(venueKey, venue, exchange, sandbox).catch(() => undefined);
        if (known()) return;
      }
      throw new ExchangeFailure('market_not_found', `${exchange} has no market ${symbol}`);
    })();
  }

  return {
    async trader(account) {
      if (account.exchange === 'paper') return options.paper.trader(account.credentials);
      const catalog = await options.catalog.load();
      if (!catalog.ids.has(account.exchange)) {
        throw new ExchangeFailure('exchange_not_supported', `exchange "${account.exchange}" is not supported by this node`);
      }
      const template = await marketsFor(account.exchange, account.sandbox);
      const key = `${account.exchange}|${account.sandbox ? 'sandbox' : 'live'}|${account.credentials.fingerprint()}`;
      let pooled = instances.get(key);
      if (pooled) {
        instances.delete(key);
        facts.of(key, pooled.facts);
      } else {
        const instance = newInstance(catalog, account.exchange, account.sandbox, account.credentials);
        instance.setMarketsFromExchange(template);
        const learnt = facts.of(key);
        restoreDetected(instance, learnt);
        // The key covers every credential value, so the trader's credentials
        // (used to scrub its errors) are the ones this instance was built with.
        const venue = venues.get(`${account.exchange}|${account.sandbox ? 'sandbox' : 'live'}`);
        const trader = ccxtTrader(
          instance,
          account.credentials,
          {
            requireSymbol: (symbol) => requireSymbol(account.exchange, account.sandbox, symbol),
            referencePrice: (symbol) => venue?.prices.of(symbol) ?? Promise.resolve(undefined),
          },
          learnt,
        );
        pooled = { instance, facts: learnt, trader: rememberingDetected(trader, instance, learnt) };
      }
      instances.set(key, pooled);
      while (instances.size > options.maxInstances) {
        const oldest = instances.keys().next().value;
        if (oldest === undefined) break;
        instances.delete(oldest);
      }
      return pooled.trader;
    },

    stats() {
      return {
        market_loads: { ...loads },
        cached_instances: instances.size,
        exchanges_loaded: [...venues.entries()].filter(([, v]) => v.template).map(([k]) => k),
      };
    },
  };
}
