import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWith } from '../../src/core/validation.js';
import { ExecuteRequestSchema, type AccountResult, type ExecuteBatch } from '../../src/core/wire-execute.js';

/**
 * A stand-in execution node that keeps what it was sent: every
 * `/api/execute` body parsed with the node's own request schema, exactly as
 * `tradectl node serve` parses it, so a test can compare the signal a node
 * sees with the one the data API accepted. It answers every account filled,
 * or with `failNext` HTTP statuses first; `/api/query-orders` finds nothing.
 */
export interface CaptureNode {
  url: string;
  batches: ExecuteBatch[];
  /** Refusals to answer the next execute requests with, in order (a status, or a status and error code), before answering normally. */
  failNext: Array<number | { status: number; code: string }>;
  /** Answers the next execute requests' accounts with these results instead of a fill (fields given override the fill's). */
  answerNext: Array<Partial<AccountResult>>;
  close(): Promise<void>;
}

export async function startCaptureNode(nodeCode: string): Promise<CaptureNode> {
  const node: CaptureNode = { url: '', batches: [], failNext: [], answerNext: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (req.url === '/api/query-orders') {
        const accounts = body['accounts'] as Array<{ account_id: number; orders: Array<{ client_order_id: string; symbol: string; kind?: string }> }>;
        return answer(200, {
          success: true,
          node_code: nodeCode,
          results: accounts.map((a) => ({
            account_id: a.account_id,
            success: true,
            latency_ms: 0,
            orders: a.orders.map((o) => ({ client_order_id: o.client_order_id, symbol: o.symbol, kind: o.kind ?? 'entry', found: false, state: 'not_found', order_id: null, amount: null, filled_quantity: 0, filled_price: null })),
          })),
        });
      }
      if (req.url !== '/api/execute') return answer(404, { success: false, error: { code: 'not_found', message: 'not here' } });
      const parsed = parseWith(ExecuteRequestSchema, body);
      if (!parsed.ok) return answer(400, { success: false, error: { code: 'invalid_request', message: JSON.stringify(parsed.issues) } });
      node.batches.push(parsed.value);
      const refusal = node.failNext.shift();
      if (refusal !== undefined) {
        const { status, code } = typeof refusal === 'number' ? { status: refusal, code: 'shutting_down' } : refusal;
        return answer(status, { success: false, error: { code, message: 'refused by the capture node' } });
      }
      const override = node.answerNext.shift() ?? {};
      const results: AccountResult[] = parsed.value.accounts.map((a, i) => ({
        account_id: a.account_id,
        success: true,
        status: 'filled',
        order_id: `cap-${node.batches.length}-${i}`,
        client_order_id: a.client_order_id,
        filled_price: 60000,
        // An action sized from the position names no quantity; the capture node closes a fixed 0.01.
        filled_quantity: a.quantity ?? 0.01,
        // What a node answers for a filled entry with protection: the legs it placed.
        ...(parsed.value.signal.stop_loss === undefined ? {} : { stop_loss_order_id: `cap-${node.batches.length}-${i}-sl` }),
        ...(parsed.value.signal.take_profit === undefined ? {} : { take_profit_order_id: `cap-${node.batches.length}-${i}-tp` }),
        latency_ms: 1,
        ...override,
      }));
      return answer(200, { success: true, node_code: nodeCode, request_id: parsed.value.request_id, results });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  node.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return node;
}
