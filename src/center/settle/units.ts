/**
 * Money in the center is an integer count of 1e-8 units (points, USDT):
 * exact to add, and stored in BIGINT columns that both dialects update
 * atomically. Values stay below 2^53 units (≈ 90 million whole units).
 */
export const UNITS = 100_000_000;

export class AmountError extends Error {
  override name = 'AmountError';
}

/** A decimal (number or string) → units, rounded to the nearest unit. */
export function toUnits(value: number | string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new AmountError(`not a number: ${String(value)}`);
  const units = Math.round(n * UNITS);
  if (!Number.isSafeInteger(units)) throw new AmountError(`amount out of range: ${String(value)}`);
  return units;
}

/** Units → a decimal string without float noise: 123450000 → "1.2345". */
export function fromUnits(units: number): string {
  if (!Number.isSafeInteger(units)) throw new AmountError(`not a whole number of units: ${units}`);
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  const whole = Math.trunc(abs / UNITS);
  const fraction = String(abs % UNITS).padStart(8, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Notional of a fill, in units: quantity × price. */
export function notionalUnits(quantity: number | string, price: number | string): number {
  return toUnits(Number(quantity) * Number(price));
}
