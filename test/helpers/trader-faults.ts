import { ExchangeFailure } from '../../src/exchange/exchange-failure.js';
import type { TraderPool } from '../../src/exchange/trader-pool.js';
import type { Trader } from '../../src/exchange/trader.js';

/** The pool, with each trader's calls changed by `change` (a fault an exchange can have), the rest as they are. */
export function withTraders(original: TraderPool, change: (inner: Trader) => Partial<Trader>): TraderPool {
  return {
    stats: () => original.stats(),
    async trader(account) {
      const inner = await original.trader(account);
      return { ...inner, ...change(inner) };
    },
  };
}

/** Every stop-loss request answered 503: the entry fills, its stop is not placed. */
export const failingStops = (original: TraderPool): TraderPool =>
  withTraders(original, (inner) => ({
    placeOrder: async (request) => {
      if (request.trigger?.kind === 'stop_loss') throw new ExchangeFailure('exchange_unavailable', 'the exchange is overloaded (503)');
      return inner.placeOrder(request);
    },
  }));
