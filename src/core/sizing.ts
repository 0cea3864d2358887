import * as v from 'valibot';
import { optionalPositiveDecimal } from './wire-fields.js';

/**
 * How a follower's open is sized (issue #20). `multiplier`: the signal's
 * quantity × the binding's multiplier, sized by the center as always;
 * `fixed_notional`: `value` USDT per signal; `equity_percent`: `value`% of
 * the account's equity as notional; `risk_percent`: `value`% of equity lost
 * if the stop-loss hits (equity × value / 100 / |entry − stop|). The last
 * three are sized by the node, from the account's equity and the price read
 * live in the same request.
 */
export const SIZING_MODES = ['multiplier', 'fixed_notional', 'equity_percent', 'risk_percent'] as const;
export type SizingMode = (typeof SIZING_MODES)[number];

/** Below the market's minimum: `skip` the account (`below_minimum`), or `round_up` to the minimum within `max_notional`. */
export const MIN_SIZE_POLICIES = ['skip', 'round_up'] as const;
export type MinSizePolicy = (typeof MIN_SIZE_POLICIES)[number];

/** Modes whose `value` is a percentage of equity. */
export const PERCENT_MODES: ReadonlySet<SizingMode> = new Set(['equity_percent', 'risk_percent']);

/** Modes the node needs the account's equity for (one balance call per account per request). */
export const EQUITY_MODES: ReadonlySet<SizingMode> = PERCENT_MODES;

const picklist = <T extends readonly string[]>(options: T) =>
  v.pipe(v.string(`expected one of ${options.join(', ')}`), v.toLowerCase(), v.picklist(options, `expected one of ${options.join(', ')}`));

export const SizingModeSchema = picklist(SIZING_MODES);
export const MinSizePolicySchema = picklist(MIN_SIZE_POLICIES);

/** The largest percentage a sizing value may be: 100% of equity as notional, or 100% of it at risk. */
export const MAX_PERCENT = 100;

/**
 * One account's sizing on the wire (`accounts[].sizing` of `/api/execute`).
 * `value` is required for every mode but `multiplier` (whose quantity the
 * account's `quantity`, or the signal's, already is).
 */
export const SizingSpecSchema = v.pipe(
  v.object({
    mode: SizingModeSchema,
    value: optionalPositiveDecimal('a sizing value'),
    min_size: v.optional(MinSizePolicySchema, 'skip'),
    max_notional: optionalPositiveDecimal('a notional in USDT'),
  }),
  v.forward(
    v.check((s) => s.mode === 'multiplier' || s.value !== undefined, 'is required for this sizing mode'),
    ['value'],
  ),
  v.forward(
    v.check((s) => s.mode !== 'multiplier' || s.value === undefined, 'is not used by the multiplier mode (the quantity is the account\'s)'),
    ['value'],
  ),
  v.forward(
    v.check((s) => !PERCENT_MODES.has(s.mode) || (s.value ?? 0) <= MAX_PERCENT, `expected a percentage above 0 and at most ${MAX_PERCENT}`),
    ['value'],
  ),
);
export type SizingSpec = v.InferOutput<typeof SizingSpecSchema>;

/** What the node chose and why, in each sized account's result. */
export const SizingReportSchema = v.object({
  mode: v.picklist(SIZING_MODES),
  /** The entry's quantity in the base currency (0 when nothing was placed). */
  quantity: v.number(),
  /** The account's equity in the settle currency when the mode read it, else null. */
  equity: v.nullable(v.number()),
  /** The price the quantity was sized at, or null (a resend that found its order). */
  price: v.nullable(v.number()),
  reason: v.string(),
});
export type SizingReport = v.InferOutput<typeof SizingReportSchema>;

/** The spec as wire JSON: the one place it is written out (the center stores and sends it so). */
export function sizingSpecToWire(spec: SizingSpec): Record<string, unknown> {
  return {
    mode: spec.mode,
    ...(spec.value !== undefined ? { value: spec.value } : {}),
    min_size: spec.min_size,
    ...(spec.max_notional !== undefined ? { max_notional: spec.max_notional } : {}),
  };
}
