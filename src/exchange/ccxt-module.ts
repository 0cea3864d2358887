import type * as Ccxt from 'ccxt';

/** The ccxt module, as `import('ccxt')` gives it. */
export type CcxtModule = typeof Ccxt;

let loaded: CcxtModule | undefined;
let loading: Promise<CcxtModule> | undefined;

/**
 * Loads ccxt on first use. Evaluating ccxt is most of a node's start-up
 * time (hundreds of exchange classes in the full CLI, tens of milliseconds
 * even for the few in the executable), so processes start serving first and
 * load it right after (`preloadCcxt`) or when the first order needs it.
 */
export function loadCcxt(): Promise<CcxtModule> {
  loading ??= import('ccxt').then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** ccxt if it has been loaded; errors can only come from ccxt once it has. */
export function loadedCcxt(): CcxtModule | undefined {
  return loaded;
}

/**
 * Loads ccxt soon after a server starts listening, so the first order does
 * not wait for it, but not at once: evaluating it blocks the event loop for
 * tens of milliseconds, which would hold up the first health checks.
 */
export function preloadCcxt(afterMs = 1000): void {
  setTimeout(() => void loadCcxt().catch(() => undefined), afterMs).unref();
}
