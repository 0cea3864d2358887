import * as v from 'valibot';
import { Credentials } from './credentials.js';
import { CLIENT_ORDER_ID_PATTERN } from './client-order-id.js';

/**
 * Field schemas shared by every request body. Numbers are accepted as JSON
 * numbers or decimal strings (a Python center serialises `Decimal` as a
 * string); either way the parsed value is a finite number.
 */
const DECIMAL_STRING = /^\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/**
 * The largest quantity or price any request may carry. Far above any real
 * order (a billion BTC, a trillion of a meme coin) and far below what
 * breaks arithmetic: `quantity: 1e300` was once accepted and only the
 * exchanges refused it.
 */
export const MAX_DECIMAL = 1e12;

const inRange = (n: number) => Number.isFinite(n) && n > 0 && n <= MAX_DECIMAL;

export function positiveDecimal(what = 'a number') {
  return v.pipe(
    v.union([v.number(), v.string()], `expected ${what} (a JSON number or decimal string)`),
    v.transform((x: number | string) => (typeof x === 'number' ? x : DECIMAL_STRING.test(x) ? Number(x) : Number.NaN)),
    v.check(inRange, `expected ${what} greater than 0 and at most ${MAX_DECIMAL.toExponential()}`),
  );
}

/** An optional positive number; `null`, `0` and `""` mean "not set", as centers of the original deployment send them. */
export function optionalPositiveDecimal(what = 'a number') {
  return v.pipe(
    v.nullish(v.union([v.number(), v.string()], `expected ${what} (a JSON number, decimal string or null)`)),
    v.transform((x: number | string | null | undefined) => {
      if (x === null || x === undefined || x === '' || x === 0 || x === '0') return undefined;
      return typeof x === 'number' ? x : DECIMAL_STRING.test(x) ? Number(x) : Number.NaN;
    }),
    v.check((n: number | undefined) => n === undefined || inRange(n), `expected ${what} greater than 0 and at most ${MAX_DECIMAL.toExponential()}, or null`),
  );
}

export const AccountIdSchema = v.union(
  [
    v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(64)),
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
  ],
  'expected an account id: a string of 1-64 characters or a non-negative integer',
);
export type AccountId = v.InferOutput<typeof AccountIdSchema>;

export const ClientOrderIdSchema = v.pipe(
  v.string('expected a string'),
  v.regex(CLIENT_ORDER_ID_PATTERN, 'expected 1-30 letters or digits'),
);

export const SymbolSchema = v.pipe(
  v.string('expected a ccxt unified symbol such as "BTC/USDT:USDT"'),
  v.trim(),
  v.regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?(-[A-Za-z0-9._-]+)*$/, 'expected a ccxt unified symbol such as "BTC/USDT:USDT"'),
  v.maxLength(64, 'expected at most 64 characters'),
);

const secretString = (what: string) =>
  v.pipe(v.string(`expected ${what} as a string`), v.minLength(1, `expected a non-empty ${what}`), v.maxLength(1024));

/**
 * The credentials part of an account entry. The output replaces the three
 * plain strings with one `Credentials` value, so nothing downstream of the
 * parser can log or echo them.
 */
export const AccountCredentialsEntries = {
  account_id: AccountIdSchema,
  exchange: v.pipe(
    v.string('expected a ccxt exchange id such as "binanceusdm"'),
    v.trim(),
    v.toLowerCase(),
    v.regex(/^[a-z0-9]{2,32}$/, 'expected a ccxt exchange id such as "binanceusdm"'),
  ),
  api_key: secretString('api_key'),
  api_secret: secretString('api_secret'),
  passphrase: v.nullish(v.pipe(v.string('expected passphrase as a string'), v.maxLength(1024))),
  sandbox: v.pipe(
    v.nullish(v.boolean('expected true or false')),
    v.transform((x) => x ?? false),
  ),
};

interface RawCredentials {
  api_key: string;
  api_secret: string;
  passphrase?: string | null | undefined;
}

export function toCredentials(raw: RawCredentials): Credentials {
  return new Credentials(raw.api_key, raw.api_secret, raw.passphrase ?? undefined);
}

/** Rejects two entries for the same account in one request: the second would race the first. */
export function uniqueAccounts<T extends { account_id: AccountId }>(accounts: T[]): boolean {
  return new Set(accounts.map((a) => String(a.account_id))).size === accounts.length;
}

export interface AccountWithCredentials {
  account_id: AccountId;
  exchange: string;
  credentials: Credentials;
  sandbox: boolean;
}

/**
 * The credential fields of an account entry as the center sends them to a
 * node: the one place sealed credentials are turned back into wire JSON.
 */
export function accountToWire(account: AccountWithCredentials): Record<string, unknown> {
  const { apiKey, secret, passphrase } = account.credentials.reveal();
  return {
    account_id: account.account_id,
    exchange: account.exchange,
    api_key: apiKey,
    api_secret: secret,
    ...(passphrase ? { passphrase } : {}),
    sandbox: account.sandbox,
  };
}
