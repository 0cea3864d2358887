import type { Logger } from 'pino';
import type * as v from 'valibot';
import { fullCatalog, type ExchangeCatalog } from '../exchange/ccxt-catalog.js';
import { createPaperExchange, type PaperExchange } from '../exchange/paper-exchange.js';
import { createTraderPool, type TraderPool } from '../exchange/trader-pool.js';
import type { ExecuteDeps } from './execute.js';
import { createLimiter, type Limiter } from './limiter.js';
import { createSymbolTurns } from './symbol-turns.js';
import type { ExecutionSettings } from './settings.js';
import { timedTraders, type ExecutionMetrics } from './timed-traders.js';

/** Parts a test or the demo swaps in: the ccxt exchanges, the paper exchange. */
export interface RuntimeParts {
  catalog?: ExchangeCatalog;
  paper?: PaperExchange;
}

export type ExecutionConfig = v.InferOutput<v.ObjectSchema<typeof ExecutionSettings, undefined>>;

/**
 * What `execute()` needs, built from the execution settings. The node builds
 * one per process; so does the center, for accounts that have no node.
 */
export function createExecutionDeps(
  settings: ExecutionConfig,
  logger: Logger,
  parts: RuntimeParts = {},
  metrics?: ExecutionMetrics,
): ExecuteDeps & { traders: TraderPool; limiter: Limiter } {
  const pool = createTraderPool({
    catalog: parts.catalog ?? fullCatalog(),
    exchangeUrls: settings.exchange_urls,
    requestTimeoutMs: settings.exchange_timeout,
    maxInstances: settings.ccxt_cache_size,
    marketsTtlMs: settings.markets_ttl,
    paper: parts.paper ?? createPaperExchange(),
    onMarketsLoaded: (exchange, sandbox, ms) => {
      metrics?.marketsLoaded(exchange, 'ok', ms / 1000);
      logger.info({ exchange, sandbox, ms }, 'markets loaded');
    },
    onMarketsFailed: (exchange, sandbox, error) => {
      metrics?.marketsLoaded(exchange, 'error', undefined);
      logger.warn({ exchange, sandbox, code: error.code, reason: error.message }, 'markets failed to load');
    },
  });
  return {
    logger,
    traders: metrics ? timedTraders(pool, metrics) : pool,
    limiter: createLimiter(settings.execute_concurrency),
    accountTimeoutMs: settings.account_timeout,
    inFlight: new Map(),
    turns: createSymbolTurns(),
  };
}
