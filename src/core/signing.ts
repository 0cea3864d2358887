import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Center ↔ node request authentication.
 *
 * Token mode (docs/design.md R5.4): the shared secret itself travels in `X-Center-Token`.
 * HMAC mode: the secret never travels; the sender signs
 * `tradectl-v2 \n timestamp \n METHOD \n host \n path \n node_code \n sha256(body)`
 * and sends `X-Center-Timestamp` + `X-Center-Signature`. The host and the
 * node's code bind a signature to the one node it was made for: every node
 * of a deployment shares the secret, and a request accepted by one must not
 * be accepted by another. The receiver accepts a timestamp within ±5 minutes
 * (and not from before it started) and each signature once.
 */
export const TOKEN_HEADER = 'x-center-token';
export const TIMESTAMP_HEADER = 'x-center-timestamp';
export const SIGNATURE_HEADER = 'x-center-signature';
export const REQUEST_ID_HEADER = 'x-request-id';
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;
const SCHEME = 'tradectl-v2';

export type AuthMode = 'token' | 'hmac';

export interface SignedParts {
  timestamp: string;
  method: string;
  /** The authority the request was sent to, as the URL's `host` has it: `10.0.0.5:9101` (no default port). */
  host: string;
  /** Path plus query string, exactly as requested (e.g. `/api/execute`). */
  path: string;
  /** The `node_code` of the node the request is for (center → node) or from (a heartbeat). */
  node: string;
  body: string | Uint8Array;
}

export function bodyDigest(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function signRequest(secret: string, parts: SignedParts): string {
  const canonical = [SCHEME, parts.timestamp, parts.method.toUpperCase(), parts.host.toLowerCase(), parts.path, parts.node, bodyDigest(parts.body)].join('\n');
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

/** One request to sign: where it goes, and which node it is for (or from). */
export interface SignedRequest {
  method: string;
  url: URL;
  node: string;
  body: string;
}

/** Headers that authenticate one request from the center (or a heartbeat to it). */
export function authHeaders(secret: string | undefined, mode: AuthMode, request: SignedRequest, now: number = Date.now()): Record<string, string> {
  if (!secret) return {};
  if (mode === 'token') return { [TOKEN_HEADER]: secret };
  const timestamp = String(now);
  const { method, url, node, body } = request;
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signRequest(secret, { timestamp, method, host: url.host, path: url.pathname + url.search, node, body }),
  };
}
