import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type {
  ExchangeSim,
  ExchangeSimOptions,
  SimAccountSpec,
  SimFault,
  SimOperation,
  SimOrderView,
  SimPositionView,
  SimSymbol,
} from './exchange-sim.js';
import { listenTracked } from './loopback-server.js';

/** One exchange request as a dialect sees it. */
export interface SimRequest {
  method: string;
  /** Without the query string, e.g. '/api/v5/trade/order'. */
  path: string;
  /** The raw query string without '?', exactly as sent (signatures cover it byte for byte). */
  rawQuery: string;
  query: URLSearchParams;
  /** The raw body, exactly as sent. */
  body: string;
  headers: IncomingHttpHeaders;
  now: number;
}

export interface SimAnswer {
  status: number;
  /** Serialised as JSON unless it is a string already. */
  body: unknown;
  headers?: Record<string, string>;
  /** Default 'application/json'. */
  contentType?: string;
}

/** The state of one simulated exchange, behind the exchange-neutral views. */
export interface SimBook {
  readonly symbols: readonly SimSymbol[];
  addAccount(account: SimAccountSpec): void;
  setMarkPrice(symbol: SimSymbol, price: number, now: number): void;
  markPrice(symbol: SimSymbol): number;
  orders(apiKey?: string): SimOrderView[];
  positions(apiKey?: string): SimPositionView[];
  leverage(apiKey: string, symbol: SimSymbol): number;
  reset(): void;
}

/**
 * What makes one exchange's simulator that exchange: its routes, its
 * signatures, its envelopes. The server around it (faults, latency, counts,
 * the `/__sim/` control surface, sockets) is the same for every exchange.
 */
export interface ExchangeDialect {
  readonly exchange: string;
  readonly book: SimBook;
  /** Which exchange-neutral operation a request is, for faults and counts. */
  operationOf(request: SimRequest): SimOperation | undefined;
  /** The API key a request claims (from its headers or query), before any signature check. */
  apiKeyOf(request: SimRequest): string | undefined;
  /** Answers a request; exchange errors are answers too (with the exchange's status and envelope). */
  handle(request: SimRequest): SimAnswer;
  /** The exchange's own rate-limit answer. */
  rateLimited(request: SimRequest): SimAnswer;
  /** The exchange's answer when it cannot say whether it processed the request (e.g. a 503 from a gateway). */
  unknownOutcome(request: SimRequest): SimAnswer;
  /** The exchange's error envelope for a queued 'reject' fault. */
  rejected(request: SimRequest, code: number | string | undefined, msg: string | undefined, status: number | undefined): SimAnswer;
  /** Answer headers every exchange answer carries (e.g. rate-limit usage), counted per request. */
  usageHeaders?(request: SimRequest): Record<string, string>;
}

const FAULT_KINDS = new Set<string>(['http_500', 'http_503_after', 'rate_limit', 'timeout', 'timeout_after', 'reject']);

interface QueuedFault extends SimFault {
  left: number;
}

interface Counted {
  method: string;
  path: string;
  operation: SimOperation | undefined;
  apiKey: string | undefined;
}

function write(res: ServerResponse, answer: SimAnswer): void {
  if (res.destroyed || res.writableEnded) return;
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': answer.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    ...answer.headers,
  });
  res.end(text);
}

/**
 * Serves a dialect on 127.0.0.1: the exchange's routes, plus `/__sim/`
 * control routes (JSON) that do what the in-process `ExchangeSim` does, for
 * simulators run as their own process.
 */
export async function serveSim(dialect: ExchangeDialect, options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const { book } = dialect;
  let latency = options.latencyMs ?? 0;
  let faults: QueuedFault[] = [];
  let counted: Counted[] = [];
  for (const account of options.accounts ?? []) book.addAccount(account);

  const matches = (f: SimFault, c: Counted) =>
    (!f.operation || f.operation === c.operation) && (!f.method || f.method === c.method) && (!f.path || f.path === c.path) && (!f.apiKey || f.apiKey === c.apiKey);

  const takeFault = (c: Counted): QueuedFault | undefined => {
    const index = faults.findIndex((f) => matches(f, c));
    if (index < 0) return undefined;
    const fault = faults[index] as QueuedFault;
    if (--fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const sim: ExchangeSim = {
    exchange: dialect.exchange,
    url: '',
    port: 0,
    symbols: book.symbols,
    addAccount: (a) => book.addAccount(a),
    setLatency: (ms) => {
      latency = Math.max(0, ms);
    },
    setMarkPrice: (symbol, price) => book.setMarkPrice(symbol, price, Date.now()),
    markPrice: (symbol) => book.markPrice(symbol),
    fault: (f) => {
      if (!FAULT_KINDS.has(f.kind)) throw new Error(`unknown fault kind ${String(f.kind)}`);
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults: () => {
      faults = [];
    },
    orders: (apiKey) => book.orders(apiKey),
    positions: (apiKey) => book.positions(apiKey),
    leverage: (apiKey, symbol) => book.leverage(apiKey, symbol),
    requestCount: (filter = {}) => counted.filter((c) => matches({ kind: 'reject', ...filter }, c)).length,
    resetCounts: () => {
      counted = [];
    },
    reset: () => {
      book.reset();
      faults = [];
      counted = [];
    },
    close: () => listening.close(),
  };

  function control(method: string, path: string, query: URLSearchParams, body: string): SimAnswer {
    const input: unknown = body ? JSON.parse(body) : {};
    const fields = (input ?? {}) as Record<string, unknown>;
    const ok = { status: 200, body: { ok: true } };
    switch (`${method} ${path}`) {
      case 'POST /__sim/accounts':
        for (const a of Array.isArray(input) ? input : [input]) {
          const spec = a as Partial<SimAccountSpec>;
          if (typeof spec.apiKey !== 'string' || typeof spec.secret !== 'string') throw new Error('apiKey and secret are required');
          sim.addAccount(spec as SimAccountSpec);
        }
        return ok;
      case 'POST /__sim/latency':
        sim.setLatency(Number(fields['ms']));
        return ok;
      case 'POST /__sim/mark-price':
        sim.setMarkPrice(String(fields['symbol']), Number(fields['price']));
        return ok;
      case 'POST /__sim/faults': {
        // JSON has no Infinity: `times: null` stands for it.
        const times = fields['times'] === null ? Number.POSITIVE_INFINITY : (fields['times'] as number | undefined);
        sim.fault({ ...(fields as unknown as SimFault), ...(times === undefined ? {} : { times }) });
        return ok;
      }
      case 'DELETE /__sim/faults':
        sim.clearFaults();
        return ok;
      case 'GET /__sim/orders':
        return { status: 200, body: sim.orders(query.get('apiKey') ?? undefined) };
      case 'GET /__sim/positions':
        return { status: 200, body: sim.positions(query.get('apiKey') ?? undefined) };
      case 'GET /__sim/counts': {
        const byRoute: Record<string, number> = {};
        for (const c of counted) byRoute[`${c.method} ${c.path}`] = (byRoute[`${c.method} ${c.path}`] ?? 0) + 1;
        return { status: 200, body: byRoute };
      }
      case 'POST /__sim/reset':
        sim.reset();
        return ok;
      default:
        return { status: 404, body: { error: 'no such control route' } };
    }
  }

  function exchange(res: ServerResponse, request: SimRequest): void {
    const entry: Counted = { method: request.method, path: request.path, operation: dialect.operationOf(request), apiKey: dialect.apiKeyOf(request) };
    counted.push(entry);
    const headers = dialect.usageHeaders?.(request) ?? {};
    const answer = (a: SimAnswer) => {
      const out = { ...a, headers: { ...headers, ...a.headers } };
      if (latency > 0) setTimeout(() => write(res, out), latency);
      else write(res, out);
    };
    const fault = takeFault(entry);
    switch (fault?.kind) {
      case 'http_500':
        return answer({ status: 500, body: '<html><body><h1>500 Internal Server Error</h1></body></html>', contentType: 'text/html' });
      case 'rate_limit':
        return answer(dialect.rateLimited(request));
      case 'timeout':
        return; // never answered: the client times out, close() destroys the socket
      case 'reject':
        return answer(dialect.rejected(request, fault.code, fault.msg, fault.status));
      default:
        break; // no fault, or one of the "after" kinds that process the request first
    }
    const result = dialect.handle(request);
    if (fault?.kind === 'timeout_after') return;
    if (fault?.kind === 'http_503_after') return answer(dialect.unknownOutcome(request));
    answer(result);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      const query = new URLSearchParams(rawQuery);
      if (path.startsWith('/__sim/')) {
        let result: SimAnswer;
        try {
          result = control(method, path, query, body);
        } catch (error) {
          result = { status: 400, body: { error: (error as Error).message } };
        }
        return write(res, result);
      }
      try {
        exchange(res, { method, path, rawQuery, query, body, headers: req.headers, now: Date.now() });
      } catch (error) {
        write(res, { status: 500, body: { error: `simulator bug: ${(error as Error).message}` } });
      }
    });
  });
  const listening = await listenTracked(server, options.host ?? '127.0.0.1', options.port ?? 0);
  Object.assign(sim, { port: listening.port, url: listening.url });
  return sim;
}
