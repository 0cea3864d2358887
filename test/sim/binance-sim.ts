import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BinanceBook, type Position, type SimAccountInit, type SimOrder } from './binance-book.js';
import { BinanceError, errors } from './binance-errors.js';
import { fillPart, setMarkPrice } from './binance-orders.js';
import { ORDER_ROUTES, requestWeight, route } from './binance-routes.js';
import { listenTracked } from './loopback-server.js';

export type { PositionMode, PositionSide, SimAccountInit, SimOrder } from './binance-book.js';

export type SimFaultKind =
  | 'http_500' // answer 500 before doing anything (nothing placed)
  | 'http_503_after' // process the request (an order IS placed), then answer 503: outcome unknown to the client
  | 'rate_limit' // 429 -1003, nothing placed
  | 'timeout' // never answer; nothing placed (the socket is held until the client gives up or close())
  | 'timeout_after' // process the request (order placed), then never answer
  | 'reject' // answer a given Binance error, nothing placed
  | 'echo_key_error'; // 400 whose message contains the API key and the query string

const FAULT_KINDS = new Set<string>(['http_500', 'http_503_after', 'rate_limit', 'timeout', 'timeout_after', 'reject', 'echo_key_error']);

export interface SimFault {
  kind: SimFaultKind;
  /** e.g. 'POST'; default any. */
  method?: string;
  /** Exact path, e.g. '/fapi/v1/order'; default any. */
  path?: string;
  /** Only requests signed with this key; default any. */
  apiKey?: string;
  /** How many matching requests it affects; default 1; Infinity allowed. */
  times?: number;
  /** For 'reject'. */
  code?: number;
  msg?: string;
  status?: number;
}

export interface BinanceSim {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  readonly port: number;
  addAccount(account: SimAccountInit): void;
  /** Added to every exchange answer (not to /__sim/ control calls); timers, never blocking. */
  setLatency(ms: number): void;
  /** Exchange id, e.g. 'BTCUSDT'. Crossed resting limits fill and crossed trigger orders fire. */
  setMarkPrice(symbol: string, price: number): void;
  /** A counterparty takes `qty` (base currency) of the account's resting LIMIT order at its price: a partial fill. */
  fillPart(apiKey: string, clientOrderId: string, qty: number): void;
  /** Queue a fault; faults are matched in order. */
  fault(fault: SimFault): void;
  clearFaults(): void;
  /** Every regular and algo order ever accepted (filled, open, canceled), oldest first. */
  orders(apiKey?: string): SimOrder[];
  /** The account's open positions, as its book holds them (signed amounts, one per symbol and position side). */
  positions(apiKey: string): Position[];
  /** Leverage and margin type the account has set on a symbol (exchange id, e.g. 'BTCUSDT'); Binance's defaults when never set. */
  leverage(apiKey: string, symbol: string): number;
  marginType(apiKey: string, symbol: string): 'CROSSED' | 'ISOLATED';
  /** Requests received, e.g. requestCount('GET', '/fapi/v1/exchangeInfo'). */
  requestCount(method?: string, path?: string): number;
  resetCounts(): void;
  /** Drops accounts, orders, faults and counts, and restores the default mark prices. */
  reset(): void;
  /** Closes the server and destroys every socket, held ones included. */
  close(): Promise<void>;
}

export interface SimOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  latencyMs?: number;
  accounts?: SimAccountInit[];
}

interface QueuedFault extends SimFault {
  left: number;
}

const JSON_TYPE = 'application/json;charset=UTF-8';

/** Binance's request-weight and order counters, reset each minute / 10 seconds like the real windows. */
class UsageCounters {
  private minute = 0;
  private tenSeconds = 0;
  private weight = 0;
  private orders1m = 0;
  private orders10s = 0;

  headers(routeKey: string, query: URLSearchParams, now: number): Record<string, string> {
    const minute = Math.floor(now / 60_000);
    const tenSeconds = Math.floor(now / 10_000);
    if (minute !== this.minute) [this.minute, this.weight, this.orders1m] = [minute, 0, 0];
    if (tenSeconds !== this.tenSeconds) [this.tenSeconds, this.orders10s] = [tenSeconds, 0];
    this.weight += requestWeight(routeKey, query);
    const headers: Record<string, string> = { 'x-mbx-used-weight-1m': String(this.weight) };
    if (ORDER_ROUTES.has(routeKey)) {
      headers['x-mbx-order-count-10s'] = String(++this.orders10s);
      headers['x-mbx-order-count-1m'] = String(++this.orders1m);
    }
    return headers;
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>, contentType = JSON_TYPE): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * An exchange simulator on 127.0.0.1 that speaks enough Binance USD-M
 * futures REST for ccxt's real `binanceusdm` code path: markets, orders,
 * conditional (algo) orders, lookups by client id, balance, positions in
 * one-way or hedge mode (and the switch between them), leverage, with signature checks, Binance's duplicate-client-id rule, and
 * injectable latency, timeouts, 5xx and rate limits. Control it in-process
 * or over HTTP under `/__sim/`.
 */
export async function startBinanceSim(options: SimOptions = {}): Promise<BinanceSim> {
  const book = new BinanceBook();
  const usage = new UsageCounters();
  let latency = options.latencyMs ?? 0;
  let faults: QueuedFault[] = [];
  let counts = new Map<string, number>();
  for (const account of options.accounts ?? []) book.addAccount(account);

  const takeFault = (method: string, path: string, apiKey: string | undefined): QueuedFault | undefined => {
    const index = faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path === path) && (!f.apiKey || f.apiKey === apiKey));
    if (index < 0) return undefined;
    const fault = faults[index] as QueuedFault;
    if (--fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const sim: BinanceSim = {
    url: '',
    port: 0,
    addAccount: (a) => book.addAccount(a),
    setLatency: (ms) => {
      latency = Math.max(0, ms);
    },
    setMarkPrice: (symbol, price) => setMarkPrice(book, symbol, price, Date.now()),
    fillPart: (apiKey, clientOrderId, qty) => fillPart(book, apiKey, clientOrderId, qty, Date.now()),
    fault: (f) => {
      if (!FAULT_KINDS.has(f.kind)) throw new Error(`unknown fault kind ${String(f.kind)}`);
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults: () => {
      faults = [];
    },
    orders: (apiKey) => book.allOrders(apiKey),
    leverage: (apiKey, symbol) => {
      const account = book.account(apiKey);
      if (!account) throw new Error(`no account ${apiKey}`);
      return book.leverageOf(account, symbol);
    },
    marginType: (apiKey, symbol) => book.account(apiKey)?.marginType.get(symbol) ?? 'CROSSED',
    positions: (apiKey) => [...(book.account(apiKey)?.positions.values() ?? [])].filter((p) => p.amount !== 0).map((p) => ({ ...p })),
    requestCount: (method, path) => {
      let n = 0;
      for (const [key, count] of counts) {
        const space = key.indexOf(' ');
        if ((!method || key.slice(0, space) === method) && (!path || key.slice(space + 1) === path)) n += count;
      }
      return n;
    },
    resetCounts: () => {
      counts = new Map();
    },
    reset: () => {
      book.reset();
      faults = [];
      counts = new Map();
    },
    close: () => listening.close(),
  };

  /** The `/__sim/` control surface: the same operations as the in-process API, as JSON over HTTP. */
  function control(method: string, path: string, query: URLSearchParams, body: string): [number, unknown] {
    const input: unknown = body ? JSON.parse(body) : {};
    const fields = (input ?? {}) as Record<string, unknown>;
    switch (`${method} ${path}`) {
      case 'POST /__sim/accounts':
        for (const a of Array.isArray(input) ? input : [input]) {
          const init = a as Partial<SimAccountInit>;
          if (typeof init.apiKey !== 'string' || typeof init.secret !== 'string') throw new Error('apiKey and secret are required');
          if (init.positionMode !== undefined && init.positionMode !== 'one_way' && init.positionMode !== 'hedge') throw new Error("positionMode is 'one_way' or 'hedge'");
          sim.addAccount({
            apiKey: init.apiKey,
            secret: init.secret,
            ...(typeof init.usdt === 'number' ? { usdt: init.usdt } : {}),
            ...(init.positionMode === undefined ? {} : { positionMode: init.positionMode }),
          });
        }
        return [200, { ok: true }];
      case 'POST /__sim/latency':
        sim.setLatency(Number(fields['ms']));
        return [200, { ok: true }];
      case 'POST /__sim/mark-price':
        sim.setMarkPrice(String(fields['symbol']), Number(fields['price']));
        return [200, { ok: true }];
      case 'POST /__sim/faults': {
        // JSON has no Infinity: `times: null` stands for it.
        const times = fields['times'] === null ? Number.POSITIVE_INFINITY : (fields['times'] as number | undefined);
        sim.fault({ ...(fields as unknown as SimFault), ...(times === undefined ? {} : { times }) });
        return [200, { ok: true }];
      }
      case 'DELETE /__sim/faults':
        sim.clearFaults();
        return [200, { ok: true }];
      case 'GET /__sim/orders':
        return [200, sim.orders(query.get('apiKey') ?? undefined)];
      case 'GET /__sim/positions':
        return [200, sim.positions(query.get('apiKey') ?? '')];
      case 'GET /__sim/counts':
        return [200, Object.fromEntries(counts)];
      case 'POST /__sim/reset':
        sim.reset();
        return [200, { ok: true }];
      default:
        return [404, { error: 'no such control route' }];
    }
  }

  function exchange(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string, body: string): void {
    const key = `${method} ${path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const apiKeyHeader = req.headers['x-mbx-apikey'];
    const apiKey = typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined;
    const now = Date.now();
    const headers = usage.headers(key, new URLSearchParams(query), now);
    const answer = (status: number, text: string, contentType?: string) => {
      if (latency > 0) setTimeout(() => send(res, status, text, headers, contentType), latency);
      else send(res, status, text, headers, contentType);
    };
    const fault = takeFault(method, path, apiKey);
    switch (fault?.kind) {
      case 'http_500':
        return answer(500, '<html><body><h1>500 Internal Server Error</h1></body></html>', 'text/html');
      case 'rate_limit':
        headers['retry-after'] = '1';
        return answer(429, errors.rateLimit().body());
      case 'timeout':
        return; // never answered: the client times out, close() destroys the socket
      case 'reject':
        return answer(fault.status ?? 400, JSON.stringify({ code: fault.code ?? -1000, msg: fault.msg ?? 'An unknown error occured while processing the request.' }));
      case 'echo_key_error': {
        const sent = [query, body].filter(Boolean).join('&');
        return answer(400, JSON.stringify({ code: -2014, msg: `API-key format invalid: ${apiKey ?? ''} for ${method} ${path}?${sent}` }));
      }
      default:
        break; // no fault, or one of the "after" kinds that process the request first
    }

    let status = 200;
    let payload: string;
    try {
      payload = JSON.stringify(route(book, method, path, query, body, apiKeyHeader, now));
    } catch (error) {
      if (!(error instanceof BinanceError)) throw error;
      status = error.status;
      payload = error.body();
    }
    if (fault?.kind === 'timeout_after') return;
    if (fault?.kind === 'http_503_after') return answer(503, errors.unknownOutcome().body());
    answer(status, payload);
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
      const query = q < 0 ? '' : url.slice(q + 1);
      if (path.startsWith('/__sim/')) {
        let result: [number, unknown];
        try {
          result = control(method, path, new URLSearchParams(query), body);
        } catch (error) {
          result = [400, { error: (error as Error).message }];
        }
        return send(res, result[0], JSON.stringify(result[1]), {});
      }
      try {
        exchange(req, res, method, path, query, body);
      } catch (error) {
        send(res, 500, JSON.stringify({ code: -1000, msg: `simulator bug: ${(error as Error).message}` }), {});
      }
    });
  });
  const listening = await listenTracked(server, options.host ?? '127.0.0.1', options.port ?? 0);
  Object.assign(sim, { port: listening.port, url: listening.url });
  return sim;
}
