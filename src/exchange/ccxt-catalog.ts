import type { Exchange } from 'ccxt';
import { loadCcxt, type CcxtModule } from './ccxt-module.js';

/**
 * Which ccxt exchange classes this build can instantiate: every exchange
 * ccxt ships in the full CLI, the chosen few in the node executable (whose
 * build swaps in a ccxt module that holds only those). Loaded on first use.
 */
export interface ExchangeCatalog {
  load(): Promise<LoadedCatalog>;
}

export interface LoadedCatalog {
  readonly ids: ReadonlySet<string>;
  create(id: string, config: Record<string, unknown>): Exchange | undefined;
}

type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

function catalogOf(ccxt: CcxtModule): LoadedCatalog {
  // ccxt's `exchanges` export maps each id to its class; the classes' own
  // constructor types differ, so they are taken as the common shape.
  const classes = new Map<string, ExchangeClass>();
  for (const [id, Class] of Object.entries(ccxt.exchanges as unknown as Record<string, ExchangeClass>)) {
    if (typeof Class === 'function') classes.set(id, Class);
  }
  return {
    ids: new Set(classes.keys()),
    create(id, config) {
      const Class = classes.get(id);
      return Class ? new Class(config) : undefined;
    },
  };
}

export function fullCatalog(): ExchangeCatalog {
  let loading: Promise<LoadedCatalog> | undefined;
  return { load: () => (loading ??= loadCcxt().then(catalogOf)) };
}
