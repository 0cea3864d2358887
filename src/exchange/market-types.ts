/**
 * The market types the node trades on each default exchange, and the ccxt
 * options that load only those. ccxt loads every type by default (Bybit:
 * spot, linear, inverse and six option underlyings, 11 requests; OKX: four
 * instrument types), which costs requests against the exchange's per-IP
 * budget and memory for markets no signal can name. A symbol of another
 * type is then `market_not_found` on that exchange.
 */
export const TRADED_MARKETS: Readonly<Record<string, { types: readonly string[]; options: Record<string, unknown> }>> = {
  // USDT-margined perpetuals.
  binanceusdm: { types: ['linear'], options: { fetchMarkets: { types: ['linear'] } } },
  okx: { types: ['swap'], options: { fetchMarkets: { types: ['swap'] } } },
  bybit: { types: ['linear'], options: { fetchMarkets: { types: ['linear'] } } },
  bitget: { types: ['swap'], options: { fetchMarkets: { types: ['swap'] } } },
  // Spot; margin pairs are another product.
  binance: { types: ['spot'], options: { fetchMarkets: { types: ['spot'] }, fetchMargins: false } },
};

/** ccxt options narrowing `exchange`'s market load; none for exchanges without an entry (ccxt's defaults). */
export function marketOptions(exchange: string): Record<string, unknown> {
  return TRADED_MARKETS[exchange]?.options ?? {};
}
