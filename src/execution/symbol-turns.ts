/**
 * The order in which one node works on one account's symbol across
 * signals. An action (close, reduce, reverse, update_protection, cancel)
 * reads the position and the resting orders and acts on what it read, so it
 * waits for every earlier signal's work on that account and symbol, and
 * later work waits for it: a close followed at once by an open never closes
 * the new position too, and a reduce followed by a close never leaves the
 * reduce's resized stop behind. Opens do not wait for each other (they read
 * nothing), so a burst of opens stays parallel.
 */
export interface SymbolTurns {
  /** Resolves when `kind` work on `key` may start; call the returned function when it is done. */
  take(key: string, kind: 'open' | 'action'): { ready: Promise<void>; done(): void };
  /** Keys with work waiting or running (for tests and health). */
  readonly size: number;
}

interface KeyState {
  /** The latest action's completion. */
  action: Promise<void> | undefined;
  opens: Set<Promise<void>>;
}

export function createSymbolTurns(): SymbolTurns {
  const keys = new Map<string, KeyState>();
  return {
    take(key, kind) {
      const state = keys.get(key) ?? { action: undefined, opens: new Set<Promise<void>>() };
      keys.set(key, state);
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const before = kind === 'open' ? [state.action] : [state.action, ...state.opens];
      const ready = Promise.all(before).then(() => undefined);
      if (kind === 'open') state.opens.add(finished);
      else state.action = finished;
      let released = false;
      return {
        ready,
        done() {
          if (released) return;
          released = true;
          finish();
          state.opens.delete(finished);
          if (state.action === finished) state.action = undefined;
          if (state.action === undefined && state.opens.size === 0 && keys.get(key) === state) keys.delete(key);
        },
      };
    },
    get size() {
      return keys.size;
    },
  };
}
