import type { Logger } from 'pino';
import type { ErrorBody } from '../core/error-codes.js';
import type { AccountId } from '../core/wire-fields.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import type { TraderPool } from '../exchange/trader-pool.js';
import type { Credentials } from '../core/credentials.js';
import { withDeadline, type Limiter } from './limiter.js';

export interface ReadDeps {
  traders: TraderPool;
  limiter: Limiter;
  accountTimeoutMs: number;
  logger: Logger;
}

interface AccountLike {
  account_id: AccountId;
  exchange: string;
  credentials: Credentials;
  sandbox: boolean;
}

/**
 * Runs a read-only operation (query, balance, positions) for every account
 * with the node's concurrency bound and per-account deadline. A failure or a
 * timeout becomes that account's `error`; the others are unaffected.
 */
export function perAccount<A extends AccountLike, R extends object>(
  accounts: A[],
  deps: ReadDeps,
  run: (account: A) => Promise<R>,
  failed: (account: A, error: ErrorBody) => R,
): Promise<Array<R & { latency_ms: number }>> {
  return Promise.all(
    accounts.map(async (account) => {
      const started = performance.now();
      const work = deps.limiter.run(() => run(account)).then(
        (value) => value,
        (error: unknown) => {
          const failure = normaliseError(error, account.credentials);
          if (failure.code === 'internal_error') deps.logger.error({ err: failure, account_id: account.account_id }, 'read failed unexpectedly');
          return failed(account, { code: failure.ambiguous ? 'exchange_unavailable' : failure.code, message: failure.message });
        },
      );
      const outcome = await withDeadline(work, deps.accountTimeoutMs);
      const value = outcome.done ? outcome.value : failed(account, { code: 'timeout', message: 'no answer within account_timeout' });
      const error = (value as { error?: ErrorBody }).error;
      if (error) deps.logger.warn({ account_id: account.account_id, code: error.code, reason: error.message }, 'account read failed');
      return { ...value, latency_ms: Math.round(performance.now() - started) };
    }),
  );
}
