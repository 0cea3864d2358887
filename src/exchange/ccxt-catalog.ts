import ccxt, { type Exchange } from 'ccxt';

/**
 * Which ccxt exchange classes this build can instantiate. The full CLI offers
 * every exchange ccxt ships; the node bundle builds its own catalog from a
 * chosen few, so the executable carries only those.
 */
export interface ExchangeCatalog {
  readonly ids: readonly string[];
  create(id: string, config: Record<string, unknown>): Exchange | undefined;
}

type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

export function catalogOf(classes: Record<string, ExchangeClass>): ExchangeCatalog {
  const ids = Object.keys(classes).sort();
  return {
    ids,
    create(id, config) {
      const Class = Object.hasOwn(classes, id) ? classes[id] : undefined;
      return Class ? new Class(config) : undefined;
    },
  };
}

/** Every exchange ccxt ships. */
export function fullCatalog(): ExchangeCatalog {
  // ccxt's default export is a namespace object whose keys include one class
  // per exchange id listed in `ccxt.exchanges`; the cast picks those out.
  const namespace = ccxt as unknown as Record<string, ExchangeClass>;
  const classes: Record<string, ExchangeClass> = {};
  for (const id of ccxt.exchanges) {
    const Class = namespace[id];
    if (typeof Class === 'function') classes[id] = Class;
  }
  return catalogOf(classes);
}
