import type { Exchange, MarketInterface as Market } from 'ccxt';
import { ExchangeFailure } from './exchange-failure.js';

/**
 * Quantities in tradectl are in the base currency (0.01 means 0.01 BTC on
 * every exchange); ccxt's `amount` is in the market's order unit, which for
 * contract markets is a number of contracts (OKX BTC-USDT-SWAP: 0.01 BTC
 * each). This is the one place that converts between the two.
 */

/** Digits kept after dividing or multiplying by a contract size, so 0.03 / 0.01 is 3 and not 2.9999999999999996, which truncation would make 2.99. */
const SIGNIFICANT_DIGITS = 12;
const clean = (x: number) => Number(x.toPrecision(SIGNIFICANT_DIGITS));

function positive(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : undefined;
}

/** Base currency per order unit: the contract size of a contract market, 1 for spot. */
export function unitSize(market: Market): number {
  return (market.contract && positive(market.contractSize)) || 1;
}

/**
 * Refuses a market whose contracts are not counted in its base currency:
 * an inverse (coin-margined) contract is worth a fixed amount of the quote
 * currency (OKX BTC-USD-SWAP: 100 USD), so a quantity in coins has no fixed
 * number of contracts. The node trades spot and linear contracts only.
 */
export function requireBaseUnits(exchange: Exchange, market: Market): void {
  if (market.inverse) {
    throw new ExchangeFailure('invalid_order', `${market.symbol} is an inverse (coin-margined) market on ${exchange.id}, whose contracts are worth a fixed ${market.quote} amount; tradectl quantities are in the base currency, so only spot and linear markets are traded; nothing was placed`);
  }
}

/** A base-currency quantity of `market` in order units. */
export function baseToUnits(market: Market, base: number): number {
  return clean(base / unitSize(market));
}

/** An amount in order units, in the base currency. */
export function unitsToBase(market: Market, units: number): number {
  return clean(units * unitSize(market));
}

/**
 * The order amount ccxt should be given for `base` of `symbol`: in order
 * units, rounded down to the market's precision (never more than was
 * asked), and at least the market's minimum amount and, when the price is
 * known, its minimum notional. Below them the order is refused here with
 * `below_minimum`, saying the minimum in the base currency, rather than
 * sent for the exchange to reject or rounded to zero.
 */
export function orderAmount(exchange: Exchange, symbol: string, base: number, price: number | undefined): number {
  const market = exchange.market(symbol);
  requireBaseUnits(exchange, market);
  const units = baseToUnits(market, base);
  let rounded = units;
  if (market.precision?.amount !== undefined) {
    try {
      rounded = Number(exchange.amountToPrecision(symbol, units));
    } catch {
      // ccxt refuses an amount that rounds to zero; that is below the minimum.
      rounded = 0;
    }
  }
  const size = unitSize(market);
  const minUnits = positive(market.limits?.amount?.min) ?? 0;
  if (!(rounded > 0) || rounded < minUnits) {
    const contracts = size === 1 || !minUnits ? '' : ` (${minUnits} contract${minUnits === 1 ? '' : 's'} of ${size} ${market.base})`;
    const least = minUnits ? `${unitsToBase(market, minUnits)} ${market.base}${contracts}` : `one step of its precision (${String(market.precision?.amount)} ${size === 1 ? market.base : 'contracts'})`;
    throw new ExchangeFailure('below_minimum', `${base} ${market.base} is below the smallest order ${symbol} takes on ${exchange.id}: ${least}; nothing was placed`);
  }
  const minCost = positive(market.limits?.cost?.min);
  if (minCost !== undefined && price !== undefined) {
    const notional = clean(unitsToBase(market, rounded) * price);
    if (notional < minCost) {
      throw new ExchangeFailure('below_minimum', `${unitsToBase(market, rounded)} ${market.base} at ${price} is ${notional} ${market.quote}, below the smallest order value ${symbol} takes on ${exchange.id}: ${minCost} ${market.quote}; nothing was placed`);
    }
  }
  return rounded;
}
