/**
 * Remembers each accepted request signature until its timestamp leaves the
 * acceptance window, so a captured request cannot be sent again. Bounded:
 * past `maxEntries` the oldest are forgotten first (they are also the first
 * to expire).
 */
export interface ReplayGuard {
  /** True the first time a signature is seen within its window. */
  firstUse(signature: string, expiresAt: number, now: number): boolean;
  readonly size: number;
}

export function createReplayGuard(maxEntries = 1_000_000): ReplayGuard {
  const seen = new Map<string, number>();
  return {
    get size() {
      return seen.size;
    },
    firstUse(signature, expiresAt, now) {
      // Entries are inserted roughly in expiry order, so the expired ones sit
      // at the front; stop at the first live one.
      for (const [key, expiry] of seen) {
        if (expiry > now && seen.size < maxEntries) break;
        seen.delete(key);
      }
      if (seen.has(signature)) return false;
      seen.set(signature, expiresAt);
      return true;
    },
  };
}
