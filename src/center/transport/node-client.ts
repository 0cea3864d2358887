import type * as v from 'valibot';
import { authHeaders, REQUEST_ID_HEADER } from '../../core/signing.js';
import { parseWith } from '../../core/validation.js';

/**
 * The center's HTTP client for execution nodes: one POST, signed (or with
 * the original deployment's token), bounded by `node_request_timeout`, over Node's pooled
 * keep-alive connections.
 *
 * What went wrong decides what the center may conclude:
 * `unreachable` (no connection) and `refused` (the node answered 4xx/503
 * without executing) mean nothing was done; `ambiguous` (timeout, reset, 500,
 * an unreadable answer) means orders may have been placed.
 */
export type NodeCall<T> =
  | { ok: true; value: T; ms: number }
  | { ok: false; kind: 'unreachable' | 'refused' | 'ambiguous'; status: number | null; message: string; ms: number; code?: string };

/** Where a call goes: the node's registered address and code (a signature names both). */
export interface NodeAddress {
  base_url: string;
  node_code: string;
}

export interface NodeClient {
  post<S extends v.GenericSchema>(node: NodeAddress, path: string, body: unknown, schema: S, requestId: string): Promise<NodeCall<v.InferOutput<S>>>;
}

export interface NodeClientOptions {
  secret: string | undefined;
  /** `hmac` signs; `token` and `any` send the original deployment's X-Center-Token. */
  mode: 'any' | 'token' | 'hmac';
  timeoutMs: number;
}

const NEVER_CONNECTED = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

export function createNodeClient(options: NodeClientOptions): NodeClient {
  const mode = options.mode === 'hmac' ? 'hmac' : 'token';
  return {
    async post(node, path, body, schema, requestId) {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      const baseUrl = node.base_url;
      const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
      const text = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        [REQUEST_ID_HEADER]: requestId,
        ...authHeaders(options.secret, mode, { method: 'POST', url, node: node.node_code, body: text }),
      };
      let response: Response;
      try {
        // Never follow a redirect: fetch would re-POST the body, API secrets
        // included, to wherever the Location points.
        response = await fetch(url, { method: 'POST', headers, body: text, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const detail = `${cause?.code ?? ''} ${cause?.message ?? (error as Error).message}`.trim();
        if (NEVER_CONNECTED.test(detail)) return { ok: false, kind: 'unreachable', status: null, message: `cannot connect to ${url.origin}: ${detail}`, ms: ms() };
        const timedOut = (error as Error).name === 'TimeoutError';
        return { ok: false, kind: 'ambiguous', status: null, message: timedOut ? `no answer from ${url.origin} within node_request_timeout` : `request to ${url.origin} failed: ${detail}`, ms: ms() };
      }
      const answer = await response.text().catch(() => '');
      if (response.status >= 300 && response.status < 400) {
        // A node never redirects, so nothing was executed; the body was not sent on.
        const location = (response.headers.get('location') ?? '').slice(0, 200);
        return { ok: false, kind: 'refused', status: response.status, message: `${url.origin} answered a redirect (HTTP ${response.status}${location ? ` to ${location}` : ''}); the center does not follow redirects with credentials: set the node's base_url to the address that serves it`, ms: ms() };
      }
      if (!response.ok) {
        const reason = answer.replace(/\s+/g, ' ').slice(0, 300);
        // 4xx and a draining node's 503 are refusals before any work; a 500
        // may come after orders were placed.
        const kind = response.status < 500 || response.status === 503 ? 'refused' : 'ambiguous';
        return { ok: false, kind, status: response.status, message: `${url.origin} answered HTTP ${response.status}: ${reason}`, ms: ms(), ...errorCodeOf(answer) };
      }
      let json: unknown;
      try {
        json = JSON.parse(answer);
      } catch {
        return { ok: false, kind: 'ambiguous', status: response.status, message: `${url.origin} answered something that is not JSON`, ms: ms() };
      }
      const parsed = parseWith(schema, json);
      if (!parsed.ok) {
        const first = parsed.issues[0];
        return { ok: false, kind: 'ambiguous', status: response.status, message: `${url.origin} answered an unexpected shape (${first?.field}: ${first?.message})`, ms: ms() };
      }
      return { ok: true, value: parsed.value, ms: ms() };
    },
  };
}

/** The `error.code` of a refusal's JSON body, when it has one. */
function errorCodeOf(answer: string): { code?: string } {
  try {
    const code = (JSON.parse(answer) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? { code } : {};
  } catch {
    return {};
  }
}
