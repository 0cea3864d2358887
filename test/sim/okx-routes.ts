import type { SimOperation } from './exchange-sim.js';
import type { SimAnswer, SimRequest } from './sim-server.js';
import { authenticate } from './okx-auth.js';
import { type Account, EPS, isLive, type MgnMode, type OkxBook, type PosMode } from './okx-book.js';
import { errors, ok, OkxError } from './okx-errors.js';
import { currencies, INSTRUMENT_TYPES, instruments, swapOf } from './okx-markets.js';
import { cancelAlgo, cancelOrder, type Fields, findAlgo, findOrder, placeAlgo, placeOrder } from './okx-orders.js';
import { algoView, balanceView, configView, leverageView, markPriceView, orderView, positionsView, SWAP_IDS, tickerView } from './okx-views.js';

/** What a handler gets: the request, its parsed JSON body (POST) and the account (private routes). */
interface Ctx {
  book: OkxBook;
  request: SimRequest;
  query: URLSearchParams;
  body: unknown;
  account: Account;
  now: number;
}

interface Route {
  method: 'GET' | 'POST';
  private: boolean;
  operation?: SimOperation;
  handle(ctx: Ctx): SimAnswer;
}

const answer = (data: unknown[]): SimAnswer => ({ status: 200, body: ok(data) });

/** OKX's gateway stamps answers of the trade endpoints with its own timings, in microseconds. */
const stamped = (body: Record<string, unknown>, now: number) => ({ ...body, inTime: `${now}000`, outTime: `${now}250` });

type Item = { fields: Record<string, unknown> } | { error: OkxError; fields: Record<string, unknown> };

/**
 * The place / cancel envelope: `code` "0" when every item succeeded, "1"
 * when all failed, "2" when some did; each item carries its own sCode /
 * sMsg. Always HTTP 200.
 */
function items(list: Item[], now: number, failedMsg: string): SimAnswer {
  const failed = list.filter((i) => 'error' in i).length;
  const code = failed === 0 ? '0' : failed === list.length ? '1' : '2';
  const data = list.map((i) =>
    'error' in i ? { ...i.fields, sCode: i.error.code, sMsg: i.error.message, ...(i.fields['subCode'] === undefined ? {} : { subCode: i.error.subCode }) } : i.fields,
  );
  return { status: 200, body: stamped({ code, data, msg: code === '1' ? failedMsg : '' }, now) };
}

function str(f: Fields, name: string): string {
  const v = f[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function objectBody(body: unknown): Fields {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badJson();
  return body as Fields;
}

function arrayBody(body: unknown, max: number): Fields[] {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw errors.emptyBody();
  if (list.length > max) throw errors.bulkLimit(max);
  if (list.some((x) => !x || typeof x !== 'object' || Array.isArray(x))) throw errors.badJson();
  return list as Fields[];
}

/** Orders of POST /trade/order (one object) or /trade/batch-orders (an array of up to 20). */
function place(ctx: Ctx, batch: boolean): SimAnswer {
  const list = batch ? arrayBody(ctx.body, 20) : [objectBody(ctx.body)];
  const ids = new Set<string>();
  const ts = String(ctx.now);
  const out: Item[] = list.map((f) => {
    const echo = { clOrdId: str(f, 'clOrdId'), ordId: '', tag: str(f, 'tag'), ts, subCode: '' };
    try {
      const o = placeOrder(ctx.book, ctx.account, f, ctx.now, ids);
      return { fields: { clOrdId: o.clOrdId, ordId: o.ordId, tag: o.tag, ts, sCode: '0', sMsg: 'Order placed', subCode: '' } };
    } catch (error) {
      if (!(error instanceof OkxError)) throw error;
      return { error, fields: echo };
    }
  });
  return items(out, ctx.now, batch ? '' : 'All operations failed');
}

function placeAlgoRoute(ctx: Ctx): SimAnswer {
  const f = objectBody(ctx.body);
  try {
    const a = placeAlgo(ctx.book, ctx.account, f, ctx.now);
    return items([{ fields: { algoClOrdId: a.algoClOrdId, algoId: a.algoId, clOrdId: a.clOrdId, sCode: '0', sMsg: '', tag: a.tag } }], ctx.now, '');
  } catch (error) {
    if (!(error instanceof OkxError)) throw error;
    const echo = { algoClOrdId: str(f, 'algoClOrdId') || str(f, 'clOrdId'), algoId: '', clOrdId: str(f, 'clOrdId'), tag: str(f, 'tag') };
    return items([{ error, fields: echo }], ctx.now, 'All operations failed');
  }
}

function cancelRoute(ctx: Ctx, list: Fields[], failedMsg: string): SimAnswer {
  const ts = String(ctx.now);
  const out: Item[] = list.map((f) => {
    try {
      const o = cancelOrder(ctx.book, ctx.account, f, ctx.now);
      return { fields: { clOrdId: o.clOrdId, ordId: o.ordId, sCode: '0', sMsg: '', ts } };
    } catch (error) {
      if (!(error instanceof OkxError)) throw error;
      return { error, fields: { clOrdId: str(f, 'clOrdId'), ordId: str(f, 'ordId'), ts } };
    }
  });
  return items(out, ctx.now, failedMsg);
}

function cancelAlgosRoute(ctx: Ctx): SimAnswer {
  const list = arrayBody(ctx.body, 10);
  const out: Item[] = list.map((f) => {
    try {
      const a = cancelAlgo(ctx.account, f, ctx.now);
      return { fields: { algoClOrdId: a.algoClOrdId, algoId: a.algoId, clOrdId: '', sCode: '0', sMsg: '', tag: '' } };
    } catch (error) {
      if (!(error instanceof OkxError)) throw error;
      return { error, fields: { algoClOrdId: str(f, 'algoClOrdId'), algoId: str(f, 'algoId'), clOrdId: '', tag: '' } };
    }
  });
  return items(out, ctx.now, '');
}

function requireInstrument(query: URLSearchParams): string {
  const instId = query.get('instId');
  if (!instId) throw errors.empty('instId');
  if (!swapOf(instId)) throw errors.noInstrument();
  return instId;
}

function mgnMode(raw: unknown): MgnMode {
  if (raw === undefined || raw === null || raw === '') throw errors.empty('mgnMode');
  if (raw !== 'cross' && raw !== 'isolated') throw errors.param('mgnMode');
  return raw;
}

/** Pending orders or live algos stop a change of position mode (59000). */
function hasOpenRisk(book: OkxBook, account: Account): boolean {
  return book.openPositions(account).length > 0 || account.orders.some(isLive) || account.algos.some((a) => a.state === 'live');
}

/**
 * `POST /account/set-leverage`: per instrument and margin mode (and per
 * side for isolated long/short). Setting the value it already has succeeds
 * like any other. Lowering it with a cross position must leave the extra
 * margin available (59108).
 */
function setLeverage(ctx: Ctx): SimAnswer {
  const f = objectBody(ctx.body);
  const instId = str(f, 'instId');
  if (!instId) throw errors.empty('instId');
  const m = swapOf(instId);
  if (!m) throw errors.noInstrument();
  const mode = mgnMode(f['mgnMode']);
  const raw = str(f, 'lever');
  if (!raw) throw errors.empty('lever');
  const lever = Number(raw);
  if (!Number.isFinite(lever) || lever <= 0) throw errors.param('lever');
  if (lever < 0.01) throw errors.leverageTooLow('0.01');
  if (lever > Number(m.lever)) throw errors.leverageTooHigh();
  const account = ctx.account;
  const ps = str(f, 'posSide');
  let sides: Array<'net' | 'long' | 'short'> = ['net'];
  if (mode === 'isolated' && account.posMode === 'long_short_mode') {
    if (ps !== 'long' && ps !== 'short') throw errors.param('posSide');
    sides = [ps];
  } else if (ps !== '' && ps !== 'net' && !(account.posMode === 'long_short_mode' && (ps === 'long' || ps === 'short'))) {
    throw errors.param('posSide');
  }
  if (mode === 'cross') {
    const before = ctx.book.totals(account);
    const extra = ctx.book
      .openPositions(account)
      .filter((p) => p.instId === instId && p.mgnMode === 'cross')
      .reduce((n, p) => n + ctx.book.notional(p) / lever - ctx.book.imr(account, p), 0);
    if (extra > before.availEq + EPS) throw errors.leverageMarginShort();
  }
  for (const side of sides) account.leverage.set(`${instId}|${mode}|${side}`, lever);
  account.lastLever.set(instId, lever);
  return answer([{ instId, lever: raw, mgnMode: mode, posSide: mode === 'isolated' ? (sides[0] === 'net' ? 'net' : (sides[0] as string)) : '' }]);
}

function listQuery(query: URLSearchParams, name: string): string[] | null {
  const v = query.get(name);
  return v ? v.split(',').filter(Boolean) : null;
}

const ROUTES: Record<string, Route> = {
  '/api/v5/public/time': { method: 'GET', private: false, handle: (c) => answer([{ ts: String(c.now) }]) },
  '/api/v5/public/instruments': {
    method: 'GET',
    private: false,
    operation: 'markets',
    handle: (c) => {
      const instType = c.query.get('instType');
      if (!instType) throw errors.empty('instType');
      if (!INSTRUMENT_TYPES.has(instType)) throw errors.param('instType');
      return answer(instruments(instType, c.query.get('instId')));
    },
  },
  '/api/v5/public/mark-price': {
    method: 'GET',
    private: false,
    handle: (c) => {
      const instId = c.query.get('instId');
      return answer((instId ? [instId] : SWAP_IDS).filter((id) => swapOf(id)).map((id) => markPriceView(c.book, id, c.now)));
    },
  },
  '/api/v5/market/ticker': { method: 'GET', private: false, handle: (c) => answer([tickerView(c.book, requireInstrument(c.query), c.now)]) },
  '/api/v5/market/tickers': { method: 'GET', private: false, handle: (c) => answer(SWAP_IDS.map((id) => tickerView(c.book, id, c.now))) },
  '/api/v5/asset/currencies': { method: 'GET', private: true, operation: 'markets', handle: () => answer(currencies()) },

  '/api/v5/trade/order': {
    method: 'POST',
    private: true,
    operation: 'place_order',
    handle: (c) => place(c, false),
  },
  '/api/v5/trade/batch-orders': { method: 'POST', private: true, operation: 'place_order', handle: (c) => place(c, true) },
  '/api/v5/trade/order-algo': { method: 'POST', private: true, operation: 'place_trigger', handle: placeAlgoRoute },
  '/api/v5/trade/cancel-order': { method: 'POST', private: true, operation: 'cancel_order', handle: (c) => cancelRoute(c, [objectBody(c.body)], 'All operations failed') },
  '/api/v5/trade/cancel-batch-orders': { method: 'POST', private: true, operation: 'cancel_order', handle: (c) => cancelRoute(c, arrayBody(c.body, 20), '') },
  '/api/v5/trade/cancel-algos': { method: 'POST', private: true, operation: 'cancel_order', handle: cancelAlgosRoute },
  '/api/v5/trade/orders-pending': {
    method: 'GET',
    private: true,
    handle: (c) => {
      const instId = c.query.get('instId');
      const types = listQuery(c.query, 'ordType');
      const state = c.query.get('state');
      const instType = c.query.get('instType');
      return answer(
        c.account.orders
          .filter((o) => isLive(o) && (!instId || o.instId === instId) && (!types || types.includes(o.ordType)) && (!state || o.state === state) && (!instType || instType === 'SWAP'))
          .reverse()
          .slice(0, Math.min(Number(c.query.get('limit') ?? 100) || 100, 100))
          .map(orderView),
      );
    },
  },
  '/api/v5/trade/orders-history': {
    method: 'GET',
    private: true,
    handle: (c) => {
      const instType = c.query.get('instType');
      if (!instType) throw errors.empty('instType');
      const instId = c.query.get('instId');
      const state = c.query.get('state');
      const weekAgo = c.now - 7 * 86_400_000;
      return answer(
        c.account.orders
          .filter((o) => !isLive(o) && instType === 'SWAP' && (!instId || o.instId === instId) && (!state || o.state === state) && o.uTime >= weekAgo)
          .reverse()
          .slice(0, Math.min(Number(c.query.get('limit') ?? 100) || 100, 100))
          .map(orderView),
      );
    },
  },
  '/api/v5/trade/orders-algo-pending': {
    method: 'GET',
    private: true,
    handle: (c) => {
      const types = listQuery(c.query, 'ordType');
      if (!types) throw errors.empty('ordType');
      if (types.length > 1 && types.some((t) => t !== 'conditional' && t !== 'oco')) throw errors.param('ordType');
      const instId = c.query.get('instId');
      const algoId = c.query.get('algoId');
      return answer(
        c.account.algos
          .filter((a) => a.state === 'live' && types.includes(a.ordType) && (!instId || a.instId === instId) && (!algoId || a.algoId === algoId))
          .reverse()
          .map(algoView),
      );
    },
  },
  '/api/v5/trade/orders-algo-history': {
    method: 'GET',
    private: true,
    handle: (c) => {
      const types = listQuery(c.query, 'ordType');
      if (!types) throw errors.empty('ordType');
      const state = c.query.get('state');
      const algoId = c.query.get('algoId');
      if (!state && !algoId) throw errors.either('state', 'algoId');
      if (state && !['effective', 'canceled', 'order_failed'].includes(state)) throw errors.param('state');
      const instId = c.query.get('instId');
      return answer(
        c.account.algos
          .filter((a) => a.state !== 'live' && types.includes(a.ordType) && (!state || a.state === state) && (!algoId || a.algoId === algoId) && (!instId || a.instId === instId))
          .reverse()
          .map(algoView),
      );
    },
  },
  // Single-order lookups: an unknown order is a request-level 51603, HTTP 200.
  '/api/v5/trade/order#GET': {
    method: 'GET',
    private: true,
    operation: 'query_order',
    handle: (c) => {
      requireInstrument(c.query);
      if (!c.query.get('ordId') && !c.query.get('clOrdId')) throw errors.eitherOrderId();
      const order = findOrder(c.account, c.query, c.now);
      if (!order) throw errors.orderNotFound();
      return answer([orderView(order)]);
    },
  },
  '/api/v5/trade/order-algo#GET': {
    method: 'GET',
    private: true,
    operation: 'query_order',
    handle: (c) => {
      if (!c.query.get('algoId') && !c.query.get('algoClOrdId')) throw errors.either('algoId', 'algoClOrdId');
      const algo = findAlgo(c.account, c.query);
      if (!algo) throw errors.orderNotFound();
      return answer([algoView(algo)]);
    },
  },

  '/api/v5/account/config': { method: 'GET', private: true, handle: (c) => answer(configView(c.account)) },
  '/api/v5/account/set-position-mode': {
    method: 'POST',
    private: true,
    handle: (c) => {
      const posMode = objectBody(c.body)['posMode'];
      if (posMode === undefined || posMode === '') throw errors.empty('posMode');
      if (posMode !== 'net_mode' && posMode !== 'long_short_mode') throw errors.param('posMode');
      if (posMode !== c.account.posMode && hasOpenRisk(c.book, c.account)) throw errors.settingsBlocked();
      c.account.posMode = posMode as PosMode;
      return answer([{ posMode }]);
    },
  },
  '/api/v5/account/set-leverage': { method: 'POST', private: true, operation: 'leverage', handle: setLeverage },
  '/api/v5/account/leverage-info': {
    method: 'GET',
    private: true,
    operation: 'leverage',
    handle: (c) => {
      const ids = listQuery(c.query, 'instId');
      if (!ids) throw errors.empty('instId');
      if (ids.some((id) => !swapOf(id))) throw errors.noInstrument();
      return answer(leverageView(c.book, c.account, ids, mgnMode(c.query.get('mgnMode'))));
    },
  },
  '/api/v5/account/balance': { method: 'GET', private: true, operation: 'balance', handle: (c) => answer(balanceView(c.book, c.account, c.now)) },
  '/api/v5/account/positions': {
    method: 'GET',
    private: true,
    operation: 'positions',
    handle: (c) => {
      const instType = c.query.get('instType');
      if (instType && !['MARGIN', 'SWAP', 'FUTURES', 'OPTION', 'EVENTS'].includes(instType)) throw errors.param('instType');
      const ids = listQuery(c.query, 'instId');
      if (ids && ids.length > 10) throw errors.param('instId');
      const rows = instType && instType !== 'SWAP' ? [] : positionsView(c.book, c.account, ids);
      return answer(rows);
    },
  },
};

function routeOf(method: string, path: string): Route | undefined {
  return (method === 'GET' ? ROUTES[`${path}#GET`] : undefined) ?? ROUTES[path];
}

export function operationOf(request: SimRequest): SimOperation | undefined {
  return routeOf(request.method, request.path)?.operation;
}

const notFound = (): SimAnswer => ({ status: 404, body: { code: '404', data: [], msg: 'Not Found' } });

/** Answers one REST request as OKX would, errors included. */
export function route(book: OkxBook, request: SimRequest): SimAnswer {
  const r = routeOf(request.method, request.path);
  if (!r) {
    const other = routeOf(request.method === 'GET' ? 'POST' : 'GET', request.path);
    return other ? errorAnswer(errors.badMethod()) : notFound();
  }
  if (r.method !== request.method) return errorAnswer(errors.badMethod());
  try {
    let account = undefined as unknown as Account; // public routes never read it
    if (r.private) account = authenticate(request.headers, (k) => book.accounts.get(k), request.method, request.path, request.rawQuery, request.body, request.now);
    let body: unknown;
    if (request.method === 'POST') {
      if (request.body.trim() === '') throw errors.emptyBody();
      const type = request.headers['content-type'];
      if (typeof type !== 'string' || !type.toLowerCase().includes('application/json')) throw errors.badContentType();
      try {
        body = JSON.parse(request.body);
      } catch {
        throw errors.badJson();
      }
    }
    return r.handle({ book, request, query: request.query, body, account, now: request.now });
  } catch (error) {
    if (error instanceof OkxError) return errorAnswer(error);
    throw error;
  }
}

export function errorAnswer(error: OkxError): SimAnswer {
  return { status: error.status, body: error.body() };
}
