import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { listSetting } from '../core/settings.js';
import type { Logger } from 'pino';
import { HttpError } from './errors.js';

/**
 * What a web page must not be able to do to a node or a center on the
 * operator's machine or network, checked on every request before anything
 * else (node and center alike):
 *
 * - **DNS rebinding.** A page on `evil.example` re-points its name at
 *   127.0.0.1 and then talks to the server as "same origin". The browser
 *   still sends `Host: evil.example`, so a Host that is not one of this
 *   server's names is refused. IP addresses and `localhost` always pass
 *   (a rebinding attack needs a name the attacker owns); other names must
 *   be configured (`allowed_hosts`, `center_allowed_hosts`, or the URLs
 *   the server already knows it is reached by).
 * - **Cross-site requests.** A browser sends `Origin` with every POST; one
 *   that is not this server's own origin is refused.
 * - **Simple requests.** A page can post `text/plain` or a form without a
 *   CORS preflight; a body must be `application/json`, which a page can
 *   only send after a preflight this server never grants.
 */
export interface HostPolicy {
  /** Lowercased names besides IP addresses and localhost; `*` admits every Host. */
  readonly names: ReadonlySet<string>;
  /** The setting an operator adds a name to, for the refusal message. */
  readonly setting: string;
}

/** A configured host name: letters, digits, dots and dashes, or `*`. */
export const HOST_NAME_PATTERN = /^(\*|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}))$/;

/** `allowed_hosts` and `center_allowed_hosts`: host names a server answers to, besides IP addresses and localhost. */
export const hostNames = () =>
  v.pipe(
    listSetting(),
    v.check((names) => names.every((n) => HOST_NAME_PATTERN.test(n)), 'expected host names such as node-sg-1.internal (no scheme, port or path), or "*" for any'),
  );

/** The host names a server answers to: its configured list and the hosts of the URLs and addresses it is known by. */
export function hostPolicy(setting: string, configured: readonly string[], known: ReadonlyArray<string | undefined>): HostPolicy {
  const names = new Set(configured.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  for (const entry of known) {
    if (!entry) continue;
    const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? safeHostname(entry) : entry;
    if (host) names.add(host.toLowerCase());
  }
  return { names, setting };
}

function safeHostname(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** `evil.example:8080` → `evil.example`, `[::1]:9101` → `::1`; undefined when it is not a host. */
function hostnameOf(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  } catch {
    return undefined;
  }
}

export function hostAllowed(policy: HostPolicy, host: string): boolean {
  const name = hostnameOf(host);
  if (name === undefined) return false;
  if (policy.names.has('*') || isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  return policy.names.has(name);
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

interface LogEnv {
  Variables: { log: Logger };
}

/** Refuses foreign Host names, cross-origin browser requests and non-JSON bodies (see `HostPolicy`). */
export function requestGuards<E extends LogEnv>(policy: HostPolicy): MiddlewareHandler<E> {
  return async (c, next) => {
    const refuse = (error: HttpError, reason: string) => {
      c.get('log').warn({ reason, path: c.req.path }, 'request refused');
      return error;
    };
    const host = c.req.header('host');
    if (host !== undefined && !hostAllowed(policy, host)) {
      throw refuse(new HttpError(403, 'host_not_allowed', `the Host header names something other than this server; if it is one of its names, add it to ${policy.setting}`), `Host ${host.slice(0, 100)} is not in ${policy.setting}`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && (origin === 'null' || host === undefined || safeHost(origin) !== host.toLowerCase())) {
      throw refuse(new HttpError(403, 'origin_not_allowed', 'requests from a web page of another origin are refused'), `Origin ${origin.slice(0, 100)} is not this server's`);
    }
    const hasBody = c.req.header('transfer-encoding') !== undefined || Number(c.req.header('content-length') ?? 0) > 0;
    if (hasBody && !JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      throw refuse(new HttpError(415, 'unsupported_media_type', 'content-type: a request body must be sent as Content-Type: application/json', [{ field: 'content-type', message: 'expected application/json' }]), 'body is not application/json');
    }
    return next();
  };
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}
