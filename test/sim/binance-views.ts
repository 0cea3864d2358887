import type { BinanceBook, SimOrder } from './binance-book.js';
import { fmt } from './binance-book.js';

/** JSON shapes of Binance USD-M answers, field for field as documented. */

export function orderView(o: SimOrder): Record<string, unknown> {
  const cumQuote = Number(o.executedQty) * Number(o.avgPrice);
  return {
    orderId: o.orderId,
    symbol: o.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: o.price,
    avgPrice: o.avgPrice,
    origQty: o.origQty,
    executedQty: o.executedQty,
    cumQty: o.executedQty,
    cumQuote: fmt(cumQuote, 5),
    timeInForce: o.type === 'MARKET' ? 'GTC' : 'GTC',
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: false,
    side: o.side,
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: o.time,
    updateTime: o.updateTime,
  };
}

/** `POST /fapi/v1/order` with newOrderRespType=ACK answers before matching. */
export function ackView(o: SimOrder): Record<string, unknown> {
  return { ...orderView(o), status: 'NEW', executedQty: '0', cumQty: '0', cumQuote: '0', avgPrice: '0.00' };
}

export function algoView(o: SimOrder): Record<string, unknown> {
  return {
    algoId: o.algoId,
    clientAlgoId: o.clientOrderId,
    algoType: 'CONDITIONAL',
    orderType: o.type,
    symbol: o.symbol,
    side: o.side,
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: o.origQty,
    algoStatus: o.status,
    triggerPrice: o.triggerPrice,
    price: o.price,
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: false,
    priceProtect: false,
    reduceOnly: o.reduceOnly,
    createTime: o.time,
    updateTime: o.updateTime,
    triggerTime: o.status === 'FINISHED' ? o.updateTime : 0,
    goodTillDate: 0,
  };
}

type Account = NonNullable<ReturnType<BinanceBook['account']>>;

function positionRows(book: BinanceBook, account: Account, now: number) {
  return [...account.positions.entries()].map(([symbol, p]) => {
    const mark = book.marks.get(symbol) ?? p.entry;
    const leverage = account.leverage.get(symbol) ?? 20;
    const notional = p.amount * mark;
    const initial = Math.abs(notional) / leverage;
    return {
      symbol,
      positionSide: 'BOTH',
      positionAmt: fmt(p.amount, 3),
      entryPrice: fmt(p.entry, 8),
      breakEvenPrice: fmt(p.entry, 8),
      markPrice: fmt(mark, 8),
      unRealizedProfit: fmt((mark - p.entry) * p.amount, 8),
      liquidationPrice: '0',
      isolatedMargin: '0',
      notional: fmt(notional, 8),
      marginAsset: 'USDT',
      isolatedWallet: '0',
      initialMargin: fmt(initial, 8),
      maintMargin: fmt(Math.abs(notional) * 0.004, 8),
      positionInitialMargin: fmt(initial, 8),
      openOrderInitialMargin: '0',
      adl: 0,
      bidNotional: '0',
      askNotional: '0',
      updateTime: now,
    };
  });
}

/** `GET /fapi/v3/positionRisk`: positions that are not zero. */
export function positionRiskView(book: BinanceBook, account: Account, symbol: string | null, now: number): unknown[] {
  return positionRows(book, account, now).filter((p) => !symbol || p.symbol === symbol);
}

/** `GET /fapi/v3/account` (and v2): wallet, margin and positions. */
export function accountView(book: BinanceBook, account: Account, now: number): Record<string, unknown> {
  const unrealized = book.unrealized(account);
  const available = book.available(account);
  const positions = positionRows(book, account, now);
  const initial = positions.reduce((s, p) => s + Number(p.initialMargin), 0);
  const usdt = {
    asset: 'USDT',
    walletBalance: fmt(account.wallet, 8),
    unrealizedProfit: fmt(unrealized, 8),
    marginBalance: fmt(account.wallet + unrealized, 8),
    maintMargin: fmt(positions.reduce((s, p) => s + Number(p.maintMargin), 0), 8),
    initialMargin: fmt(initial, 8),
    positionInitialMargin: fmt(initial, 8),
    openOrderInitialMargin: '0.00000000',
    crossWalletBalance: fmt(account.wallet, 8),
    crossUnPnl: fmt(unrealized, 8),
    availableBalance: fmt(available, 8),
    maxWithdrawAmount: fmt(Math.max(0, available), 8),
    updateTime: now,
  };
  return {
    totalInitialMargin: usdt.initialMargin,
    totalMaintMargin: usdt.maintMargin,
    totalWalletBalance: usdt.walletBalance,
    totalUnrealizedProfit: usdt.unrealizedProfit,
    totalMarginBalance: usdt.marginBalance,
    totalPositionInitialMargin: usdt.positionInitialMargin,
    totalOpenOrderInitialMargin: '0.00000000',
    totalCrossWalletBalance: usdt.crossWalletBalance,
    totalCrossUnPnl: usdt.crossUnPnl,
    availableBalance: usdt.availableBalance,
    maxWithdrawAmount: usdt.maxWithdrawAmount,
    assets: [usdt],
    positions: positions.map((p) => ({
      symbol: p.symbol,
      positionSide: 'BOTH',
      positionAmt: p.positionAmt,
      unrealizedProfit: p.unRealizedProfit,
      isolatedMargin: '0',
      notional: p.notional,
      isolatedWallet: '0',
      initialMargin: p.initialMargin,
      maintMargin: p.maintMargin,
      updateTime: now,
    })),
  };
}

/** `GET /fapi/v2/balance` and v3. */
export function balanceView(book: BinanceBook, account: Account, now: number): unknown[] {
  const unrealized = book.unrealized(account);
  const available = book.available(account);
  return [
    {
      accountAlias: 'SgsR',
      asset: 'USDT',
      balance: fmt(account.wallet, 8),
      crossWalletBalance: fmt(account.wallet, 8),
      crossUnPnl: fmt(unrealized, 8),
      availableBalance: fmt(available, 8),
      maxWithdrawAmount: fmt(Math.max(0, available), 8),
      marginAvailable: true,
      updateTime: now,
    },
  ];
}

export function leverageBracketView(symbols: string[]): unknown[] {
  return symbols.map((symbol) => ({
    symbol,
    notionalCoef: 1.0,
    brackets: [
      { bracket: 1, initialLeverage: 125, notionalCap: 50000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0.0 },
      { bracket: 2, initialLeverage: 100, notionalCap: 600000, notionalFloor: 50000, maintMarginRatio: 0.005, cum: 50.0 },
      { bracket: 3, initialLeverage: 75, notionalCap: 3000000, notionalFloor: 600000, maintMarginRatio: 0.0065, cum: 950.0 },
    ],
  }));
}
