import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Center ↔ node request authentication.
 *
 * Token mode (seed §5.4): the shared secret itself travels in `X-Center-Token`.
 * HMAC mode: the secret never travels; the sender signs
 * `timestamp \n METHOD \n path \n sha256(body)` and sends
 * `X-Center-Timestamp` + `X-Center-Signature`. The receiver accepts a
 * timestamp within ±5 minutes and each signature once.
 */
export const TOKEN_HEADER = 'x-center-token';
export const TIMESTAMP_HEADER = 'x-center-timestamp';
export const SIGNATURE_HEADER = 'x-center-signature';
export const REQUEST_ID_HEADER = 'x-request-id';
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export type AuthMode = 'token' | 'hmac';

export interface SignedParts {
  timestamp: string;
  method: string;
  /** Path plus query string, exactly as requested (e.g. `/api/execute`). */
  path: string;
  body: string | Uint8Array;
}

export function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function signRequest(secret: string, parts: SignedParts): string {
  const canonical = `${parts.timestamp}\n${parts.method.toUpperCase()}\n${parts.path}\n${bodyDigest(parts.body)}`;
  return createHmac('sha256', secret).update(canonical).digest('hex');
}

/**
 * Compares two strings in time that does not depend on where they differ.
 * Both sides are hashed first so that a length mismatch does not leak the
 * expected length either.
 */
export function constantTimeEqual(expected: string, provided: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(provided).digest();
  return timingSafeEqual(a, b);
}

export function verifySignature(secret: string, parts: SignedParts, signature: string): boolean {
  return constantTimeEqual(signRequest(secret, parts), signature.toLowerCase());
}

/** Headers that authenticate one request from the center (or a heartbeat to it). */
export function authHeaders(
  secret: string | undefined,
  mode: AuthMode,
  method: string,
  path: string,
  body: string,
  now: number = Date.now(),
): Record<string, string> {
  if (!secret) return {};
  if (mode === 'token') return { [TOKEN_HEADER]: secret };
  const timestamp = String(now);
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signRequest(secret, { timestamp, method, path, body }),
  };
}
