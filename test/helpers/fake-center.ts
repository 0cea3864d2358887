import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/core/signing.js';

export interface ReceivedHeartbeat {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** How the request authenticated: 'token', 'hmac' or 'none'. */
  auth: 'token' | 'hmac' | 'none' | 'bad';
}

/**
 * A stand-in for the center's heartbeat endpoint (the center itself is a
 * later issue): a real HTTP server that checks X-Center-Token or the HMAC
 * signature the way the protocol says, and answers a chosen status.
 */
export interface FakeCenter {
  url: string;
  received: ReceivedHeartbeat[];
  /** Node codes it knows; others get 404. */
  nodes: Set<string>;
  /** Forces this status for the next requests (e.g. 500). */
  forceStatus: number | undefined;
  close(): Promise<void>;
}

export async function startFakeCenter(secret: string | undefined, nodes: string[]): Promise<FakeCenter> {
  const center: FakeCenter = { url: '', received: [], nodes: new Set(nodes), forceStatus: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const match = /^\/api\/nodes\/([^/]+)\/heartbeat$/.exec(req.url ?? '');
      const token = req.headers['x-center-token'];
      const signature = req.headers['x-center-signature'];
      const timestamp = req.headers['x-center-timestamp'];
      let auth: ReceivedHeartbeat['auth'] = 'none';
      if (typeof signature === 'string' && typeof timestamp === 'string' && secret) {
        // A heartbeat is signed for the node it is from, the code in its path.
        const node = decodeURIComponent((req.url ?? '').split('/')[3] ?? '');
        auth = verifySignature(secret, { timestamp, method: req.method ?? '', host: req.headers.host ?? '', path: req.url ?? '', node, body: text }, signature) ? 'hmac' : 'bad';
      } else if (typeof token === 'string') {
        auth = token === secret ? 'token' : 'bad';
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // recorded as empty; the test asserts on it
      }
      center.received.push({ path: req.url ?? '', headers: req.headers, body, auth });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (center.forceStatus) return reply(center.forceStatus, { success: false, error: { code: 'internal_error', message: 'forced' } });
      if (!match) return reply(404, { success: false, error: { code: 'not_found', message: 'no route' } });
      if (secret && (auth === 'none' || auth === 'bad')) return reply(401, { success: false, error: { code: 'unauthorized', message: 'authentication required' } });
      if (!center.nodes.has(decodeURIComponent(match[1] ?? ''))) return reply(404, { success: false, error: { code: 'node_not_found', message: 'unknown node' } });
      return reply(200, { success: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  center.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  center.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return center;
}
