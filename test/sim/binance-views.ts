import { type Account, type BinanceBook, type BookOrder, fmt, fmtPrice, fmtQty, MAINT_RATE, positionKey, type PositionSide, TAKER_FEE } from './binance-book.js';
import { marketOf, SIM_MARKETS, stepDecimals } from './binance-markets.js';

/**
 * JSON answers of Binance USD-M, field for field as the API documents them
 * (numbers as strings where Binance sends strings), because ccxt's parsers
 * read exactly these keys.
 */

function cumQuote(o: BookOrder): string {
  const market = marketOf(o.symbol);
  const digits = market ? stepDecimals(market.tickSize) + stepDecimals(market.stepSize) : 5;
  return fmt(Number(o.executedQty) * Number(o.avgPrice), digits);
}

function orderFields(o: BookOrder): Record<string, unknown> {
  return {
    orderId: o.orderId,
    symbol: o.symbol,
    status: o.status,
    clientOrderId: o.clientOrderId,
    price: o.price,
    avgPrice: o.avgPrice,
    origQty: o.origQty,
    executedQty: o.executedQty,
    cumQuote: cumQuote(o),
    timeInForce: o.timeInForce,
    type: o.type,
    reduceOnly: o.reduceOnly,
    closePosition: o.closePosition,
    side: o.side,
    positionSide: o.positionSide,
    stopPrice: '0',
    workingType: o.workingType,
    priceProtect: o.priceProtect,
    origType: o.type,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
  };
}

/** `POST /fapi/v1/order` with newOrderRespType=RESULT (ccxt always asks for it). */
export function newOrderView(o: BookOrder): Record<string, unknown> {
  return { ...orderFields(o), cumQty: o.executedQty, updateTime: o.updateTime };
}

/** newOrderRespType=ACK (Binance's default): the answer leaves before matching. */
export function ackView(o: BookOrder): Record<string, unknown> {
  return { ...newOrderView(o), status: 'NEW', executedQty: fmt(0, decimalsOf(o.origQty)), cumQty: fmt(0, decimalsOf(o.origQty)), cumQuote: '0', avgPrice: '0.00' };
}

/** `GET /fapi/v1/order`, `DELETE /fapi/v1/order`, `GET /fapi/v1/openOrders`, `GET /fapi/v1/allOrders`. */
export function orderView(o: BookOrder): Record<string, unknown> {
  return { ...orderFields(o), time: o.time, updateTime: o.updateTime };
}

function decimalsOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * Algo (conditional) order. The query answer adds `actualOrderId` and
 * `actualPrice`: the regular order a trigger placed and its price.
 */
export function algoView(o: BookOrder, book: BinanceBook, withActual: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    algoId: o.algoId,
    clientAlgoId: o.clientOrderId,
    algoType: 'CONDITIONAL',
    orderType: o.type,
    symbol: o.symbol,
    side: o.side,
    positionSide: o.positionSide,
    timeInForce: o.timeInForce,
    quantity: o.origQty,
    algoStatus: o.status,
  };
  if (withActual) {
    const actual = o.actualOrderId === undefined ? undefined : book.accounts.get(o.account)?.orders.find((x) => x.orderId === o.actualOrderId);
    view['actualOrderId'] = actual ? String(actual.orderId) : '';
    view['actualPrice'] = actual ? actual.avgPrice : '0.00000';
  }
  return Object.assign(view, {
    triggerPrice: o.triggerPrice ?? '0',
    price: o.price,
    icebergQuantity: null,
    ...(withActual ? { tpTriggerPrice: '0.000', tpPrice: '0.000', slTriggerPrice: '0.000', slPrice: '0.000', tpOrderType: '' } : {}),
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: o.workingType,
    priceMatch: 'NONE',
    closePosition: o.closePosition,
    priceProtect: o.priceProtect,
    reduceOnly: o.reduceOnly,
    createTime: o.time,
    updateTime: o.updateTime,
    triggerTime: o.actualOrderId === undefined ? 0 : o.updateTime,
    goodTillDate: 0,
  });
}

/**
 * One row per open position: per symbol in one-way mode (BOTH), per side in
 * hedge mode, where a SHORT side's positionAmt and notional are negative as
 * Binance sends them (Position Information V3) — ccxt reads the side from
 * that sign.
 */
function positionRows(book: BinanceBook, account: Account) {
  return [...account.positions.values()].map((p) => {
    const symbol = p.symbol;
    const market = SIM_MARKETS.find((m) => m.symbol === symbol);
    const mark = book.mark(symbol);
    const notional = p.amount * mark;
    const initial = Math.abs(notional) / book.leverageOf(account, symbol);
    // Open-order margin is the symbol's, shown on each of its rows.
    const openInitial = book.openOrderMargin(account, symbol);
    const liquidation = book.liquidationPrice(account, symbol, p.side);
    // An isolated position holds its own margin (what v3 readers, ccxt included, tell isolated from cross by); a cross one holds none.
    const isolated = account.marginType.get(symbol) === 'ISOLATED' ? fmt(initial + (mark - p.entry) * p.amount, 8) : '0';
    return {
      symbol,
      positionSide: p.side,
      positionAmt: market ? fmtQty(market, p.amount) : String(p.amount),
      entryPrice: fmt(p.entry, 8),
      // Break-even covers the taker fee paid to open and the one to close.
      breakEvenPrice: fmt(p.entry * (p.amount > 0 ? 1 + 2 * TAKER_FEE : 1 - 2 * TAKER_FEE), 8),
      markPrice: fmt(mark, 8),
      unRealizedProfit: fmt((mark - p.entry) * p.amount, 8),
      liquidationPrice: liquidation > 0 && market ? fmtPrice(market, liquidation) : '0',
      isolatedMargin: isolated,
      notional: fmt(notional, 8),
      marginAsset: 'USDT',
      isolatedWallet: isolated === '0' ? '0' : fmt(initial, 8),
      initialMargin: fmt(initial + openInitial, 8),
      maintMargin: fmt(Math.abs(notional) * MAINT_RATE, 8),
      positionInitialMargin: fmt(initial, 8),
      openOrderInitialMargin: fmt(openInitial, 8),
      adl: 1,
      bidNotional: '0',
      askNotional: '0',
      updateTime: p.updateTime,
    };
  });
}

/** `GET /fapi/v3/positionRisk`: only positions that are open (in hedge mode, only the sides that are). */
export function positionRiskView(book: BinanceBook, account: Account, symbol: string | null): unknown[] {
  return positionRows(book, account).filter((p) => !symbol || p.symbol === symbol);
}

/** `GET /fapi/v2/positionRisk`: every symbol, with leverage and margin type; in hedge mode a LONG and a SHORT row each. */
export function positionRiskV2View(book: BinanceBook, account: Account, symbol: string | null): unknown[] {
  const rows = new Map(positionRows(book, account).map((r) => [positionKey(r.symbol, r.positionSide), r]));
  const sides: PositionSide[] = account.dualSide ? ['LONG', 'SHORT'] : ['BOTH'];
  return SIM_MARKETS.filter((m) => !symbol || m.symbol === symbol).flatMap((m) => sides.map((side) => {
    const r = rows.get(positionKey(m.symbol, side));
    return {
      symbol: m.symbol,
      positionAmt: r?.positionAmt ?? fmtQty(m, 0),
      entryPrice: r?.entryPrice ?? '0.0',
      breakEvenPrice: r?.breakEvenPrice ?? '0.0',
      markPrice: fmt(book.mark(m.symbol), 8),
      unRealizedProfit: r?.unRealizedProfit ?? '0.00000000',
      liquidationPrice: r?.liquidationPrice ?? '0',
      leverage: String(book.leverageOf(account, m.symbol)),
      maxNotionalValue: '50000',
      marginType: account.marginType.get(m.symbol) === 'ISOLATED' ? 'isolated' : 'cross',
      isolatedMargin: '0.00000000',
      isAutoAddMargin: 'false',
      positionSide: side,
      notional: r?.notional ?? '0',
      isolatedWallet: '0',
      updateTime: r?.updateTime ?? 0,
    };
  }));
}

function usdtAsset(book: BinanceBook, account: Account, now: number) {
  const unrealized = book.unrealized(account);
  const available = book.available(account);
  const positionInitial = book.positionMargin(account);
  const openInitial = book.openOrderMargin(account);
  let maint = 0;
  for (const p of account.positions.values()) maint += Math.abs(p.amount * book.mark(p.symbol)) * MAINT_RATE;
  return {
    asset: 'USDT',
    walletBalance: fmt(account.wallet, 8),
    unrealizedProfit: fmt(unrealized, 8),
    marginBalance: fmt(account.wallet + unrealized, 8),
    maintMargin: fmt(maint, 8),
    initialMargin: fmt(positionInitial + openInitial, 8),
    positionInitialMargin: fmt(positionInitial, 8),
    openOrderInitialMargin: fmt(openInitial, 8),
    crossWalletBalance: fmt(account.wallet, 8),
    crossUnPnl: fmt(unrealized, 8),
    availableBalance: fmt(available, 8),
    maxWithdrawAmount: fmt(Math.max(0, Math.min(available, account.wallet)), 8),
    updateTime: now,
  };
}

/** `GET /fapi/v3/account` (v2 adds the trading flags): totals, assets, positions. */
export function accountView(book: BinanceBook, account: Account, now: number, v2: boolean): Record<string, unknown> {
  const usdt = usdtAsset(book, account, now);
  return {
    ...(v2 ? { feeTier: 0, feeBurn: false, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0, multiAssetsMargin: false, tradeGroupId: -1 } : {}),
    totalInitialMargin: usdt.initialMargin,
    totalMaintMargin: usdt.maintMargin,
    totalWalletBalance: usdt.walletBalance,
    totalUnrealizedProfit: usdt.unrealizedProfit,
    totalMarginBalance: usdt.marginBalance,
    totalPositionInitialMargin: usdt.positionInitialMargin,
    totalOpenOrderInitialMargin: usdt.openOrderInitialMargin,
    totalCrossWalletBalance: usdt.crossWalletBalance,
    totalCrossUnPnl: usdt.crossUnPnl,
    availableBalance: usdt.availableBalance,
    maxWithdrawAmount: usdt.maxWithdrawAmount,
    assets: [v2 ? { ...usdt, marginAvailable: true } : usdt],
    positions: positionRows(book, account).map((p) => ({
      symbol: p.symbol,
      positionSide: p.positionSide,
      positionAmt: p.positionAmt,
      unrealizedProfit: p.unRealizedProfit,
      isolatedMargin: '0',
      notional: p.notional,
      isolatedWallet: '0',
      initialMargin: p.initialMargin,
      maintMargin: p.maintMargin,
      updateTime: p.updateTime,
    })),
  };
}

/** `GET /fapi/v2/balance` and `/fapi/v3/balance`. */
export function balanceView(book: BinanceBook, account: Account, now: number): unknown[] {
  const usdt = usdtAsset(book, account, now);
  return [
    {
      accountAlias: 'SgsR',
      asset: 'USDT',
      balance: usdt.walletBalance,
      crossWalletBalance: usdt.crossWalletBalance,
      crossUnPnl: usdt.crossUnPnl,
      availableBalance: usdt.availableBalance,
      maxWithdrawAmount: usdt.maxWithdrawAmount,
      marginAvailable: true,
      updateTime: now,
    },
  ];
}

/** `GET /fapi/v1/leverageBracket`: Binance's first three notional brackets. */
export function leverageBracketView(symbols: string[]): unknown[] {
  return symbols.map((symbol) => {
    const top = marketOf(symbol)?.maxLeverage ?? 125;
    return {
      symbol,
      notionalCoef: 1.0,
      brackets: [
        { bracket: 1, initialLeverage: top, notionalCap: 50000, notionalFloor: 0, maintMarginRatio: MAINT_RATE, cum: 0.0 },
        { bracket: 2, initialLeverage: Math.round(top * 0.8), notionalCap: 600000, notionalFloor: 50000, maintMarginRatio: 0.005, cum: 50.0 },
        { bracket: 3, initialLeverage: Math.round(top * 0.6), notionalCap: 3000000, notionalFloor: 600000, maintMarginRatio: 0.0065, cum: 950.0 },
      ],
    };
  });
}

/** Public price endpoints, all derived from the one settable mark price. */
export function priceViews(book: BinanceBook, now: number) {
  const rows = SIM_MARKETS.map((m) => ({ m, mark: book.mark(m.symbol) }));
  return {
    premiumIndex: rows.map(({ m, mark }) => ({
      symbol: m.symbol,
      markPrice: fmt(mark, 8),
      indexPrice: fmt(mark, 8),
      estimatedSettlePrice: fmt(mark, 8),
      lastFundingRate: '0.00010000',
      interestRate: '0.00010000',
      nextFundingTime: Math.ceil(now / 28_800_000) * 28_800_000,
      time: now,
    })),
    price: rows.map(({ m, mark }) => ({ symbol: m.symbol, price: fmtPrice(m, mark), time: now })),
    bookTicker: rows.map(({ m, mark }) => ({
      symbol: m.symbol,
      bidPrice: fmtPrice(m, mark),
      bidQty: m.maxQty,
      askPrice: fmtPrice(m, mark + Number(m.tickSize)),
      askQty: m.maxQty,
      time: now,
    })),
    ticker24hr: rows.map(({ m, mark }) => ({
      symbol: m.symbol,
      priceChange: '0',
      priceChangePercent: '0.000',
      weightedAvgPrice: fmtPrice(m, mark),
      lastPrice: fmtPrice(m, mark),
      lastQty: m.minQty,
      openPrice: fmtPrice(m, mark),
      highPrice: fmtPrice(m, mark),
      lowPrice: fmtPrice(m, mark),
      volume: '0',
      quoteVolume: '0',
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: 0,
      lastId: 0,
      count: 0,
    })),
  };
}
