import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import {
  SIGNATURE_HEADER,
  SIGNATURE_WINDOW_MS,
  TIMESTAMP_HEADER,
  TOKEN_HEADER,
  constantTimeEqual,
  verifySignature,
} from '../core/signing.js';
import type { HttpBindings } from '@hono/node-server';
import { HttpError } from './errors.js';
import type { IpAllowlist } from './ip-allowlist.js';
import { readBody } from './read-body.js';
import type { ReplayGuard } from './replay-guard.js';

export interface CenterAuthOptions {
  enabled: boolean;
  secret: string | undefined;
  mode: 'any' | 'token' | 'hmac';
  allowlist: IpAllowlist;
  replay: ReplayGuard;
  maxBodyBytes: number;
  /** The setting behind `maxBodyBytes`, named when a body is too large. */
  bodySetting?: string;
  /**
   * The `node_code` a signature must name: the node's own (a request signed
   * for another node is refused), or for a heartbeat the code in its path.
   * Empty: signatures are refused (tokens still work).
   */
  nodeCode: (c: Context) => string;
  /**
   * Signatures timestamped before this are refused. The replay memory is
   * this process's and starts empty, so without it a restart would accept
   * again every request of the last five minutes.
   */
  notBefore: number;
  now?: () => number;
}

/** What the middleware needs from a Hono env: the body slot and a logger (the node's env, or the center's). */
export interface AuthEnv {
  Bindings?: HttpBindings;
  Variables: { rawBody: string; log: Logger };
}

// One message per status for every reason, so a caller learns nothing about
// which check failed; the log says which. The one exception is a timestamp
// outside the window, which says nothing about the secret and tells an honest
// sender to sign again rather than give up.
const UNAUTHORIZED = () => new HttpError(401, 'unauthorized', 'authentication required');
const FORBIDDEN = () => new HttpError(403, 'forbidden', 'forbidden');
const EXPIRED = () =>
  new HttpError(401, 'signature_expired', 'the signature timestamp is outside this receiver\'s window (older than 5 minutes, ahead of its clock, or from before it started); nothing was done: sign again and resend');

/**
 * Only the center may call the node (docs/design.md R5.4): caller IP in
 * `node_allowed_ips` (when set), then `X-Center-Token` compared in constant
 * time, or an HMAC signature (see `core/signing.ts`) that names this node,
 * is fresh and unused. Everything that can be checked without the body is
 * checked before a byte of it is read.
 */
export function centerAuth<E extends AuthEnv>(options: CenterAuthOptions): MiddlewareHandler<E> {
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const refuse = (error: HttpError, reason: string) => {
      c.get('log').warn({ reason, remote: remoteAddress(c.env), path: c.req.path }, 'request refused');
      return error;
    };

    if (!options.allowlist.empty && !options.allowlist.allows(remoteAddress(c.env))) {
      throw refuse(FORBIDDEN(), 'caller address not in node_allowed_ips');
    }
    if (!options.enabled || !options.secret) return next();
    const secret = options.secret;

    const token = c.req.header(TOKEN_HEADER);
    const signature = c.req.header(SIGNATURE_HEADER);
    const timestamp = c.req.header(TIMESTAMP_HEADER);

    if (signature !== undefined || timestamp !== undefined) {
      if (options.mode === 'token') throw refuse(UNAUTHORIZED(), 'signature sent but node_auth_mode is token');
      if (!signature || !timestamp || !/^\d{1,16}$/.test(timestamp) || !/^[0-9a-fA-F]{64}$/.test(signature)) {
        throw refuse(UNAUTHORIZED(), 'malformed signature headers');
      }
      const sentAt = Number(timestamp);
      const at = now();
      if (Math.abs(at - sentAt) > SIGNATURE_WINDOW_MS) throw refuse(EXPIRED(), 'signature timestamp outside the 5-minute window');
      if (sentAt < options.notBefore) throw refuse(EXPIRED(), 'signature timestamp from before this process started');
      // Every node shares the secret: a signature that names no node would be good on all of them.
      const node = options.nodeCode(c);
      if (node === '') throw refuse(UNAUTHORIZED(), 'signature sent but this node has no node_code to check it against; set node_code');
      const url = new URL(c.req.url);
      const body = await readBody(c, options.maxBodyBytes, options.bodySetting);
      const parts = { timestamp, method: c.req.method, host: url.host, path: url.pathname + url.search, node, body };
      if (!verifySignature(secret, parts, signature)) {
        throw refuse(UNAUTHORIZED(), `bad signature (or signed for another node or address than node_code "${node}" at ${url.host})`);
      }
      if (!options.replay.firstUse(signature.toLowerCase(), sentAt + SIGNATURE_WINDOW_MS, at)) {
        throw refuse(UNAUTHORIZED(), 'signature replayed');
      }
      return next();
    }

    if (token !== undefined) {
      if (options.mode === 'hmac') throw refuse(UNAUTHORIZED(), 'token sent but node_auth_mode is hmac');
      if (!constantTimeEqual(secret, token)) throw refuse(UNAUTHORIZED(), 'bad token');
      return next();
    }
    throw refuse(UNAUTHORIZED(), 'no credentials');
  };
}

/** The TCP peer's address, what `node_allowed_ips` is checked against. */
export function remoteAddress(env: Partial<HttpBindings> | undefined): string | undefined {
  return env?.incoming?.socket?.remoteAddress;
}
