import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from './binance-errors.js';

/**
 * Binance SIGNED endpoint rule: `signature` is the hex HMAC-SHA256, keyed
 * with the secret, of totalParams = the query string concatenated (with no
 * separator) with the x-www-form-urlencoded body, both exactly as sent and
 * without the signature parameter itself. ccxt puts everything in the query
 * for GET/DELETE and everything in the body for POST/PUT.
 */
export function validSignature(secret: string, query: string, body: string, signature: string): boolean {
  const strip = (s: string) =>
    s
      .split('&')
      .filter((pair) => pair !== '' && !pair.startsWith('signature='))
      .join('&');
  const expected = createHmac('sha256', secret).update(strip(query) + strip(body)).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Binance caps recvWindow at 60 s and defaults it to 5 s. */
const MAX_RECV_WINDOW = 60_000;
const DEFAULT_RECV_WINDOW = 5_000;
/** A timestamp more than 1 s ahead of the server clock is refused. */
const MAX_AHEAD_MS = 1_000;

/**
 * The checks Binance runs on a SIGNED request, in its order: API key
 * (401 -2014/-2015), timestamp and recvWindow (-1102/-1131/-1021), then the
 * signature (-1022). Returns the account the key belongs to.
 */
export function authenticate<A extends { secret: string }>(
  apiKeyHeader: string | string[] | undefined,
  lookup: (apiKey: string) => A | undefined,
  query: string,
  body: string,
  params: URLSearchParams,
  now: number,
): A {
  if (typeof apiKeyHeader !== 'string' || apiKeyHeader === '') throw errors.apiKeyFormat();
  const account = lookup(apiKeyHeader);
  if (!account) throw errors.badApiKey();
  const rawTimestamp = params.get('timestamp');
  const timestamp = Number(rawTimestamp);
  if (!rawTimestamp || !Number.isInteger(timestamp)) throw errors.mandatory('timestamp');
  const rawWindow = params.get('recvWindow');
  const recvWindow = rawWindow === null ? DEFAULT_RECV_WINDOW : Number(rawWindow);
  if (!Number.isFinite(recvWindow) || recvWindow <= 0) throw errors.badData('recvWindow');
  if (recvWindow > MAX_RECV_WINDOW) throw errors.badRecvWindow();
  if (timestamp > now + MAX_AHEAD_MS) throw errors.aheadOfServer();
  if (now - timestamp > recvWindow) throw errors.recvWindow();
  const signature = params.get('signature');
  if (!signature) throw errors.mandatory('signature');
  if (!validSignature(account.secret, query, body, signature)) throw errors.badSignature();
  return account;
}
