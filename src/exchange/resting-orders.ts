import type { Exchange, Order } from 'ccxt';
import { loadedCcxt } from './ccxt-module.js';
import { requireBaseUnits, unitsToBase } from './order-units.js';
import type { RestingOrder } from './trader.js';

/**
 * Listing an account's resting orders on one symbol and cancelling one of
 * them: regular orders and untriggered stop-loss / take-profit orders, which
 * most exchanges keep in a book of their own (Binance USD-M algo orders, OKX
 * algo orders, Bitget plan orders). ccxt's unified calls are used where they
 * answer right; where they cannot, the exchange's own endpoint is asked here,
 * once per exchange. Errors leave raw (ccxt's); the trader normalises them.
 *
 * ```ts
 * const seam = restingOrders(exchange.id);
 * const orders = await seam.list(exchange, 'BTC/USDT:USDT');
 * await seam.cancel(exchange, orders[0]); // false: it was no longer open
 * ```
 */
export interface RestingOrders {
  list(exchange: Exchange, symbol: string): Promise<RestingOrder[]>;
  /** `true` when cancelled, `false` when the exchange answers that the order is no longer open. */
  cancel(exchange: Exchange, order: RestingOrder): Promise<boolean>;
}

type Side = 'buy' | 'sell';
type Hold = 'long' | 'short';
type Kind = 'stop_loss' | 'take_profit' | null;
type Info = Record<string, unknown>;

/** One order as its exchange reports it, quantities still in the market's order units. */
interface Row {
  id: string;
  clientOrderId: string | null;
  side: Side;
  /** `null`: closes the whole position when it fires (Binance closePosition, OKX closeFraction, Bybit Full TP/SL, Bitget pos_*). */
  amount: number | null;
  filled: number;
  price: number | null;
  trigger: { kind: Kind; price: number } | null;
  reduceOnly: boolean;
  positionSide: Hold | null;
}

// ccxt's implicit endpoints are generated per exchange and absent from the base Exchange type.
type Implicit = (params: Record<string, unknown>) => Promise<unknown>;
const implicit = (exchange: Exchange, name: string): Implicit => {
  const method = (exchange as unknown as Record<string, Implicit | undefined>)[name];
  if (typeof method !== 'function') throw new Error(`ccxt ${exchange.id} has no ${name}`);
  return method.bind(exchange);
};

function num(x: unknown): number | null {
  if (typeof x !== 'number' && (typeof x !== 'string' || x.trim() === '')) return null;
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}

const positive = (x: unknown) => {
  const n = num(x);
  return n !== null && n > 0 ? n : null;
};

const text = (x: unknown) => (typeof x === 'string' && x !== '' ? x : typeof x === 'number' ? String(x) : null);
const lower = (x: unknown) => (typeof x === 'string' ? x.toLowerCase() : '');
const sideOf = (x: unknown): Side => (lower(x) === 'sell' ? 'sell' : 'buy');
const opposite = (side: Side): Side => (side === 'buy' ? 'sell' : 'buy');
const holdOf = (x: unknown): Hold | null => (lower(x) === 'long' ? 'long' : lower(x) === 'short' ? 'short' : null);
const info = (order: Order) => (order.info ?? {}) as Info;

/** A hedge-mode order that closes its own side (sell long, buy short) can only reduce that position. */
const closesItsSide = (row: Row) => row.positionSide !== null && (row.positionSide === 'long') === (row.side === 'sell');

/** The position a closing order acts on: its own side in hedge mode, else the one its side reduces. */
const closedPosition = (row: Row): Hold => row.positionSide ?? (row.side === 'sell' ? 'long' : 'short');

/** Contracts held per position side of `symbol`, for whole-position orders, which report no size of their own. */
async function held(exchange: Exchange, symbol: string): Promise<Map<Hold, number>> {
  const out = new Map<Hold, number>();
  for (const p of await exchange.fetchPositions([symbol])) {
    const contracts = Math.abs(num(p.contracts) ?? 0);
    if (p.symbol === symbol && contracts > 0) out.set(p.side === 'short' ? 'short' : 'long', contracts);
  }
  return out;
}

/**
 * Rows to what `Trader.openOrders` answers: amounts in the base currency,
 * a whole-position order sized at the position it closes now (0 with none).
 * Reduce-only, across exchanges: what the exchange flags so (reduceOnly,
 * closeOnTrigger, a TP/SL plan), a whole-position close, or a hedge-mode
 * close of its own side, which the exchange lets only shrink that side.
 */
async function inBase(exchange: Exchange, symbol: string, rows: Row[]): Promise<RestingOrder[]> {
  const market = exchange.market(symbol);
  requireBaseUnits(exchange, market);
  const positions = rows.some((r) => r.amount === null) ? await held(exchange, symbol) : new Map<Hold, number>();
  return rows.map((r) => ({
    id: r.id,
    clientOrderId: r.clientOrderId,
    symbol,
    side: r.side,
    amount: unitsToBase(market, r.amount ?? positions.get(closedPosition(r)) ?? 0),
    filled: unitsToBase(market, r.filled),
    price: r.price,
    trigger: r.trigger,
    reduceOnly: r.reduceOnly || r.amount === null || closesItsSide(r),
    positionSide: r.positionSide,
  }));
}

/** `cancel`, with the exchange's "not open any more" answers (matched on ccxt's error text, which carries the body) as `false`. */
async function cancelling(gone: RegExp, cancel: () => Promise<unknown>): Promise<boolean> {
  try {
    await cancel();
    return true;
  } catch (error) {
    if (gone.test(error instanceof Error ? error.message : String(error))) return false;
    throw error;
  }
}

const mine = (symbol: string) => (o: Order) => o.symbol === symbol;

// Binance (USD-M and spot) ------------------------------------------------------------------------

/** Binance order types by what they protect: STOP* and TRAILING_STOP_MARKET stop a loss, TAKE_PROFIT* take a profit. */
function binanceKind(type: string): Kind | undefined {
  if (/^TAKE_PROFIT/.test(type)) return 'take_profit';
  if (/^(STOP|TRAILING_STOP)/.test(type)) return 'stop_loss';
  return undefined;
}

/** A regular order (openOrders) or an algo order (openAlgoOrders) of Binance, spot or USD-M. */
function binanceRow(order: Order, algo: boolean): Row {
  const i = info(order);
  const type = String(i['orderType'] ?? i['type'] ?? '');
  const kind = binanceKind(type);
  // A spot stop order is in openOrders before and after it triggers; untriggered, its workingTime is -1.
  const untriggered = algo || (kind !== undefined && (num(i['workingTime']) ?? -1) < 0);
  const triggerAt = positive(i['triggerPrice']) ?? positive(i['stopPrice']) ?? positive(i['activatePrice']) ?? 0;
  return {
    id: String(order.id),
    clientOrderId: text(i['clientAlgoId'] ?? i['clientOrderId']),
    side: sideOf(i['side']),
    amount: i['closePosition'] === true ? null : (num(i['quantity'] ?? i['origQty']) ?? 0),
    filled: num(i['executedQty']) ?? 0,
    price: positive(i['price']),
    trigger: untriggered && kind !== undefined ? { kind, price: triggerAt } : null,
    reduceOnly: i['reduceOnly'] === true,
    positionSide: holdOf(i['positionSide']),
  };
}

/**
 * Binance: regular orders in openOrders; on USD-M, stop-loss and
 * take-profit orders are conditional algo orders (since 2025-12), listed
 * by openAlgoOrders and cancelled by DELETE /fapi/v1/algoOrder (ccxt's
 * `trigger` param picks both). Gone: -2011 "Unknown order sent." (what
 * cancelling a filled, cancelled or unknown order answers), -2013 "Order
 * does not exist.".
 */
function binance(usdm: boolean): RestingOrders {
  const gone = /-2011\b[^}]*Unknown order sent|"code"\s*:\s*-2013\b/i;
  return {
    async list(exchange, symbol) {
      const [regular, algos] = await Promise.all([
        exchange.fetchOpenOrders(symbol),
        usdm ? exchange.fetchOpenOrders(symbol, undefined, undefined, { trigger: true }) : Promise.resolve([]),
      ]);
      const rows = [...regular.filter(mine(symbol)).map((o) => binanceRow(o, false)), ...algos.filter(mine(symbol)).map((o) => binanceRow(o, true))];
      return inBase(exchange, symbol, rows);
    },
    cancel: (exchange, order) => cancelling(gone, () => exchange.cancelOrder(order.id, order.symbol, usdm && order.trigger ? { trigger: true } : {})),
  };
}

// OKX ---------------------------------------------------------------------------------------------

/**
 * One OKX order: a regular one (orders-pending) or an algo one. A
 * conditional or OCO algo carries a stop-loss trigger, a take-profit
 * trigger or both (an OCO): each is listed as a leg of its own under the
 * algo's id, and cancelling either cancels the algo. A `trigger` algo has
 * no kind. OKX sizes are contracts; closeFraction=1 closes the position.
 */
function okxRows(order: Order, algo: boolean): Row[] {
  const i = info(order);
  const base: Row = {
    id: String(order.id),
    clientOrderId: text(algo ? i['algoClOrdId'] : i['clOrdId']),
    side: sideOf(i['side']),
    amount: algo && i['closeFraction'] === '1' ? null : (num(i['sz']) ?? 0),
    filled: algo ? 0 : (num(i['accFillSz']) ?? 0),
    price: algo ? positive(i['ordPx']) : positive(i['px']),
    trigger: null,
    reduceOnly: i['reduceOnly'] === 'true' || i['reduceOnly'] === true,
    positionSide: holdOf(i['posSide']),
  };
  if (!algo) return [base];
  const legs: Row[] = [];
  const sl = positive(i['slTriggerPx']);
  const tp = positive(i['tpTriggerPx']);
  const plain = positive(i['triggerPx']);
  if (sl !== null) legs.push({ ...base, price: positive(i['slOrdPx']), trigger: { kind: 'stop_loss', price: sl } });
  if (tp !== null) legs.push({ ...base, price: positive(i['tpOrdPx']), trigger: { kind: 'take_profit', price: tp } });
  if (legs.length === 0 && plain !== null) legs.push({ ...base, trigger: { kind: null, price: plain } });
  return legs;
}

/**
 * OKX: orders-pending for regular orders; orders-algo-pending for algo
 * orders, which ccxt asks for with ordType `trigger` only unless told:
 * `conditional,oco` (the one pair OKX takes in a request) and `trigger`
 * apart. Cancel: cancel-order, or cancel-algos for an algo (ccxt's
 * `trigger` param). Gone: sCode 51400 "Order cancellation failed as the
 * order has been filled, canceled or does not exist." (51401 / 51402, its
 * older split), 51416 "Order has been triggered and can't be canceled";
 * https://www.okx.com/docs-v5/en/#error-code-rest-api-public.
 */
const okx: RestingOrders = {
  async list(exchange, symbol) {
    const algos = (ordType: string) => exchange.fetchOpenOrders(symbol, undefined, undefined, { trigger: true, ordType });
    const [regular, stops, triggers] = await Promise.all([exchange.fetchOpenOrders(symbol), algos('conditional,oco'), algos('trigger')]);
    const rows = [...regular.filter(mine(symbol)).flatMap((o) => okxRows(o, false)), ...[...stops, ...triggers].filter(mine(symbol)).flatMap((o) => okxRows(o, true))];
    return inBase(exchange, symbol, rows);
  },
  cancel: (exchange, order) =>
    cancelling(/"(?:sCode|code)"\s*:\s*"(?:5140[012]|51416)"/, () => exchange.cancelOrder(order.id, order.symbol, order.trigger ? { trigger: true } : {})),
};

// Bybit -------------------------------------------------------------------------------------------

const BYBIT_KINDS: Readonly<Record<string, Kind>> = {
  TakeProfit: 'take_profit',
  PartialTakeProfit: 'take_profit',
  StopLoss: 'stop_loss',
  PartialStopLoss: 'stop_loss',
  TrailingStop: 'stop_loss',
};

/**
 * One Bybit v5 order row. Untriggered conditional orders are listed with
 * the rest; position TP/SL orders name their kind (stopOrderType), a plain
 * conditional order (`Stop`) that only reduces is a stop-loss when it fires
 * against the position (a sell on a fall, triggerDirection 2; a buy on a
 * rise, 1) and a take-profit otherwise. A Full-mode TP/SL has qty 0: the
 * whole position. positionIdx 1 / 2 are hedge mode's long and short.
 */
function bybitRow(i: Info): Row {
  const side = sideOf(i['side']);
  const reduceOnly = i['reduceOnly'] === true || i['closeOnTrigger'] === true;
  const type = String(i['stopOrderType'] ?? '');
  const direction = num(i['triggerDirection']);
  let kind: Kind = BYBIT_KINDS[type] ?? null;
  if (type === 'Stop' && reduceOnly && (direction === 1 || direction === 2)) kind = (direction === 2) === (side === 'sell') ? 'stop_loss' : 'take_profit';
  const untriggered = i['orderStatus'] === 'Untriggered';
  const qty = num(i['qty']) ?? 0;
  const idx = num(i['positionIdx']);
  return {
    id: String(i['orderId']),
    clientOrderId: text(i['orderLinkId']),
    side,
    amount: untriggered && qty === 0 ? null : qty,
    filled: num(i['cumExecQty']) ?? 0,
    price: positive(i['price']),
    trigger: untriggered ? { kind, price: positive(i['triggerPrice']) ?? 0 } : null,
    reduceOnly,
    positionSide: idx === 1 ? 'long' : idx === 2 ? 'short' : null,
  };
}

/**
 * Bybit: `/v5/order/realtime` lists open orders of every kind on a unified
 * account (regular, conditional, TP/SL), 50 a page at most and 20 unless
 * asked, so it is paged here by cursor; ccxt's fetchOpenOrders takes one
 * default page. Cancel: `/v5/order/cancel` for every kind (orderFilter is
 * for spot only). Gone: 110001 "Order does not exist", 110008 "Order has
 * been finished or canceled", 110010 "Order already cancelled"
 * (bybit-exchange/docs docs/v5/error.mdx).
 */
const bybit: RestingOrders = {
  async list(exchange, symbol) {
    const market = exchange.market(symbol);
    const category = market.linear ? 'linear' : market.inverse ? 'inverse' : 'spot';
    const realtime = implicit(exchange, 'privateGetV5OrderRealtime');
    const rows: Row[] = [];
    let cursor = '';
    do {
      const answer = (await realtime({ category, symbol: String(market.id), limit: 50, ...(cursor ? { cursor } : {}) })) as { result?: { list?: unknown; nextPageCursor?: unknown } };
      const list = Array.isArray(answer.result?.list) ? (answer.result.list as Info[]) : [];
      rows.push(...list.filter((i) => i['symbol'] === market.id).map(bybitRow));
      cursor = list.length > 0 ? (text(answer.result?.nextPageCursor) ?? '') : '';
    } while (cursor);
    return inBase(exchange, symbol, rows);
  },
  cancel: (exchange, order) => cancelling(/"retCode"\s*:\s*110(?:001|008|010)\b/, () => exchange.cancelOrder(order.id, order.symbol)),
};

// Bitget ------------------------------------------------------------------------------------------

const BITGET_KINDS: Readonly<Record<string, Kind>> = {
  loss_plan: 'stop_loss',
  pos_loss: 'stop_loss',
  moving_plan: 'stop_loss',
  profit_plan: 'take_profit',
  pos_profit: 'take_profit',
};

/** The plan types orders-plan-pending is asked for: every TP/SL kind at once (`profit_loss`), and trigger orders. */
const BITGET_PLAN_QUERIES = ['profit_loss', 'normal_plan'] as const;

/**
 * One Bitget v2 order or plan row. In hedge mode Bitget names the position's
 * direction in `side` and tells a close by tradeSide=close (close long:
 * buy + close), so a close is turned round to the side it trades; a TP/SL
 * plan always closes the position it protects (posSide), and is reduce-only
 * by its planType. pos_profit / pos_loss have no size: the whole position.
 */
function bitgetRow(order: Order, plan: boolean): Row {
  const i = info(order);
  const hedge = i['posMode'] === 'hedge_mode';
  const positionSide = hedge ? holdOf(i['posSide']) : null;
  const planType = String(i['planType'] ?? '');
  const tpsl = plan && planType in BITGET_KINDS;
  const closing = tpsl || i['reduceOnly'] === 'YES' || (hedge && i['tradeSide'] === 'close');
  let side = sideOf(i['side']);
  if (tpsl && positionSide) side = positionSide === 'long' ? 'sell' : 'buy';
  else if (hedge && closing) side = opposite(side);
  return {
    id: String(order.id),
    clientOrderId: text(i['clientOid']),
    side,
    amount: plan && (planType === 'pos_profit' || planType === 'pos_loss') ? null : (num(i['size']) ?? 0),
    filled: plan ? 0 : (num(i['baseVolume']) ?? 0),
    price: positive(plan ? i['executePrice'] : i['price']),
    trigger: plan ? { kind: BITGET_KINDS[planType] ?? null, price: positive(i['triggerPrice']) ?? 0 } : null,
    reduceOnly: closing,
    positionSide,
  };
}

/** ccxt's product type for the market (USDT-FUTURES, or its demo name in sandbox mode); not in the base Exchange type. */
function bitgetProductType(exchange: Exchange, symbol: string): string {
  const of = (exchange as unknown as { handleProductTypeAndParams(m: unknown, p: object): [string, object] }).handleProductTypeAndParams;
  return of.call(exchange, exchange.market(symbol), {})[0];
}

/**
 * Bitget: regular orders through ccxt; plan orders (stop-loss, take-profit,
 * trigger) by orders-plan-pending with a planType, which ccxt passes
 * through. Cancel a regular order through ccxt; a plan order needs its own
 * planType on cancel-plan-order (normal_plan unless named, no profit_loss
 * there), which ccxt does not send, and a plan that is not live comes back
 * in failureList under code 00000, which ccxt reads as cancelled: the plan
 * is looked up and cancelled here. Gone: 40768 "Order does not exist",
 * 43001 "The order does not exist", 40109 (not found), 43025 "Plan order
 * does not exist" (ccxt's table of Bitget's codes), or a failureList entry.
 */
const bitget: RestingOrders = {
  async list(exchange, symbol) {
    const plans = BITGET_PLAN_QUERIES.map((planType) => exchange.fetchOpenOrders(symbol, undefined, undefined, { trigger: true, planType }));
    const [regular, ...planned] = await Promise.all([exchange.fetchOpenOrders(symbol), ...plans]);
    const rows = [...regular.filter(mine(symbol)).map((o) => bitgetRow(o, false)), ...planned.flat().filter(mine(symbol)).map((o) => bitgetRow(o, true))];
    return inBase(exchange, symbol, rows);
  },
  async cancel(exchange, order) {
    const gone = /"code"\s*:\s*"(?:40768|43001|40109|43025)"/;
    if (!order.trigger) return cancelling(gone, () => exchange.cancelOrder(order.id, order.symbol));
    const productType = bitgetProductType(exchange, order.symbol);
    const marketId = String(exchange.market(order.symbol).id);
    const pending = implicit(exchange, 'privateMixGetV2MixOrderOrdersPlanPending');
    let planType: string | undefined;
    for (const query of BITGET_PLAN_QUERIES) {
      const answer = (await pending({ planType: query, productType, symbol: marketId, orderId: order.id })) as { data?: { entrustedList?: unknown } };
      const list = Array.isArray(answer.data?.entrustedList) ? (answer.data.entrustedList as Info[]) : [];
      planType = text(list.find((row) => String(row['orderId']) === order.id)?.['planType']) ?? undefined;
      if (planType) break;
    }
    if (!planType) return false;
    const cancelPlan = implicit(exchange, 'privateMixPostV2MixOrderCancelPlanOrder');
    const request = { symbol: marketId, productType, marginCoin: exchange.market(order.symbol).settleId, planType, orderIdList: [{ orderId: order.id }] };
    let succeeded: Info[] = [];
    const answered = await cancelling(gone, async () => {
      const answer = (await cancelPlan(request)) as { data?: { successList?: unknown } };
      if (Array.isArray(answer.data?.successList)) succeeded = answer.data.successList as Info[];
    });
    return answered && succeeded.some((row) => String(row['orderId']) === order.id);
  },
};

/** By plain ccxt, for exchanges without an entry: what fetchOpenOrders lists, cancelled by id; OrderNotFound is "gone". */
const byCcxt: RestingOrders = {
  async list(exchange, symbol) {
    const orders = (await exchange.fetchOpenOrders(symbol)).filter(mine(symbol));
    const rows = orders.map((o): Row => {
      const triggerAt = positive(o.triggerPrice);
      const kind: Kind = o.stopLossPrice ? 'stop_loss' : o.takeProfitPrice ? 'take_profit' : null;
      return {
        id: String(o.id),
        clientOrderId: o.clientOrderId ?? null,
        side: sideOf(o.side),
        amount: num(o.amount) ?? 0,
        filled: num(o.filled) ?? 0,
        price: positive(o.price),
        trigger: triggerAt === null ? null : { kind, price: triggerAt },
        reduceOnly: o.reduceOnly === true,
        positionSide: null,
      };
    });
    return inBase(exchange, symbol, rows);
  },
  async cancel(exchange, order) {
    try {
      await exchange.cancelOrder(order.id, order.symbol, order.trigger ? { trigger: true } : {});
      return true;
    } catch (error) {
      const notFound = loadedCcxt()?.OrderNotFound;
      if (notFound && error instanceof notFound) return false;
      throw error;
    }
  },
};

const SEAMS: Readonly<Record<string, RestingOrders>> = { binanceusdm: binance(true), binance: binance(false), okx, bybit, bitget };

export function restingOrders(exchangeId: string): RestingOrders {
  return SEAMS[exchangeId] ?? byCcxt;
}
