import { EQUITY_MODES, type SizingReport, type SizingSpec } from '../core/sizing.js';
import type { AccountOrder, Signal } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { MarketSizing } from '../exchange/order-units.js';
import type { Trader } from '../exchange/trader.js';

/**
 * Sizing one account's entry on the node (docs/protocol.md, "Sizing"):
 * equity read live (one balance call, only for the modes that need it), the
 * price the signal gives or one ticker call shared by the request's
 * accounts, the quantity rounded down to the market's precision, then the
 * cap and the minimum policy. Nothing here places an order.
 */

/** Prices read for one request, per exchange and symbol: one ticker call however many accounts it sizes. */
export type RequestPrices = Map<string, Promise<number | undefined>>;

export interface Sized {
  /** The quantity to place; undefined when `refusal` is set. */
  quantity: number | undefined;
  /** The price it was sized at: a market order's reference (for its minimum order value check). */
  price: number;
  report: SizingReport;
  refusal?: ExchangeFailure;
}

const fmt = (x: number) => String(Number(x.toPrecision(6)));

/** A failure to read what sizing needs: nothing was sent, so never `unknown`. */
function readFailure(error: unknown, account: AccountOrder, what: string): ExchangeFailure {
  const failure = normaliseError(error, account.credentials);
  return new ExchangeFailure(failure.ambiguous ? 'exchange_unavailable' : failure.code, `could not read ${what} to size the order: ${failure.message}; nothing was placed`);
}

async function priceOf(trader: Trader, signal: Signal, account: AccountOrder, prices: RequestPrices): Promise<number> {
  // A limit's own price; a market order's reference when the signal gives one; else the market's, read now.
  if (signal.price !== undefined) return signal.price;
  const key = `${account.exchange}|${account.sandbox ? 'sandbox' : 'live'}|${signal.symbol}`;
  let pending = prices.get(key);
  if (!pending) {
    pending = trader.lastPrice(signal.symbol);
    prices.set(key, pending);
  }
  let price: number | undefined;
  try {
    price = await pending;
  } catch (error) {
    throw readFailure(error, account, `the ${signal.symbol} price`);
  }
  if (price === undefined || !(price > 0)) throw new ExchangeFailure('exchange_unavailable', `${account.exchange} gave no price for ${signal.symbol} to size the order; nothing was placed`);
  return price;
}

async function equityOf(trader: Trader, account: AccountOrder, currency: string): Promise<number> {
  let balances;
  try {
    balances = await trader.fetchBalances();
  } catch (error) {
    throw readFailure(error, account, 'the account balance');
  }
  return balances.find((b) => b.currency === currency)?.total ?? 0;
}

/**
 * The quantity for `spec`, or a refusal (`below_minimum`, `position_limit`,
 * `stop_loss_required`) with the report saying why. Throws `ExchangeFailure`
 * when the balance, the price or the market cannot be read.
 */
export async function sizeEntry(trader: Trader, signal: Signal, account: AccountOrder, spec: SizingSpec, prices: RequestPrices): Promise<Sized> {
  if (spec.mode === 'risk_percent' && signal.stop_loss === undefined) {
    const report = { mode: spec.mode, quantity: 0, equity: null, price: null, reason: 'risk_percent sizes by the distance to the stop-loss, and the signal has none' };
    return { quantity: undefined, price: 0, report, refusal: new ExchangeFailure('stop_loss_required', `${report.reason}; nothing was placed`) };
  }
  let market: MarketSizing;
  try {
    market = await trader.marketSizing(signal.symbol);
  } catch (error) {
    throw normaliseError(error, account.credentials);
  }
  const [price, equity] = await Promise.all([priceOf(trader, signal, account, prices), EQUITY_MODES.has(spec.mode) ? equityOf(trader, account, market.quote) : Promise.resolve(null)]);
  const value = spec.value ?? 0;
  const quote = market.quote;
  let raw: number;
  let why: string;
  switch (spec.mode) {
    case 'multiplier':
      raw = account.quantity ?? 0;
      why = `the signal's quantity × multiplier = ${fmt(raw)} ${market.base}`;
      break;
    case 'fixed_notional':
      raw = value / price;
      why = `${fmt(value)} ${quote} at ${fmt(price)} = ${fmt(raw)} ${market.base}`;
      break;
    case 'equity_percent':
      raw = ((equity as number) * value) / 100 / price;
      why = `${fmt(value)}% of equity ${fmt(equity as number)} ${quote} at ${fmt(price)} = ${fmt(raw)} ${market.base}`;
      break;
    case 'risk_percent': {
      const stop = signal.stop_loss as number;
      const distance = Math.abs(price - stop);
      if (!(distance > 0)) {
        const report = { mode: spec.mode, quantity: 0, equity, price, reason: `the stop-loss ${fmt(stop)} is at the entry price ${fmt(price)}: no risk per unit to size by` };
        return { quantity: undefined, price, report, refusal: new ExchangeFailure('invalid_order', `${report.reason}; nothing was placed`) };
      }
      raw = ((equity as number) * value) / 100 / distance;
      why = `${fmt(value)}% of equity ${fmt(equity as number)} ${quote} at risk over ${fmt(price)} → stop ${fmt(stop)} (${fmt(distance)} per ${market.base}) = ${fmt(raw)} ${market.base}`;
      break;
    }
  }
  const steps = [why];
  const capped = spec.max_notional !== undefined && raw * price > spec.max_notional;
  if (capped && spec.max_notional !== undefined) {
    raw = spec.max_notional / price;
    steps.push(`capped at max_position_notional ${fmt(spec.max_notional)} ${quote} = ${fmt(raw)} ${market.base}`);
  }
  let quantity = market.roundDown(raw);
  steps.push(quantity === raw ? `on the market's precision` : `rounded down to ${fmt(quantity)}`);
  const least = market.roundUp(Math.max(market.minAmount ?? 0, market.minNotional !== undefined ? market.minNotional / price : 0));
  const minimum = least > 0 ? least : market.roundUp(Number.MIN_VALUE);
  const report = (reason: string[], q: number): SizingReport => ({ mode: spec.mode, quantity: q, equity, price, reason: reason.join(', ') });
  if (quantity <= 0 || quantity < minimum) {
    const smallest = `the smallest order ${signal.symbol} takes is ${fmt(minimum)} ${market.base}${market.minNotional !== undefined ? ` (${fmt(market.minNotional)} ${quote} at ${fmt(price)})` : ''}`;
    // Below the minimum because of the cap, or only reachable above it: the cap is why nothing is placed.
    if (capped || (spec.min_size === 'round_up' && spec.max_notional !== undefined && minimum * price > spec.max_notional * (1 + 1e-9))) {
      const r = report([...steps, `below the minimum: ${smallest}, which is above max_position_notional ${fmt(spec.max_notional as number)} ${quote}`], 0);
      return { quantity: undefined, price, report: r, refusal: new ExchangeFailure('position_limit', `${r.reason}; nothing was placed`) };
    }
    if (spec.min_size === 'skip') {
      const r = report([...steps, `below the minimum: ${smallest}; skipped (min_size skip)`], 0);
      return { quantity: undefined, price, report: r, refusal: new ExchangeFailure('below_minimum', `${r.reason}; nothing was placed`) };
    }
    quantity = minimum;
    steps.push(`raised to the minimum ${fmt(minimum)} ${market.base} (min_size round_up)`);
  }
  return { quantity, price, report: report(steps, quantity) };
}

/** The report of an entry a resend found: placed by an earlier attempt, never sized again. */
export function foundReport(spec: SizingSpec, amount: number | null): SizingReport {
  return { mode: spec.mode, quantity: amount ?? 0, equity: null, price: null, reason: 'the entry was placed by an earlier attempt and found by its client order id; not sized again' };
}
