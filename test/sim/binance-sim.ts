import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { validSignature } from './binance-auth.js';
import { BinanceBook, type SimAccountInit, type SimOrder } from './binance-book.js';
import { BinanceError, errors } from './binance-errors.js';
import { SIM_MARKETS, exchangeInfo } from './binance-markets.js';
import { accountView, ackView, algoView, balanceView, leverageBracketView, orderView, positionRiskView } from './binance-views.js';

export type { SimAccountInit, SimOrder } from './binance-book.js';

export type SimFaultKind =
  | 'http_500' // answer 500 before doing anything (nothing placed)
  | 'http_503_after' // process the request (an order IS placed), then answer 503: outcome unknown to the client
  | 'rate_limit' // 429 -1003, nothing placed
  | 'timeout' // never answer; nothing placed
  | 'timeout_after' // process the request (order placed), then never answer
  | 'reject' // answer a given Binance error, nothing placed
  | 'echo_key_error'; // 400 whose message contains the API key and the query string

export interface SimFault {
  kind: SimFaultKind;
  method?: string;
  path?: string;
  apiKey?: string;
  /** How many matching requests it affects; default 1. */
  times?: number;
  code?: number;
  msg?: string;
  status?: number;
}

export interface BinanceSim {
  readonly url: string;
  readonly port: number;
  addAccount(account: SimAccountInit): void;
  /** Added to every exchange answer (not to /__sim/ control calls). */
  setLatency(ms: number): void;
  setMarkPrice(symbol: string, price: number): void;
  fault(fault: SimFault): void;
  clearFaults(): void;
  /** Every regular and algo order ever accepted, oldest first. */
  orders(apiKey?: string): SimOrder[];
  requestCount(method?: string, path?: string): number;
  resetCounts(): void;
  reset(): void;
  close(): Promise<void>;
}

export interface SimOptions {
  port?: number;
  host?: string;
  latencyMs?: number;
  accounts?: SimAccountInit[];
}

/** Endpoints that need X-MBX-APIKEY + timestamp + signature (Binance "SIGNED"). */
const SIGNED = /^\/fapi\/v[123]\/(order|algoOrder|openOrders|openAlgoOrders|allOrders|leverage|marginType|account|balance|positionRisk|leverageBracket|positionSide\/dual|userTrades)$/;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '1', ...headers });
  res.end(text);
};

/**
 * An exchange simulator on 127.0.0.1 that speaks enough Binance USD-M
 * futures REST for ccxt's real `binanceusdm` code path: markets, orders,
 * conditional (algo) orders, lookups by client id, balance, positions,
 * leverage, with signature checks, Binance's duplicate-client-id rule, and
 * injectable latency, timeouts, 5xx and rate limits. Control it in-process
 * or over HTTP under `/__sim/`.
 */
export async function startBinanceSim(options: SimOptions = {}): Promise<BinanceSim> {
  const book = new BinanceBook();
  let latency = options.latencyMs ?? 0;
  let faults: Array<SimFault & { left: number }> = [];
  let counts = new Map<string, number>();
  const held = new Set<Socket>();
  const sockets = new Set<Socket>();
  for (const account of options.accounts ?? []) book.addAccount(account);

  const takeFault = (method: string, path: string, apiKey: string | undefined) => {
    const index = faults.findIndex(
      (f) => (!f.method || f.method === method) && (!f.path || f.path === path) && (!f.apiKey || f.apiKey === apiKey),
    );
    if (index < 0) return undefined;
    const fault = faults[index] as SimFault & { left: number };
    fault.left--;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const hold = (req: IncomingMessage) => {
    // Keep the connection open and silent; close() destroys it.
    held.add(req.socket);
    req.socket.once('close', () => held.delete(req.socket));
  };

  const sim: BinanceSim = {
    url: '',
    port: 0,
    addAccount: (a) => book.addAccount(a),
    setLatency: (ms) => {
      latency = ms;
    },
    setMarkPrice: (symbol, price) => book.setMark(symbol, price, Date.now()),
    fault: (f) => {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults: () => {
      faults = [];
    },
    orders: (apiKey) => book.allOrders(apiKey),
    requestCount: (method, path) => {
      let n = 0;
      for (const [key, count] of counts) {
        const [m, p] = key.split(' ');
        if ((!method || m === method) && (!path || p === path)) n += count;
      }
      return n;
    },
    resetCounts: () => {
      counts = new Map();
    },
    reset: () => {
      book.accounts.clear();
      faults = [];
      counts = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  function control(method: string, path: string, query: URLSearchParams, body: string, res: ServerResponse): void {
    const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (method === 'POST' && path === '/__sim/accounts') {
      for (const a of Array.isArray(input) ? input : [input]) sim.addAccount(a as SimAccountInit);
      return json(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/__sim/latency') {
      sim.setLatency(Number(input['ms']));
      return json(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/__sim/mark-price') {
      sim.setMarkPrice(String(input['symbol']), Number(input['price']));
      return json(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/__sim/faults') {
      const times = input['times'] === null ? Number.POSITIVE_INFINITY : (input['times'] as number | undefined);
      sim.fault({ ...(input as unknown as SimFault), ...(times === undefined ? {} : { times }) });
      return json(res, 200, { ok: true });
    }
    if (method === 'DELETE' && path === '/__sim/faults') {
      sim.clearFaults();
      return json(res, 200, { ok: true });
    }
    if (method === 'GET' && path === '/__sim/orders') return json(res, 200, sim.orders(query.get('apiKey') ?? undefined));
    if (method === 'GET' && path === '/__sim/counts') return json(res, 200, Object.fromEntries(counts));
    if (method === 'POST' && path === '/__sim/reset') {
      sim.reset();
      return json(res, 200, { ok: true });
    }
    return json(res, 404, { error: 'no such control route' });
  }

  function authenticate(req: IncomingMessage, query: string, body: string, params: URLSearchParams, now: number) {
    const apiKey = req.headers['x-mbx-apikey'];
    const account = book.account(typeof apiKey === 'string' ? apiKey : undefined);
    if (!account) throw errors.badApiKey();
    const timestamp = Number(params.get('timestamp'));
    const recvWindow = Number(params.get('recvWindow') ?? 5000);
    if (!Number.isFinite(timestamp)) throw errors.mandatory('timestamp');
    if (timestamp > now + 1000 || now - timestamp > recvWindow) throw errors.recvWindow();
    const signature = params.get('signature');
    if (!signature || !validSignature(account.secret, query, body, signature)) throw errors.badSignature();
    return account;
  }

  /** The exchange itself: returns the JSON answer or throws a BinanceError. */
  function handle(req: IncomingMessage, method: string, path: string, query: string, body: string): unknown {
    const now = Date.now();
    const params = new URLSearchParams(query);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    if (method === 'GET' && path === '/fapi/v1/ping') return {};
    if (method === 'GET' && path === '/fapi/v1/time') return { serverTime: now };
    if (method === 'GET' && path === '/fapi/v1/exchangeInfo') return exchangeInfo(now);
    if (method === 'GET' && path === '/sapi/v1/capital/config/getall') return [];
    if (method === 'GET' && path === '/fapi/v1/premiumIndex') {
      const rows = SIM_MARKETS.map((m) => ({ symbol: m.symbol, markPrice: String(book.marks.get(m.symbol)), indexPrice: String(book.marks.get(m.symbol)), lastFundingRate: '0.0001', nextFundingTime: now + 3600_000, time: now }));
      const symbol = params.get('symbol');
      return symbol ? (rows.find((r) => r.symbol === symbol) ?? (() => { throw errors.badSymbol(); })()) : rows;
    }
    if (!SIGNED.test(path)) throw errors.unknownPath();
    const account = authenticate(req, query, body, params, now);

    switch (`${method} ${path}`) {
      case 'POST /fapi/v1/order': {
        const order = book.newOrder(account, params, now);
        return params.get('newOrderRespType') === 'RESULT' ? orderView(order) : ackView(order);
      }
      case 'GET /fapi/v1/order':
        return orderView(book.findOrder(account, 'order', params, 'orderId', 'origClientOrderId'));
      case 'DELETE /fapi/v1/order':
        return orderView(book.cancel(book.findOrder(account, 'order', params, 'orderId', 'origClientOrderId'), now));
      case 'GET /fapi/v1/openOrders':
        return book.allOrders(account.apiKey).filter((o) => o.kind === 'order' && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!params.get('symbol') || o.symbol === params.get('symbol'))).map(orderView);
      case 'POST /fapi/v1/algoOrder':
        return algoView(book.newAlgoOrder(account, params, now));
      case 'GET /fapi/v1/algoOrder':
        return algoView(book.findOrder(account, 'algo', params, 'algoId', 'clientAlgoId'));
      case 'DELETE /fapi/v1/algoOrder': {
        const order = book.cancel(book.findOrder(account, 'algo', params, 'algoId', 'clientAlgoId'), now);
        return { algoId: order.algoId, clientAlgoId: order.clientOrderId, code: '200', msg: 'success' };
      }
      case 'GET /fapi/v1/openAlgoOrders':
        return book.allOrders(account.apiKey).filter((o) => o.kind === 'algo' && o.status === 'NEW' && (!params.get('symbol') || o.symbol === params.get('symbol'))).map(algoView);
      case 'POST /fapi/v1/leverage':
        return book.setLeverage(account, params);
      case 'POST /fapi/v1/marginType':
        return { code: 200, msg: 'success' };
      case 'GET /fapi/v2/account':
      case 'GET /fapi/v3/account':
        return accountView(book, account, now);
      case 'GET /fapi/v2/balance':
      case 'GET /fapi/v3/balance':
        return balanceView(book, account, now);
      case 'GET /fapi/v2/positionRisk':
      case 'GET /fapi/v3/positionRisk':
        return positionRiskView(book, account, params.get('symbol'), now);
      case 'GET /fapi/v1/leverageBracket': {
        const symbol = params.get('symbol');
        return leverageBracketView(symbol ? [symbol] : SIM_MARKETS.map((m) => m.symbol));
      }
      default:
        throw errors.unknownPath();
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
      if (path.startsWith('/__sim/')) {
        try {
          return control(method, path, new URLSearchParams(query), body, res);
        } catch (error) {
          return json(res, 400, { error: (error as Error).message });
        }
      }
      counts.set(`${method} ${path}`, (counts.get(`${method} ${path}`) ?? 0) + 1);
      const apiKey = typeof req.headers['x-mbx-apikey'] === 'string' ? req.headers['x-mbx-apikey'] : undefined;
      const fault = takeFault(method, path, apiKey);

      const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        if (latency > 0) setTimeout(() => json(res, status, payload, headers), latency);
        else json(res, status, payload, headers);
      };

      if (fault) {
        switch (fault.kind) {
          case 'http_500':
            res.writeHead(500, { 'content-type': 'text/html' });
            return void res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
          case 'rate_limit':
            return answer(429, errors.rateLimit().body(), { 'retry-after': '1' });
          case 'timeout':
            return hold(req);
          case 'reject':
            return answer(fault.status ?? 400, JSON.stringify({ code: fault.code ?? -1000, msg: fault.msg ?? 'rejected' }));
          case 'echo_key_error':
            return answer(400, JSON.stringify({ code: -2014, msg: `API-key format invalid: ${apiKey} for ${method} ${path}?${query}${body ? `&${body}` : ''}` }));
          default:
            break; // the "after" faults process the request first
        }
      }

      let status = 200;
      let payload: unknown;
      try {
        payload = handle(req, method, path, query, body);
      } catch (error) {
        if (!(error instanceof BinanceError)) throw error;
        status = error.status;
        payload = error.body();
      }
      if (fault?.kind === 'timeout_after') return hold(req);
      if (fault?.kind === 'http_503_after') {
        return answer(503, JSON.stringify({ code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' }));
      }
      answer(status, payload);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(sim, { port, url: `http://${options.host ?? '127.0.0.1'}:${port}` });
  return sim;
}
