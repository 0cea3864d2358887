import type { Logger } from 'pino';
import { authHeaders, REQUEST_ID_HEADER, type AuthMode } from '../core/signing.js';
import type { Heartbeat } from '../core/wire-heartbeat.js';

export interface HeartbeatTarget {
  centerUrl: string;
  nodeCode: string;
  /** `node_auth_secret`: sent as `X-Center-Token`, or used to sign, when set. */
  secret: string | undefined;
  mode: AuthMode;
  timeoutMs: number;
}

export type HeartbeatOutcome = { ok: true; status: number } | { ok: false; status: number | null; reason: string };

/** The heartbeat block of `GET /health` (docs/design.md R5.3). */
export interface HeartbeatStatus {
  enabled: boolean;
  center_url: string | null;
  node_code: string | null;
  interval: number;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  consecutive_failures: number;
}

export function heartbeatUrl(target: Pick<HeartbeatTarget, 'centerUrl' | 'nodeCode'>): URL {
  const base = target.centerUrl.endsWith('/') ? target.centerUrl : `${target.centerUrl}/`;
  return new URL(`api/nodes/${encodeURIComponent(target.nodeCode)}/heartbeat`, base);
}

function explain(status: number, body: string, target: HeartbeatTarget): string {
  const detail = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  const said = detail ? `: ${target.secret ? detail.split(target.secret).join('[redacted]') : detail}` : '';
  // The center's error codes name the cause better than the status does.
  if (detail.includes('"host_not_allowed"')) {
    return `the center does not answer to the host in center_url (HTTP ${status}); add that name to the center's center_allowed_hosts, or use its IP address${said}`;
  }
  if (detail.includes('"signature_expired"')) {
    return `the center refused the heartbeat's timestamp (HTTP ${status}): this machine's clock is off from the center's, or the center has just restarted; a later heartbeat is signed anew${said}`;
  }
  if (status === 401 || status === 403) {
    return `the center refused the heartbeat (HTTP ${status}); check that node_auth_secret matches the center's${said}`;
  }
  if (status === 404) {
    return `the center does not know node_code "${target.nodeCode}" (HTTP 404); register the node on the center first${said}`;
  }
  return `the center answered HTTP ${status}${said}`;
}

/** Sends one heartbeat and says whether the center took it, and if not, why. */
export async function sendHeartbeat(target: HeartbeatTarget, heartbeat: Heartbeat, requestId?: string): Promise<HeartbeatOutcome> {
  const url = heartbeatUrl(target);
  const body = JSON.stringify(heartbeat);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...authHeaders(target.secret, target.mode, { method: 'POST', url, node: target.nodeCode, body }),
  };
  if (requestId) headers[REQUEST_ID_HEADER] = requestId;
  let response: Response;
  try {
    // Never follow a redirect: in token mode the secret is a header, and fetch would send it on to the Location.
    response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(target.timeoutMs) });
  } catch (error) {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return { ok: false, status: null, reason: `could not reach the center at ${url.origin}: ${cause}` };
  }
  const text = await response.text().catch(() => '');
  if (response.status >= 300 && response.status < 400) {
    const location = (response.headers.get('location') ?? '').slice(0, 200);
    return { ok: false, status: response.status, reason: `the center answered a redirect (HTTP ${response.status}${location ? ` to ${location}` : ''}); heartbeats do not follow redirects: set center_url to the address that serves the center` };
  }
  if (response.ok) return { ok: true, status: response.status };
  return { ok: false, status: response.status, reason: explain(response.status, text, target) };
}

export interface HeartbeatLoop {
  status(): HeartbeatStatus;
  stop(): void;
}

const FIRST_RETRY_MS = 5_000;

/**
 * Sends a heartbeat now and every `intervalMs`. After a failure it retries
 * sooner and backs off (5 s, 10 s, 20 s, … up to the interval); failures are
 * logged when they start, when the reason changes and when they end, and
 * never stop the node.
 */
export function startHeartbeatLoop(
  target: HeartbeatTarget,
  intervalMs: number,
  snapshot: () => Heartbeat,
  logger: Logger,
): HeartbeatLoop {
  const state: HeartbeatStatus = {
    enabled: true,
    center_url: target.centerUrl,
    node_code: target.nodeCode,
    interval: intervalMs / 1000,
    last_success_at: null,
    last_error: null,
    last_error_at: null,
    consecutive_failures: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const beat = async () => {
    const outcome = await sendHeartbeat(target, snapshot());
    if (stopped) return;
    const now = new Date().toISOString();
    let delay = intervalMs;
    if (outcome.ok) {
      if (state.consecutive_failures > 0) logger.info({ after_failures: state.consecutive_failures }, 'heartbeat accepted again');
      state.last_success_at = now;
      state.consecutive_failures = 0;
    } else {
      if (outcome.reason !== state.last_error || state.consecutive_failures === 0) logger.warn({ reason: outcome.reason }, 'heartbeat failed');
      state.last_error = outcome.reason;
      state.last_error_at = now;
      state.consecutive_failures++;
      delay = Math.min(intervalMs, FIRST_RETRY_MS * 2 ** (state.consecutive_failures - 1));
    }
    timer = setTimeout(() => void beat(), delay);
  };
  void beat();

  return {
    status: () => ({ ...state }),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export function disabledHeartbeat(centerUrl: string | undefined, nodeCode: string | undefined, intervalMs: number): HeartbeatStatus {
  return {
    enabled: false,
    center_url: centerUrl ?? null,
    node_code: nodeCode ?? null,
    interval: intervalMs / 1000,
    last_success_at: null,
    last_error: null,
    last_error_at: null,
    consecutive_failures: 0,
  };
}
