/**
 * The market types the node trades on each default exchange, and the ccxt
 * options that load only those. ccxt loads every type by default (Bybit:
 * spot, linear, inverse and six option underlyings, 11 requests; OKX: four
 * instrument types), which costs requests against the exchange's per-IP
 * budget and memory for markets no signal can name. A symbol of another
 * type is then `market_not_found` on that exchange.
 */
export interface TradedMarkets {
  types: readonly string[];
  /** ccxt options that load only `types`. */
  options: Record<string, unknown>;
  /** fetchBalance params for the wallet these markets trade from, where ccxt's default is another one. */
  balance?: Record<string, unknown>;
}

export const TRADED_MARKETS: Readonly<Record<string, TradedMarkets>> = {
  // USDT-margined perpetuals.
  binanceusdm: { types: ['linear'], options: { fetchMarkets: { types: ['linear'] } } },
  okx: { types: ['swap'], options: { fetchMarkets: { types: ['swap'] } } },
  bybit: { types: ['linear'], options: { fetchMarkets: { types: ['linear'] } } },
  // ccxt's bitget.fetchBalance() reads the spot wallet unless told otherwise.
  bitget: { types: ['swap'], options: { fetchMarkets: { types: ['swap'] } }, balance: { type: 'swap' } },
  // Spot; margin pairs are another product.
  binance: { types: ['spot'], options: { fetchMarkets: { types: ['spot'] }, fetchMargins: false } },
};

/** True when the node trades only spot on `exchange`: no positions, no leverage. */
export function spotOnly(exchange: string): boolean {
  const types = TRADED_MARKETS[exchange]?.types;
  return types !== undefined && types.every((t) => t === 'spot');
}

export function balanceParams(exchange: string): Record<string, unknown> {
  return TRADED_MARKETS[exchange]?.balance ?? {};
}

/** ccxt options narrowing `exchange`'s market load; none for exchanges without an entry (ccxt's defaults). */
export function marketOptions(exchange: string): Record<string, unknown> {
  return TRADED_MARKETS[exchange]?.options ?? {};
}
