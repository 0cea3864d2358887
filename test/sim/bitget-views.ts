import { type Account, type BitgetBook, isLive, type PlanOrder, type Position, type RegularOrder } from './bitget-book.js';
import { contractOf, fmt, fmtPrice, fmtSize, TAKER_FEE } from './bitget-markets.js';

/**
 * Bitget v2 USDT-M answers, field for field as Bitget sends them (numbers
 * as strings, times as millisecond strings), because ccxt's parsers read
 * exactly these keys. Shapes follow ccxt's recorded real answers where it
 * has them (order detail, positions, accounts) and Bitget's docs otherwise.
 */

const MAINT_RATE = 0.004;
const size = (symbol: string, x: number) => {
  const c = contractOf(symbol);
  return c ? fmtSize(c, x) : String(x);
};
const price = (symbol: string, x: number) => {
  const c = contractOf(symbol);
  return c ? fmtPrice(c, x) : String(x);
};

/** One-way orders say buy_single / sell_single where hedge orders say open / close. */
function tradeSideOf(o: RegularOrder): string {
  if (o.posMode === 'hedge_mode') return o.tradeSide ?? 'open';
  return `${o.side}_single`;
}

/** `GET /api/v2/mix/order/detail` and the entries of orders-pending / orders-history. */
export function orderView(o: RegularOrder): Record<string, unknown> {
  const quote = o.priceAvg === null ? 0 : o.filled * o.priceAvg;
  return {
    symbol: o.symbol,
    size: size(o.symbol, o.size),
    orderId: o.orderId,
    clientOid: o.clientOid,
    baseVolume: size(o.symbol, o.filled),
    fee: o.fee === 0 ? '0' : fmt(-o.fee, 8),
    price: o.price === null ? '' : price(o.symbol, o.price),
    priceAvg: o.priceAvg === null ? '' : price(o.symbol, o.priceAvg),
    // Bitget's docs table names this field `status`; the real answer (and its example) says `state`.
    state: o.state,
    side: o.side,
    force: o.force,
    totalProfits: fmt(o.profit, 8),
    posSide: o.posMode === 'hedge_mode' ? o.holdSide : 'net',
    marginCoin: 'USDT',
    presetStopSurplusPrice: o.presetStopSurplusPrice,
    presetStopLossPrice: o.presetStopLossPrice,
    quoteVolume: fmt(quote, 8),
    orderType: o.orderType,
    leverage: String(o.leverage),
    marginMode: o.marginMode,
    reduceOnly: o.reduceOnly ? 'YES' : 'NO',
    enterPointSource: 'API',
    tradeSide: tradeSideOf(o),
    posMode: o.posMode,
    orderSource: o.orderSource,
    cancelReason: o.state === 'canceled' ? 'normal_cancel' : '',
    cTime: String(o.cTime),
    uTime: String(o.uTime),
  };
}

/** Entries of orders-plan-pending / orders-plan-history. */
export function planView(p: PlanOrder, book: BitgetBook, history: boolean): Record<string, unknown> {
  const executed = history && p.executeOrderId ? book.accounts.get(p.account)?.orders.find((o) => o.orderId === p.executeOrderId) : undefined;
  const view: Record<string, unknown> = {
    planType: p.planType,
    symbol: p.symbol,
    size: p.size === null ? '' : size(p.symbol, p.size),
    orderId: p.orderId,
    clientOid: p.clientOid,
    price: p.executePrice === null ? '' : price(p.symbol, p.executePrice),
    executePrice: p.executePrice === null ? '0' : price(p.symbol, p.executePrice),
    callbackRatio: '',
    triggerPrice: price(p.symbol, p.triggerPrice),
    triggerType: p.triggerType,
    // Bitget's field description: a current plan order's status is always `live` (its example shows not_trigger).
    planStatus: p.planStatus,
    side: p.side,
    posSide: p.posMode === 'hedge_mode' ? p.holdSide : 'net',
    marginCoin: 'USDT',
    marginMode: p.marginMode,
    enterPointSource: 'API',
    tradeSide: p.tradeSide ?? '',
    posMode: p.posMode,
    orderType: p.executePrice === null ? 'market' : 'limit',
    orderSource: 'normal',
    cTime: String(p.cTime),
    uTime: String(p.uTime),
    stopSurplusExecutePrice: '',
    stopSurplusTriggerPrice: '',
    stopSurplusTriggerType: '',
    stopLossExecutePrice: '',
    stopLossTriggerPrice: '',
    stopLossTriggerType: '',
  };
  if (history) {
    view['executeOrderId'] = p.executeOrderId;
    view['priceAvg'] = executed?.priceAvg ? price(p.symbol, executed.priceAvg) : '';
    view['baseVolume'] = executed ? size(p.symbol, executed.filled) : '';
  }
  return view;
}

/** `GET /api/v2/mix/position/all-position` entries. */
export function positionView(book: BitgetBook, account: Account, p: Position): Record<string, unknown> {
  const mark = book.mark(p.symbol);
  const leverage = book.leverageOf(account, p.symbol);
  const margin = (p.entry * p.size) / leverage;
  const locked = book.lockedSize(account, p.symbol, p.holdSide);
  let openDelegate = 0;
  for (const o of account.orders) {
    if (isLive(o) && o.symbol === p.symbol && o.holdSide === p.holdSide && !o.reduceOnly && o.tradeSide !== 'close') openDelegate += o.size - o.filled;
  }
  const long = p.holdSide === 'long';
  // Cross margin with this position alone: the mark at which equity meets maintenance margin.
  const others = book.unrealized(account) - book.unrealizedOf(p);
  const balance = account.wallet + others;
  const liq = long ? (p.entry * p.size - balance) / (p.size * (1 - MAINT_RATE)) : (balance + p.entry * p.size) / (p.size * (1 + MAINT_RATE));
  const stop = account.plans.find((x) => x.planStatus === 'live' && x.planType === 'pos_loss' && x.symbol === p.symbol && x.holdSide === p.holdSide);
  const take = account.plans.find((x) => x.planStatus === 'live' && x.planType === 'pos_profit' && x.symbol === p.symbol && x.holdSide === p.holdSide);
  return {
    marginCoin: 'USDT',
    symbol: p.symbol,
    holdSide: p.holdSide,
    openDelegateSize: size(p.symbol, openDelegate),
    marginSize: fmt(margin, 8),
    available: size(p.symbol, Math.max(0, p.size - locked)),
    locked: size(p.symbol, locked),
    total: size(p.symbol, p.size),
    leverage: String(leverage),
    achievedProfits: fmt(p.achievedProfits, 8),
    openPriceAvg: price(p.symbol, p.entry),
    marginMode: book.marginModeOf(account, p.symbol),
    posMode: account.posMode,
    unrealizedPL: fmt(book.unrealizedOf(p), 8),
    liquidationPrice: liq > 0 ? price(p.symbol, liq) : '0',
    keepMarginRate: String(MAINT_RATE),
    markPrice: price(p.symbol, mark),
    marginRatio: fmt((p.size * mark * MAINT_RATE) / Math.max(account.wallet + book.unrealized(account), 1e-9), 12),
    breakEvenPrice: price(p.symbol, p.entry * (long ? 1 + 2 * TAKER_FEE : 1 - 2 * TAKER_FEE)),
    totalFee: '',
    deductedFee: fmt(p.fees, 8),
    takeProfit: take ? price(p.symbol, take.triggerPrice) : '',
    stopLoss: stop ? price(p.symbol, stop.triggerPrice) : '',
    takeProfitId: take?.orderId ?? '',
    stopLossId: stop?.orderId ?? '',
    assetMode: 'single',
    cTime: String(p.cTime),
    uTime: String(p.uTime),
  };
}

function equityFields(book: BitgetBook, account: Account) {
  const upl = book.unrealized(account);
  const used = book.positionMargin(account) + book.orderMargin(account);
  const equity = account.wallet + upl;
  const available = equity - used;
  // Unrealised profit cannot be transferred out; unrealised loss reduces what can.
  const transferable = Math.max(0, account.wallet + Math.min(upl, 0) - used);
  return { upl, equity, available, transferable, orderMargin: book.orderMargin(account), positionMargin: book.positionMargin(account) };
}

/** `GET /api/v2/mix/account/accounts?productType=USDT-FUTURES`. */
export function accountsView(book: BitgetBook, account: Account): unknown[] {
  const e = equityFields(book, account);
  const btc = book.mark('BTCUSDT');
  return [
    {
      marginCoin: 'USDT',
      locked: fmt(e.orderMargin, 8),
      available: fmt(e.available, 8),
      crossedMaxAvailable: fmt(e.available, 8),
      isolatedMaxAvailable: fmt(e.available, 8),
      maxTransferOut: fmt(e.transferable, 8),
      accountEquity: fmt(e.equity, 8),
      usdtEquity: fmt(e.equity, 12),
      btcEquity: fmt(btc > 0 ? e.equity / btc : 0, 12),
      crossedRiskRate: '0',
      unrealizedPL: fmt(e.upl, 8),
      coupon: '0',
      unionTotalMagin: fmt(e.equity, 8),
      unionAvailable: fmt(e.available, 8),
      unionMm: '0',
      assetList: [],
      isolatedMargin: '0',
      crossedMargin: fmt(e.positionMargin, 8),
      crossedUnrealizedPL: fmt(e.upl, 8),
      isolatedUnrealizedPL: '0',
      assetMode: 'single',
    },
  ];
}

/** `GET /api/v2/mix/account/account` (one symbol): the account plus its leverage, margin and position modes. */
export function accountView(book: BitgetBook, account: Account, symbol: string): Record<string, unknown> {
  const base = accountsView(book, account)[0] as Record<string, unknown>;
  const leverage = book.leverageOf(account, symbol);
  return {
    ...base,
    crossedMarginLeverage: leverage,
    isolatedLongLever: leverage,
    isolatedShortLever: leverage,
    marginMode: book.marginModeOf(account, symbol),
    posMode: account.posMode,
    grant: '',
  };
}

/** `GET /api/v2/spot/account/assets`: the SPOT wallet, which Bitget keeps apart from futures. */
export function spotAssetsView(account: Account, now: number): unknown[] {
  return [...account.spot.entries()]
    .filter(([, amount]) => amount > 0)
    .map(([coin, amount]) => ({ coin, available: fmt(amount, 8), limitAvailable: '0', frozen: '0.00000000', locked: '0.00000000', uTime: String(now) }));
}
