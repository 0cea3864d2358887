import { type Side, type SpotAccount, type SpotBook, type SpotOrder, EPS, isDormantStop, isOpen, MAKER_COMMISSION, r8, TAKER_COMMISSION } from './binance-spot-book.js';

/**
 * The simulator's matching engine: a book one price deep (the last price
 * the test sets), so a taker fills completely at that price and a resting
 * limit fills completely at its own price once the last price reaches it.
 */

export function marketable(side: Side, limit: number, last: number): boolean {
  return side === 'BUY' ? last <= limit + EPS : last >= limit - EPS;
}

/**
 * Binance spot trigger rule: STOP_LOSS(_LIMIT) fires for a SELL when the
 * price falls to the stop, for a BUY when it rises to it; TAKE_PROFIT(_LIMIT)
 * the other way round. The same rule, at placement, is "would trigger immediately".
 */
export function stopReached(type: string, side: Side, stop: number, last: number): boolean {
  const stopLoss = type.startsWith('STOP_LOSS');
  const falling = (side === 'SELL') === stopLoss;
  return falling ? last <= stop + EPS : last >= stop - EPS;
}

/**
 * Executes `qty` of an order at `price`: the spent asset comes out of the
 * order's lock (then free), the received asset is credited minus the
 * commission, which Binance takes in the asset received (BTC on a BTCUSDT
 * buy, USDT on a sell) unless BNB pays it.
 */
export function fill(book: SpotBook, account: SpotAccount, order: SpotOrder, qty: number, price: number, isMaker: boolean, now: number): void {
  const market = book.market(order.symbol);
  const rate = isMaker ? MAKER_COMMISSION : TAKER_COMMISSION;
  const quote = r8(qty * price);
  const lock = book.lockOf(account, order);
  let commission: number;
  let commissionAsset: string;
  if (order.side === 'BUY') {
    book.spend(account, market.quote, quote, lock);
    commission = r8(qty * rate);
    commissionAsset = market.base;
    book.credit(account, market.base, r8(qty - commission));
  } else {
    book.spend(account, market.base, qty, lock);
    commission = r8(quote * rate);
    commissionAsset = market.quote;
    book.credit(account, market.quote, r8(quote - commission));
  }
  order.fills.push({ price, qty, commission, commissionAsset, tradeId: book.newTradeId(), time: now, isMaker });
  order.executedQty = r8(order.executedQty + qty);
  order.cumQuote = r8(order.cumQuote + quote);
  order.status = order.executedQty + EPS >= order.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
  order.updateTime = now;
  account.updateTime = now;
  book.track(account, order);
  if (!isOpen(order)) finish(book, account, order, now);
}

/** Once an order is done its remaining lock goes back to free; an OCO whose leg is done ends. */
export function finish(book: SpotBook, account: SpotAccount, order: SpotOrder, now: number): void {
  const list = book.listOf(account, order);
  if (!list) {
    book.release(account, order.lock, now);
    return;
  }
  if (list.orderIds.every((id) => !account.open.has(id))) book.release(account, list.lock, now);
}

/**
 * One OCO leg activated (a stop fired, or the limit leg traded): Binance
 * expires the other leg at once and the list is ALL_DONE; the active leg
 * keeps drawing on the list's lock.
 */
export function activateLeg(book: SpotBook, account: SpotAccount, order: SpotOrder, now: number): void {
  const list = book.listOf(account, order);
  if (!list || list.listOrderStatus === 'ALL_DONE') return;
  for (const id of list.orderIds) {
    const sibling = account.open.get(id);
    if (!sibling || sibling === order) continue;
    sibling.status = 'EXPIRED';
    sibling.updateTime = now;
    book.track(account, sibling);
  }
  list.listStatusType = 'ALL_DONE';
  list.listOrderStatus = 'ALL_DONE';
  list.transactionTime = now;
  if (!isOpen(order)) book.release(account, list.lock, now);
}

/** A stop fires: it joins the book as a market (STOP_LOSS, TAKE_PROFIT) or limit (…_LIMIT) order. */
function trigger(book: SpotBook, account: SpotAccount, order: SpotOrder, last: number, now: number): void {
  order.workingTime = now;
  order.updateTime = now;
  if (order.orderListId >= 0) activateLeg(book, account, order, now);
  const remaining = r8(order.origQty - order.executedQty);
  if (!order.type.endsWith('_LIMIT')) fill(book, account, order, remaining, last, false, now);
  else if (marketable(order.side, order.price, last)) fill(book, account, order, remaining, last, false, now);
}

/**
 * The last price moved: every open order of the symbol reacts, oldest
 * first — resting limits the price reached fill as makers at their price,
 * dormant stops the price reached fire.
 */
export function reactToPrice(book: SpotBook, symbol: string, now: number): void {
  const last = book.mark(symbol);
  for (const account of book.accounts.values()) {
    const candidates = [...account.open.values()].filter((o) => o.symbol === symbol).sort((a, b) => a.orderId - b.orderId);
    for (const order of candidates) {
      if (!isOpen(order)) continue; // an OCO sibling that expired a moment ago
      if (isDormantStop(order)) {
        if (order.stopPrice !== undefined && stopReached(order.type, order.side, order.stopPrice, last)) trigger(book, account, order, last, now);
        continue;
      }
      if (order.type === 'MARKET' || !marketable(order.side, order.price, last)) continue;
      if (order.orderListId >= 0) activateLeg(book, account, order, now);
      fill(book, account, order, r8(order.origQty - order.executedQty), order.price, true, now);
    }
  }
}
