import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from './bitget-errors.js';

/**
 * Bitget's signature (https://www.bitget.com/api-doc/common/signature):
 * ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath
 * + ('?' + queryString when there is one) + body)). Bitget signs the query
 * string with its values NOT percent-encoded (ccxt signs `rawencode` and
 * sends `urlencode`), so the decoded form is what is checked; for plain
 * ASCII values both are the same string.
 */
export function expectedSignature(secret: string, timestamp: string, method: string, path: string, rawQuery: string, body: string): string {
  let query = rawQuery;
  try {
    query = decodeURIComponent(rawQuery.replace(/\+/g, ' '));
  } catch {
    // A malformed escape is signed as sent.
  }
  const prehash = timestamp + method.toUpperCase() + path + (query ? `?${query}` : '') + body;
  return createHmac('sha256', secret).update(prehash).digest('base64');
}

/** Bitget accepts a request whose timestamp is within 30 s of its clock. */
export const TIMESTAMP_WINDOW_MS = 30_000;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export interface Credentials {
  secret: string;
  passphrase: string;
}

/**
 * The checks of a private request, in Bitget's order: headers present,
 * timestamp well-formed, key known (40006), timestamp fresh (40008),
 * passphrase (40012), then the signature (40009).
 */
export function authenticate<A extends Credentials>(
  headers: IncomingHttpHeaders,
  lookup: (apiKey: string) => A | undefined,
  method: string,
  path: string,
  rawQuery: string,
  body: string,
  now: number,
): A {
  const key = header(headers, 'access-key');
  const sign = header(headers, 'access-sign');
  const timestamp = header(headers, 'access-timestamp');
  const passphrase = header(headers, 'access-passphrase');
  if (!key) throw errors.keyEmpty();
  if (!sign) throw errors.signEmpty();
  if (!timestamp || !/^\d{13}$/.test(timestamp)) throw errors.badTimestamp();
  if (!passphrase) throw errors.passphraseEmpty();
  const account = lookup(key);
  if (!account) throw errors.badKey();
  if (Math.abs(now - Number(timestamp)) > TIMESTAMP_WINDOW_MS) throw errors.timestampExpired();
  if (passphrase !== account.passphrase) throw errors.badPassphrase();
  const expected = Buffer.from(expectedSignature(account.secret, timestamp, method, path, rawQuery, body));
  const given = Buffer.from(sign);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw errors.badSign();
  return account;
}
