import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from './okx-errors.js';

/**
 * OKX REST authentication (https://www.okx.com/docs-v5/en/#overview-rest-authentication):
 * OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
 * where requestPath carries the query string for GET ("GET request parameters
 * are counted as requestpath, not body") and body is the raw JSON of a POST,
 * both byte for byte as sent. OK-ACCESS-TIMESTAMP is ISO 8601 UTC with
 * milliseconds and may differ from server time by at most 30 seconds.
 */
export function sign(secret: string, timestamp: string, method: string, requestPath: string, body: string): string {
  return createHmac('sha256', secret).update(timestamp + method + requestPath + body).digest('base64');
}

const MAX_SKEW_MS = 30_000;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function apiKeyHeader(headers: IncomingHttpHeaders): string | undefined {
  return header(headers, 'ok-access-key');
}

export interface Credentialed {
  secret: string;
  passphrase: string;
}

/**
 * The checks on a private request, in this order: the four headers are
 * present (50103 / 50106 / 50107 / 50104), the timestamp is well formed
 * (50112) and fresh (50102), the key exists (50111), the passphrase matches
 * it (50105), the signature verifies (50113). Returns the account.
 */
export function authenticate<A extends Credentialed>(
  headers: IncomingHttpHeaders,
  lookup: (apiKey: string) => A | undefined,
  method: string,
  path: string,
  rawQuery: string,
  body: string,
  now: number,
): A {
  const key = header(headers, 'ok-access-key');
  if (!key) throw errors.noKey();
  const signature = header(headers, 'ok-access-sign');
  if (!signature) throw errors.noSign();
  const timestamp = header(headers, 'ok-access-timestamp');
  if (!timestamp) throw errors.noTimestamp();
  const passphrase = header(headers, 'ok-access-passphrase');
  if (!passphrase) throw errors.noPassphrase();
  const at = Date.parse(timestamp);
  if (!ISO_MS.test(timestamp) || !Number.isFinite(at)) throw errors.badTimestamp();
  if (Math.abs(now - at) > MAX_SKEW_MS) throw errors.timestampExpired();
  const account = lookup(key);
  if (!account) throw errors.badKey();
  if (passphrase !== account.passphrase) throw errors.badPassphrase();
  const requestPath = rawQuery === '' ? path : `${path}?${rawQuery}`;
  const expected = Buffer.from(sign(account.secret, timestamp, method, requestPath, method === 'GET' ? '' : body), 'base64');
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw errors.badSign();
  return account;
}
