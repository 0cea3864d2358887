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

/** ccxt's precision modes: a step size (most exchanges since ccxt 4), or a number of decimal places. */
const TICK_SIZE = 4;
const DECIMAL_PLACES = 2;

/**
 * What sizing an order needs of a market, in the base currency: rounding to
 * its amount precision (down, and up to a minimum) and its minimums.
 */
export interface MarketSizing {
  base: string;
  /** The currency notional and equity are counted in (the settle currency of a contract, the quote of a spot pair). */
  quote: string;
  /** The largest amount at most `base` the market takes (0 when none). */
  roundDown(base: number): number;
  /** The smallest amount at least `base` the market takes. */
  roundUp(base: number): number;
  /** Minimum amount and minimum order value, when the market has them. */
  minAmount: number | undefined;
  minNotional: number | undefined;
}

export function marketSizing(exchange: Exchange, symbol: string): MarketSizing {
  const market = exchange.market(symbol);
  requireBaseUnits(exchange, market);
  const precision = market.precision?.amount;
  const stepUnits =
    typeof precision !== 'number' || !(precision > 0 || exchange.precisionMode === DECIMAL_PLACES)
      ? undefined
      : exchange.precisionMode === TICK_SIZE
        ? precision
        : exchange.precisionMode === DECIMAL_PLACES
          ? 10 ** -precision
          : undefined;
  const roundDown = (base: number): number => {
    if (!(base > 0)) return 0;
    const units = baseToUnits(market, base);
    if (precision === undefined) return base;
    try {
      return unitsToBase(market, Number(exchange.amountToPrecision(symbol, units)));
    } catch {
      return 0;
    }
  };
  return {
    base: market.base,
    quote: market.settle ?? market.quote,
    roundDown,
    roundUp(base) {
      const down = roundDown(base);
      if (down >= clean(base)) return down;
      // Without a known step the amount is sent as it is, and the exchange rounds it.
      if (stepUnits === undefined) return base;
      return clean(down + unitsToBase(market, stepUnits));
    },
    minAmount: positive(market.limits?.amount?.min) === undefined ? undefined : unitsToBase(market, market.limits.amount?.min as number),
    minNotional: positive(market.limits?.cost?.min),
  };
}
