/**
 * Money in the center is an integer count of 1e-8 units (points, USDT), a
 * `bigint` from the request or the exchange report to the BIGINT column and
 * back: exact to add, and updated atomically by both dialects.
 *
 * Decimals are parsed from their text (a number from its shortest form:
 * `String(0.1)` is "0.1"), never multiplied as floats, and rounded once, half
 * away from zero, to 1e-8.
 *
 * The ceiling is BIGINT's: 2^63 − 1 units, about 92.2 billion whole units.
 * An amount beyond it is refused here (`AmountError`) before anything is
 * written: a fill that large is an apply error of that order alone. Point
 * balances are held to `MAX_BALANCE_UNITS`, far below it, so that charges
 * and rewards added to them cannot reach it.
 */
export const UNIT_DECIMALS = 8;
export const UNITS = 10n ** BigInt(UNIT_DECIMALS);

/** The largest amount a BIGINT column holds: 9,223,372,036,854,775,807 units. */
export const MAX_UNITS = 2n ** 63n - 1n;

/** The most a point-card balance may hold after a top-up: 10^18 units, 10,000,000,000 points. */
export const MAX_BALANCE_UNITS = 10n ** 18n;

export class AmountError extends Error {
  override name = 'AmountError';
}

/** A decimal as `digits × 10^exponent`, exactly. */
export interface Decimal {
  digits: bigint;
  exponent: number;
}

/** Longer decimal texts are refused rather than parsed: no amount needs them. */
const MAX_TEXT = 64;
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal number or text, exactly: "0.1" is 1 × 10^-1, 0.1 too. */
export function decimalOf(value: number | string): Decimal {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new AmountError(`not a number: ${String(value)}`);
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = text.length <= MAX_TEXT ? DECIMAL.exec(text) : null;
  const whole = match?.[2] ?? '';
  const fraction = match?.[3] ?? '';
  if (!match || whole + fraction === '') throw new AmountError(`not a decimal number: ${JSON.stringify(text.slice(0, MAX_TEXT))}`);
  const digits = BigInt(whole + fraction);
  return { digits: match[1] === '-' ? -digits : digits, exponent: Number(match[4] ?? 0) - fraction.length };
}

/** `d` in units, rounded half away from zero; refused beyond `MAX_UNITS`. */
function unitsOfDecimal(d: Decimal, what: () => string): bigint {
  const negative = d.digits < 0n;
  const abs = negative ? -d.digits : d.digits;
  const shift = d.exponent + UNIT_DECIMALS;
  const length = abs.toString().length;
  let units: bigint;
  if (abs === 0n) units = 0n;
  else if (shift >= 0) {
    // More than 20 digits cannot fit; checked before 10^shift is built, so no exponent makes it huge.
    if (length + shift > 20) throw new AmountError(`amount out of range: ${what()}`);
    units = abs * 10n ** BigInt(shift);
  } else if (-shift > length) {
    // Below a tenth of a unit: rounds to zero.
    units = 0n;
  } else {
    const divisor = 10n ** BigInt(-shift);
    units = abs / divisor;
    if (2n * (abs % divisor) >= divisor) units += 1n;
  }
  if (units > MAX_UNITS) throw new AmountError(`amount out of range: ${what()}`);
  return negative ? -units : units;
}

/** A decimal (number or text) → units, exactly, rounded once: `toUnits(0.1)` is 10,000,000n. */
export function toUnits(value: number | string): bigint {
  return unitsOfDecimal(decimalOf(value), () => String(value));
}

/** Units → a decimal string without float noise: 123450000n → "1.2345". */
export function fromUnits(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const fraction = (abs % UNITS).toString().padStart(UNIT_DECIMALS, '0').replace(/0+$/, '');
  return `${sign}${abs / UNITS}${fraction ? `.${fraction}` : ''}`;
}

/** Notional of a fill in units: quantity × price, multiplied exactly and rounded once. */
export function notionalUnits(quantity: number | string, price: number | string): bigint {
  const q = decimalOf(quantity);
  const p = decimalOf(price);
  return unitsOfDecimal({ digits: q.digits * p.digits, exponent: q.exponent + p.exponent }, () => `${String(quantity)} × ${String(price)}`);
}

/** A fraction from 0 to below 1 (a fee rate, a referral share) as an exact ratio, from its shortest decimal form. */
export interface Ratio {
  numerator: bigint;
  denominator: bigint;
}

export function ratioOf(fraction: number): Ratio {
  const d = decimalOf(fraction);
  if (d.digits < 0n) throw new AmountError(`expected a fraction of at least 0: ${fraction}`);
  return d.exponent >= 0 ? { numerator: d.digits * 10n ** BigInt(d.exponent), denominator: 1n } : { numerator: d.digits, denominator: 10n ** BigInt(-d.exponent) };
}

/** floor(units × ratio) for units ≥ 0; 0 below. */
export function shareOf(units: bigint, ratio: Ratio): bigint {
  return units > 0n ? (units * ratio.numerator) / ratio.denominator : 0n;
}
