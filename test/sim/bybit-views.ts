import {
  type Account,
  type BookOrder,
  type BybitBook,
  fmt,
  fmtPrice,
  fmtQty,
  MAINT_RATE,
  positionKey,
  splitKey,
} from './bybit-book.js';
import { LINEAR_MARKETS, linearMarket, type LinearMarket } from './bybit-markets.js';
import type { SimOrderView, SimPositionView } from './exchange-sim.js';

/**
 * JSON answers of Bybit v5, field for field as the docs list them (numbers
 * as strings, "" for absent values, integers where Bybit sends integers),
 * because ccxt's parsers read exactly these keys.
 */

const market = (id: string) => linearMarket(id) as LinearMarket;
const priceOr = (m: LinearMarket, x: number | null, empty = '') => (x === null ? empty : fmtPrice(m, x));

/** One row of `/v5/order/realtime` and `/v5/order/history`. */
export function orderRow(o: BookOrder): Record<string, unknown> {
  const m = market(o.symbol);
  const a = o.attached;
  const avg = o.cumExecQty > 0 ? o.cumExecValue / o.cumExecQty : null;
  const leaves = ['New', 'PartiallyFilled', 'Untriggered', 'Triggered'].includes(o.status) ? o.qty - o.cumExecQty : 0;
  return {
    orderId: o.orderId,
    orderLinkId: o.orderLinkId,
    parentOrderLinkId: o.parentOrderLinkId,
    blockTradeId: '',
    symbol: o.symbol,
    price: priceOr(m, o.price, '0'),
    qty: fmtQty(m, o.qty),
    side: o.side,
    isLeverage: '',
    positionIdx: o.positionIdx,
    orderStatus: o.status,
    createType: o.createType,
    cancelType: o.status === 'Cancelled' || o.status === 'Deactivated' ? (o.rejectReason === 'EC_PerCancelRequest' ? 'CancelByUser' : 'CancelByReduceOnly') : 'UNKNOWN',
    rejectReason: o.rejectReason,
    avgPrice: avg === null ? '' : fmtPrice(m, avg),
    leavesQty: fmtQty(m, leaves),
    leavesValue: fmt(leaves * (o.price ?? 0), 8),
    cumExecQty: fmtQty(m, o.cumExecQty),
    cumExecValue: fmt(o.cumExecValue, 8),
    cumExecFee: fmt(o.cumExecFee, 8),
    timeInForce: o.timeInForce,
    orderType: o.orderType,
    stopOrderType: o.stopOrderType,
    orderIv: '',
    marketUnit: '',
    triggerPrice: priceOr(m, o.triggerPrice, '0'),
    takeProfit: a?.takeProfit ? fmtPrice(m, a.takeProfit) : '0',
    stopLoss: a?.stopLoss ? fmtPrice(m, a.stopLoss) : '0',
    tpslMode: a ? a.tpslMode : o.stopOrderType.startsWith('Partial') ? 'Partial' : o.stopOrderType === '' || o.stopOrderType === 'Stop' ? '' : 'Full',
    ocoTriggerBy: '',
    tpLimitPrice: a?.tpLimitPrice ? fmtPrice(m, a.tpLimitPrice) : '0',
    slLimitPrice: a?.slLimitPrice ? fmtPrice(m, a.slLimitPrice) : '0',
    tpTriggerBy: a?.takeProfit ? a.tpTriggerBy : '',
    slTriggerBy: a?.stopLoss ? a.slTriggerBy : '',
    triggerDirection: o.triggerDirection,
    triggerBy: o.triggerBy,
    lastPriceOnCreated: fmtPrice(m, o.lastPriceOnCreated),
    basePrice: '',
    reduceOnly: o.reduceOnly,
    closeOnTrigger: o.closeOnTrigger,
    placeType: '',
    smpType: 'None',
    smpGroup: 0,
    smpOrderId: '',
    createdTime: String(o.createdTime),
    updatedTime: String(o.updatedTime),
    cumFeeDetail: o.cumExecFee > 0 ? { USDT: fmt(o.cumExecFee, 8) } : {},
  };
}

function positionRow(book: BybitBook, account: Account, m: LinearMarket, idx: 0 | 1 | 2) {
  const key = positionKey(m.id, idx);
  const p = account.positions.get(key);
  const mark = book.mark(m.id);
  const leverage = book.leverageOf(account, m.id, idx);
  const size = Math.abs(p?.amount ?? 0);
  const liq = p ? book.liquidationPrice(account, key) : 0;
  const entry = p?.entry ?? 0;
  const im = (size * mark) / leverage;
  // Bankruptcy: where the position's initial margin is gone.
  const bust = p ? (p.amount > 0 ? entry * (1 - 1 / leverage) : entry * (1 + 1 / leverage)) : 0;
  return {
    positionIdx: idx,
    riskId: 1,
    riskLimitValue: m.id === 'BTCUSDT' ? '2000000' : '900000',
    symbol: m.id,
    side: !p ? '' : p.amount > 0 ? 'Buy' : 'Sell',
    size: fmtQty(m, size),
    avgPrice: p ? fmt(entry, 8) : '0',
    positionValue: p ? fmt(size * entry, 8) : '',
    tradeMode: 0,
    positionStatus: 'Normal',
    autoAddMargin: 0,
    adlRankIndicator: p ? 2 : 0,
    leverage: String(leverage),
    positionBalance: p ? fmt(im, 8) : '0',
    markPrice: fmtPrice(m, mark),
    liqPrice: liq > 0 && liq < Number(m.maxPrice) ? fmtPrice(m, liq) : '',
    bustPrice: p ? fmtPrice(m, Math.max(0, bust)) : '',
    positionIM: p ? fmt(im, 8) : '0',
    positionMM: p ? fmt(size * mark * MAINT_RATE, 8) : '0',
    tpslMode: 'Full',
    takeProfit: p?.takeProfit ? fmtPrice(m, p.takeProfit) : '0',
    stopLoss: p?.stopLoss ? fmtPrice(m, p.stopLoss) : '0',
    trailingStop: '0',
    sessionAvgPrice: '',
    unrealisedPnl: p ? fmt((mark - entry) * p.amount, 8) : '0',
    curRealisedPnl: p ? fmt(p.realised, 8) : '0',
    cumRealisedPnl: fmt(account.cumRealised, 8),
    seq: p ? p.updatedTime : -1,
    isReduceOnly: false,
    mmrSysUpdatedTime: '',
    leverageSysUpdatedTime: '',
    createdTime: String(p?.createdTime ?? 0),
    updatedTime: String(p?.updatedTime ?? 0),
  };
}

/**
 * `/v5/position/list` rows: with a symbol, that symbol's row(s) whether or
 * not a position is held (two in hedge mode); by settleCoin, only sizes > 0.
 */
export function positionRows(book: BybitBook, account: Account, symbol: string | undefined): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const m of LINEAR_MARKETS) {
    if (symbol && m.id !== symbol) continue;
    const idxs: Array<0 | 1 | 2> = book.mode(account, m.id) === 'hedge' ? [1, 2] : [0];
    for (const idx of idxs) {
      if (!symbol && !account.positions.has(positionKey(m.id, idx))) continue;
      rows.push(positionRow(book, account, m, idx));
    }
  }
  return rows;
}

/** `/v5/account/wallet-balance?accountType=UNIFIED`: the USDT coin and the account totals. */
export function walletBalance(book: BybitBook, account: Account): Record<string, unknown> {
  const upl = book.unrealized(account);
  const positionIM = book.positionIM(account);
  const orderIM = book.orderIM(account);
  const mm = book.positionMM(account);
  const equity = account.wallet + upl;
  const initial = positionIM + orderIM;
  return {
    list: [
      {
        accountType: 'UNIFIED',
        accountIMRate: equity > 0 ? fmt(initial / equity, 4) : '0',
        accountMMRate: equity > 0 ? fmt(mm / equity, 4) : '0',
        accountLTV: '0',
        totalEquity: fmt(equity, 8),
        totalWalletBalance: fmt(account.wallet, 8),
        totalMarginBalance: fmt(equity, 8),
        totalAvailableBalance: fmt(equity - initial, 8),
        totalPerpUPL: fmt(upl, 8),
        totalInitialMargin: fmt(initial, 8),
        totalMaintenanceMargin: fmt(mm, 8),
        coin: [
          {
            coin: 'USDT',
            equity: fmt(equity, 8),
            usdValue: fmt(equity, 8),
            walletBalance: fmt(account.wallet, 8),
            free: '',
            locked: '0',
            spotHedgingQty: '0',
            borrowAmount: '0',
            // Deprecated for UNIFIED accounts (2025): Bybit answers "" here.
            availableToWithdraw: '',
            availableToBorrow: '',
            accruedInterest: '0',
            totalOrderIM: fmt(orderIM, 8),
            totalPositionIM: fmt(positionIM, 8),
            totalPositionMM: fmt(mm, 8),
            unrealisedPnl: fmt(upl, 8),
            cumRealisedPnl: fmt(account.cumRealised, 8),
            bonus: '0',
            marginCollateral: true,
            collateralSwitch: true,
            spotBorrow: '0',
          },
        ],
      },
    ],
  };
}

/** `/v5/market/tickers?category=linear`: every price is the one settable mark. */
export function tickerRows(book: BybitBook, symbol: string | undefined, now: number): Record<string, unknown>[] {
  return LINEAR_MARKETS.filter((m) => !symbol || m.id === symbol).map((m) => {
    const p = fmtPrice(m, book.mark(m.id));
    return {
      symbol: m.id,
      lastPrice: p,
      indexPrice: p,
      markPrice: p,
      prevPrice24h: p,
      price24hPcnt: '0',
      highPrice24h: p,
      lowPrice24h: p,
      prevPrice1h: p,
      openInterest: '0',
      openInterestValue: '0',
      turnover24h: '0',
      volume24h: '0',
      fundingRate: '0.0001',
      nextFundingTime: String(Math.ceil(now / 28_800_000) * 28_800_000),
      predictedDeliveryPrice: '',
      basisRate: '',
      deliveryFeeRate: '',
      deliveryTime: '0',
      ask1Size: m.minOrderQty,
      bid1Price: p,
      ask1Price: fmtPrice(m, book.mark(m.id) + Number(m.tickSize)),
      bid1Size: m.minOrderQty,
      basis: '',
    };
  });
}

/** `/v5/user/query-api` for a unified (UTA) key with trade permissions. */
export function apiKeyInfo(book: BybitBook, account: Account, now: number): Record<string, unknown> {
  return {
    id: String(book.uids.get(account.apiKey) ?? 0),
    note: 'tradectl-sim',
    apiKey: account.apiKey,
    readOnly: 0,
    secret: '',
    permissions: { ContractTrade: ['Order', 'Position'], Spot: ['SpotTrade'], Wallet: ['AccountTransfer'], Options: ['OptionsTrade'], Derivatives: ['DerivativesTrade'], CopyTrading: [], BlockTrade: [], Exchange: [], NFT: [], Affiliate: [], Earn: [] },
    ips: ['*'],
    type: 1,
    deadlineDay: 90,
    expiredAt: new Date(now + 90 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    createdAt: '2025-01-02T03:04:05Z',
    unified: 0,
    uta: 1,
    userID: book.uids.get(account.apiKey) ?? 0,
    inviterID: 0,
    vipLevel: 'No VIP',
    mktMakerLevel: '0',
    affiliateID: 0,
    rsaPublicKey: '',
    isMaster: true,
    parentUid: '0',
    kycLevel: 'LEVEL_DEFAULT',
    kycRegion: '',
  };
}

/** `/v5/account/info`: unifiedMarginStatus 5 is UTA 2.0, what a new account gets. */
export function accountInfo(account: Account): Record<string, unknown> {
  return {
    marginMode: account.marginMode,
    updatedTime: '0',
    unifiedMarginStatus: 5,
    dcpStatus: 'OFF',
    timeWindow: 10,
    smpGroup: 0,
    isMasterTrader: false,
    spotHedgingStatus: 'OFF',
  };
}

function viewType(o: BookOrder): SimOrderView['type'] {
  if (o.stopOrderType === 'TakeProfit' || o.stopOrderType === 'PartialTakeProfit') return 'take_profit';
  if (o.stopOrderType === 'StopLoss' || o.stopOrderType === 'PartialStopLoss') return 'stop_loss';
  if (o.stopOrderType === 'Stop' && o.reduceOnly) {
    // A reduce-only trigger that fires on a move against the position is its stop-loss.
    const againstLong = o.side === 'Sell' && o.triggerDirection === 2;
    const againstShort = o.side === 'Buy' && o.triggerDirection === 1;
    return againstLong || againstShort ? 'stop_loss' : 'take_profit';
  }
  return o.orderType === 'Market' ? 'market' : 'limit';
}

function viewStatus(o: BookOrder): SimOrderView['status'] {
  switch (o.status) {
    case 'Untriggered':
      return 'open';
    case 'New':
      return o.triggerPrice !== null ? 'triggered' : 'open';
    case 'Triggered':
      return 'triggered';
    case 'PartiallyFilled':
      return 'partially_filled';
    case 'Filled':
      return 'filled';
    case 'Rejected':
      return 'rejected';
    default:
      return 'canceled';
  }
}

export function simOrderView(book: BybitBook, o: BookOrder): SimOrderView {
  const m = market(o.symbol);
  const hedge = o.positionIdx !== 0;
  return {
    account: o.account,
    symbol: m.symbol,
    id: o.orderId,
    clientOrderId: o.orderLinkId,
    side: o.side === 'Buy' ? 'buy' : 'sell',
    type: viewType(o),
    status: viewStatus(o),
    // Bybit linear quantities are base coin already; a Full TP/SL before it fires covers the whole position.
    amount: o.qty === 0 && o.stopOrderType !== '' ? null : o.qty,
    filled: o.cumExecQty,
    average: o.cumExecQty > 0 ? o.cumExecValue / o.cumExecQty : null,
    price: o.price,
    triggerPrice: o.triggerPrice,
    reduceOnly: o.reduceOnly,
    positionSide: hedge ? (o.positionIdx === 1 ? 'long' : 'short') : null,
    parentId: o.parentId,
    createdAt: o.createdTime,
  };
}

export function simPositionViews(book: BybitBook, account: Account): SimPositionView[] {
  return [...account.positions.entries()].map(([key, p]) => {
    const [symbol, idx] = splitKey(key);
    return {
      account: account.apiKey,
      symbol: market(symbol).symbol,
      side: p.amount > 0 ? 'long' : 'short',
      amount: Math.abs(p.amount),
      entryPrice: p.entry,
      leverage: book.leverageOf(account, symbol, idx),
      marginMode: account.marginMode === 'ISOLATED_MARGIN' ? 'isolated' : 'cross',
    };
  });
}
