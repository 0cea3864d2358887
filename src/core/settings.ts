import * as v from 'valibot';

/**
 * Valibot pieces for configuration values. A value may come from YAML (typed)
 * or from an environment variable or flag (always a string), so each piece
 * accepts both and yields one type.
 */

function fromText(x: unknown): unknown {
  return typeof x === 'string' ? x.trim() : x;
}

export function integerSetting(min: number, max: number, fallback: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return v.optional(
    v.pipe(
      v.union([v.number(), v.string()], message),
      v.transform((x) => Number(fromText(x))),
      v.check((n) => Number.isInteger(n) && n >= min && n <= max, message),
    ),
    fallback,
  );
}

/** An integer that may be left unset (empty or absent): a feature that is off by default. */
export function optionalIntegerSetting(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}, or nothing`;
  return v.pipe(
    v.nullish(v.union([v.number(), v.string()], message)),
    v.transform((x) => {
      const text = fromText(x);
      return text === null || text === undefined || text === '' ? undefined : Number(text);
    }),
    v.check((n) => n === undefined || (Number.isInteger(n) && n >= min && n <= max), message),
  );
}

/** A duration in seconds (decimals allowed), yielded in milliseconds. */
export function secondsSetting(min: number, max: number, fallback: number) {
  const message = `expected a number of seconds from ${min} to ${max}`;
  return v.optional(
    v.pipe(
      v.union([v.number(), v.string()], message),
      v.transform((x) => Number(fromText(x))),
      v.check((n) => Number.isFinite(n) && n >= min && n <= max, message),
      v.transform((n) => Math.round(n * 1000)),
    ),
    fallback,
  );
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

export function booleanSetting(fallback: boolean) {
  const message = 'expected true or false';
  return v.optional(
    v.pipe(
      v.union([v.boolean(), v.string()], message),
      v.check((x) => typeof x === 'boolean' || TRUE.has(x.trim().toLowerCase()) || FALSE.has(x.trim().toLowerCase()), message),
      v.transform((x) => (typeof x === 'boolean' ? x : TRUE.has(x.trim().toLowerCase()))),
    ),
    fallback,
  );
}

export function choiceSetting<const T extends readonly [string, ...string[]]>(choices: T, fallback: T[number]) {
  const message = `expected one of ${choices.join(', ')}`;
  return v.optional(
    v.pipe(v.string(message), v.trim(), v.toLowerCase(), v.picklist(choices, message)),
    fallback,
  );
}

/** An optional string; empty means unset. */
export function textSetting(message = 'expected a string') {
  return v.pipe(
    v.nullish(v.union([v.string(), v.number()], message)),
    v.transform((x) => (x === null || x === undefined || String(x).trim() === '' ? undefined : String(x).trim())),
  );
}

/** A list from a YAML sequence or a comma-separated string. */
export function listSetting(fallback: string[] = []) {
  const message = 'expected a list or a comma-separated string';
  return v.optional(
    v.pipe(
      v.nullable(v.union([v.array(v.union([v.string(), v.number()]), message), v.string()], message)),
      v.transform((x) =>
        (x === null ? [] : Array.isArray(x) ? x.map(String) : x.split(','))
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    ),
    fallback,
  );
}

/** A map from a YAML mapping or a `key=value,key=value` string. */
export function mapSetting() {
  const message = 'expected a mapping, or key=value pairs separated by commas';
  return v.optional(
    v.pipe(
      v.nullable(v.union([v.record(v.string(), v.string(message)), v.string()], message)),
      v.transform((x): Record<string, string> | null => {
        if (x === null) return {};
        if (typeof x !== 'string') return x;
        const out: Record<string, string> = {};
        for (const pair of x.split(',').map((s) => s.trim()).filter(Boolean)) {
          const at = pair.indexOf('=');
          if (at <= 0) return null;
          out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
        }
        return out;
      }),
      v.check((x) => x !== null, message),
      v.transform((x) => x ?? {}),
    ),
    {},
  );
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Settings every tradectl process has. */
export const LogSettings = {
  log_level: choiceSetting(LOG_LEVELS, 'info'),
  log_format: choiceSetting(['auto', 'json', 'pretty'], 'auto'),
};
