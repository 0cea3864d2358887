import { type OrderList, type SpotAccount, type SpotBook, type SpotOrder, f8, isOpen, MAKER_COMMISSION, STOP_TYPES, TAKER_COMMISSION } from './binance-spot-book.js';
import { SPOT_MARKETS } from './binance-spot-markets.js';
import type { RespType } from './binance-spot-orders.js';

/**
 * JSON answers of Binance spot, field for field as
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api documents
 * them: every amount an 8-decimal string, `orderListId` -1 outside a list,
 * `stopPrice` only on stop types, `workingTime` -1 for a stop not yet fired.
 */

/** The symbols' default STP mode (exchangeInfo `defaultSelfTradePreventionMode`). */
const STP = 'EXPIRE_MAKER';

const stop = (o: SpotOrder) => (STOP_TYPES.has(o.type) ? { stopPrice: f8(o.stopPrice ?? 0) } : {});

function core(o: SpotOrder) {
  return {
    price: f8(o.price),
    origQty: f8(o.origQty),
    executedQty: f8(o.executedQty),
    origQuoteOrderQty: f8(o.origQuoteOrderQty),
    cummulativeQuoteQty: f8(o.cumQuote),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    ...stop(o),
  };
}

export function ackView(o: SpotOrder): Record<string, unknown> {
  return { symbol: o.symbol, orderId: o.orderId, orderListId: o.orderListId, clientOrderId: o.clientOrderId, transactTime: o.time };
}

export function resultView(o: SpotOrder): Record<string, unknown> {
  return { ...ackView(o), ...core(o), workingTime: o.workingTime, selfTradePreventionMode: STP };
}

export function fullView(o: SpotOrder): Record<string, unknown> {
  return {
    ...resultView(o),
    fills: o.fills.map((f) => ({ price: f8(f.price), qty: f8(f.qty), commission: f8(f.commission), commissionAsset: f.commissionAsset, tradeId: f.tradeId })),
  };
}

export function newOrderView(o: SpotOrder, resp: RespType): Record<string, unknown> {
  return resp === 'ACK' ? ackView(o) : resp === 'RESULT' ? resultView(o) : fullView(o);
}

/** `GET /api/v3/order`, `/openOrders`, `/allOrders`. */
export function queryView(o: SpotOrder): Record<string, unknown> {
  const c = core(o);
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: o.clientOrderId,
    price: c.price,
    origQty: c.origQty,
    executedQty: c.executedQty,
    cummulativeQuoteQty: c.cummulativeQuoteQty,
    status: c.status,
    timeInForce: c.timeInForce,
    type: c.type,
    side: c.side,
    ...stop(o),
    icebergQty: f8(0),
    time: o.time,
    updateTime: o.updateTime,
    isWorking: isOpen(o) && o.workingTime !== -1,
    workingTime: o.workingTime,
    origQuoteOrderQty: c.origQuoteOrderQty,
    selfTradePreventionMode: STP,
  };
}

/** `DELETE /api/v3/order`: `clientOrderId` is the cancel's own id, `origClientOrderId` the order's. */
export function cancelView(o: SpotOrder, cancelId: string, now: number): Record<string, unknown> {
  return {
    symbol: o.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: cancelId,
    transactTime: now,
    ...core(o),
    selfTradePreventionMode: STP,
  };
}

/** An order list as `GET /api/v3/orderList` and `/openOrderList` show it; placement and cancel add `orderReports`. */
export function listView(list: OrderList, account: SpotAccount, reports?: (o: SpotOrder) => Record<string, unknown>): Record<string, unknown> {
  const legs = list.orderIds.map((id) => account.orders.find((o) => o.orderId === id) as SpotOrder);
  return {
    orderListId: list.orderListId,
    contingencyType: list.contingencyType,
    listStatusType: list.listStatusType,
    listOrderStatus: list.listOrderStatus,
    listClientOrderId: list.listClientOrderId,
    transactionTime: list.transactionTime,
    symbol: list.symbol,
    orders: legs.map((o) => ({ symbol: o.symbol, orderId: o.orderId, clientOrderId: o.clientOrderId })),
    ...(reports ? { orderReports: legs.map(reports) } : {}),
  };
}

/** `GET /api/v3/account`: commissions in basis points and as rates, and free / locked per asset. */
export function accountView(account: SpotAccount, omitZero: boolean): Record<string, unknown> {
  const bps = (rate: number) => Math.round(rate * 10_000);
  const balances = [...account.balances.entries()]
    .filter(([, b]) => !omitZero || b.free + b.locked > 0)
    .map(([asset, b]) => ({ asset, free: f8(b.free), locked: f8(b.locked) }));
  return {
    makerCommission: bps(MAKER_COMMISSION),
    takerCommission: bps(TAKER_COMMISSION),
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: f8(MAKER_COMMISSION), taker: f8(TAKER_COMMISSION), buyer: f8(0), seller: f8(0) },
    canTrade: true,
    canWithdraw: true,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: account.updateTime,
    accountType: 'SPOT',
    balances,
    permissions: ['SPOT'],
    uid: 354937868,
  };
}

/** `GET /api/v3/myTrades`: one row per fill. */
export function tradesView(account: SpotAccount, symbol: string, orderId: string | null): unknown[] {
  const rows: Array<Record<string, unknown> & { id: number }> = [];
  for (const o of account.orders) {
    if (o.symbol !== symbol || (orderId && String(o.orderId) !== orderId)) continue;
    for (const f of o.fills) {
      rows.push({
        symbol: o.symbol,
        id: f.tradeId,
        orderId: o.orderId,
        orderListId: o.orderListId,
        price: f8(f.price),
        qty: f8(f.qty),
        quoteQty: f8(f.price * f.qty),
        commission: f8(f.commission),
        commissionAsset: f.commissionAsset,
        time: f.time,
        isBuyer: o.side === 'BUY',
        isMaker: f.isMaker,
        isBestMatch: true,
      });
    }
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** Public price endpoints, all derived from the one settable last price. */
export function tickerViews(book: SpotBook, now: number) {
  const rows = SPOT_MARKETS.map((m) => ({ m, last: book.mark(m.symbol) }));
  return {
    price: rows.map(({ m, last }) => ({ symbol: m.symbol, price: f8(last) })),
    bookTicker: rows.map(({ m, last }) => ({ symbol: m.symbol, bidPrice: f8(last), bidQty: f8(1), askPrice: f8(last + Number(m.tickSize)), askQty: f8(1) })),
    avgPrice: rows.map(({ m, last }) => ({ symbol: m.symbol, mins: 5, price: f8(last), closeTime: now })),
    ticker24hr: rows.map(({ m, last }) => ({
      symbol: m.symbol,
      priceChange: f8(0),
      priceChangePercent: '0.000',
      weightedAvgPrice: f8(last),
      prevClosePrice: f8(last),
      lastPrice: f8(last),
      lastQty: f8(0),
      bidPrice: f8(last),
      bidQty: f8(1),
      askPrice: f8(last + Number(m.tickSize)),
      askQty: f8(1),
      openPrice: f8(last),
      highPrice: f8(last),
      lowPrice: f8(last),
      volume: f8(0),
      quoteVolume: f8(0),
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: -1,
      lastId: -1,
      count: 0,
    })),
  };
}
