/**
 * A recent price per symbol, shared by every account of one exchange in
 * this process: what a market order's minimum order value is checked
 * against before it is sent. One fetch per symbol at a time, kept for
 * `ttlMs`; a failed fetch gives `undefined` (the order then goes out
 * unchecked and the exchange decides) and is not retried for a few
 * seconds, so an exchange without the call costs one request, not one per
 * order.
 */
export interface ReferencePrices {
  of(symbol: string): Promise<number | undefined>;
}

const RETRY_FAILED_AFTER_MS = 5_000;

interface Entry {
  at: number;
  price: number | undefined;
  pending: Promise<number | undefined> | undefined;
}

export function referencePrices(fetchPrice: (symbol: string) => Promise<number | undefined>, ttlMs = 30_000, now: () => number = Date.now): ReferencePrices {
  const entries = new Map<string, Entry>();
  return {
    of(symbol) {
      let entry = entries.get(symbol);
      if (entry?.pending) return entry.pending;
      if (entry && now() - entry.at < (entry.price === undefined ? RETRY_FAILED_AFTER_MS : ttlMs)) return Promise.resolve(entry.price);
      entry ??= { at: 0, price: undefined, pending: undefined };
      entries.set(symbol, entry);
      const current = entry;
      current.pending = fetchPrice(symbol)
        .then((price) => (typeof price === 'number' && Number.isFinite(price) && price > 0 ? price : undefined))
        .catch(() => undefined)
        .then((price) => {
          Object.assign(current, { at: now(), price, pending: undefined });
          return price;
        });
      return current.pending;
    },
  };
}
