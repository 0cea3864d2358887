import type { Server } from 'node:http';

/** How long a client may take to send one whole request (headers and body); Node's default is 300 s. */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The limits every tradectl listener keeps (node, center, a worker's
 * metrics): a request that never finishes arriving is closed after
 * `requestTimeoutMs` instead of holding its socket for Node's five minutes.
 * Idle keep-alive connections outlive a caller's pool timeout (the center
 * keeps connections to its nodes between signals), so a reused socket is
 * not closed under a request.
 */
export function limitServer(server: Server, requestTimeoutMs: number = REQUEST_TIMEOUT_MS): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = requestTimeoutMs;
}

/** A startup problem the operator must fix (bad TLS file, port in use, unsafe bind). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Loopback addresses: the only ones a node without auth may listen on. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
