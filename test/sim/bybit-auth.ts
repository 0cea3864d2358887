import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from './bybit-errors.js';

/**
 * Bybit v5 signing (docs/v5/guide.mdx, "Authentication"): headers
 * X-BAPI-API-KEY, X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW (default 5000)
 * and X-BAPI-SIGN = lowercase hex HMAC-SHA256(secret, timestamp + apiKey +
 * recvWindow + payload), where the payload is the raw query string for GET
 * and the raw JSON body for POST, both exactly as sent.
 */
export function expectedSignature(secret: string, timestamp: string, apiKey: string, recvWindow: string, payload: string): string {
  return createHmac('sha256', secret).update(timestamp + apiKey + recvWindow + payload).digest('hex');
}

const DEFAULT_RECV_WINDOW = 5_000;
/** The docs' rule: server_time - recv_window <= timestamp < server_time + 1000. */
const MAX_AHEAD_MS = 1_000;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function apiKeyHeader(headers: IncomingHttpHeaders): string | undefined {
  return header(headers, 'x-bapi-api-key');
}

/**
 * The checks in Bybit's order: the key (10003, HTTP 401), the timestamp
 * window (10002), then the signature (10004, HTTP 401). Returns the account.
 */
export function authenticate<A extends { secret: string }>(
  headers: IncomingHttpHeaders,
  lookup: (apiKey: string) => A | undefined,
  method: string,
  rawQuery: string,
  body: string,
  now: number,
): A {
  const apiKey = apiKeyHeader(headers);
  const account = apiKey === undefined ? undefined : lookup(apiKey);
  if (apiKey === undefined || !account) throw errors.apiKeyInvalid();
  const rawTimestamp = header(headers, 'x-bapi-timestamp') ?? '';
  const timestamp = Number(rawTimestamp);
  const rawWindow = header(headers, 'x-bapi-recv-window');
  const recvWindow = rawWindow === undefined ? DEFAULT_RECV_WINDOW : Number(rawWindow);
  if (!/^\d+$/.test(rawTimestamp) || !Number.isFinite(recvWindow) || recvWindow <= 0) throw errors.timestamp(timestamp || 0, now, recvWindow || 0);
  if (timestamp < now - recvWindow || timestamp >= now + MAX_AHEAD_MS) throw errors.timestamp(timestamp, now, recvWindow);
  const signature = header(headers, 'x-bapi-sign') ?? '';
  const origin = rawTimestamp + apiKey + (rawWindow ?? '') + (method === 'POST' ? body : rawQuery);
  const expected = Buffer.from(expectedSignature(account.secret, rawTimestamp, apiKey, rawWindow ?? '', method === 'POST' ? body : rawQuery), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw errors.sign(origin);
  return account;
}
