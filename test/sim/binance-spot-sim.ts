import type { ExchangeSim, ExchangeSimOptions } from './exchange-sim.js';
import { serveSim } from './sim-server.js';
import { SpotBook } from './binance-spot-book.js';
import { reactToPrice } from './binance-spot-matching.js';
import { SpotDialect } from './binance-spot-routes.js';

/**
 * A Binance SPOT simulator on 127.0.0.1 for ccxt's real `binance` code
 * path: `/api/v3` orders (MARKET, LIMIT, LIMIT_MAKER, STOP_LOSS(_LIMIT),
 * TAKE_PROFIT(_LIMIT)), OCO order lists, lookups by client id, the spot
 * account's free / locked balances with commission taken in the asset
 * received, exchangeInfo filters, signatures, Binance's -1104 for
 * parameters spot does not read (reduceOnly), and -2015 for the futures
 * calls a spot-only key may not make. Quantities are base currency.
 * A separate server from the USD-M simulator (binance-sim.ts).
 */
export async function startBinanceSpotSim(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const book = new SpotBook(reactToPrice);
  return serveSim(new SpotDialect(book), options);
}
