import { actionOrderId, protectionOrderId, type ProtectionLeg } from '../core/client-order-id.js';
import type { AccountOrder, Signal } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import type { OrderRequest, OrderSnapshot, RestingOrder, Trader } from '../exchange/trader.js';
import type { AccountProgress, LegProgress } from './execute-progress.js';
import { lookup, placeOnce, resolveAmbiguous } from './order-calls.js';

/**
 * An open's stop-loss and take-profit: reduce-only trigger orders for what
 * the entry filled, each with an id derived from the entry's. A resend finds
 * them by id, and grows one that an entry's later fills outgrew.
 */

export async function placeLeg(
  trader: Trader,
  signal: Signal,
  account: AccountOrder,
  entry: OrderSnapshot,
  leg: ProtectionLeg,
  triggerPrice: number,
  lookupFirst: boolean,
  progress: AccountProgress,
): Promise<void> {
  const positionSide = signal.side === 'buy' ? 'long' : 'short';
  const state: LegProgress = { phase: 'pending', positionSide, triggerPrice, replaces: [], canceled: [] };
  progress.legs[leg] = state;
  const clientOrderId = protectionOrderId(account.client_order_id, leg);
  try {
    if (lookupFirst) {
      const existing = await lookup(trader, signal.symbol, clientOrderId, true, account);
      if (existing) {
        // Cancelled: perhaps replaced by a larger one on an earlier resend (see growLeg), perhaps by hand.
        const outgrown = existing.status === 'canceled' || (existing.status === 'open' && entry.filled > (existing.amount ?? entry.filled) * (1 + SIZE_EPSILON));
        if (outgrown) await growLeg(trader, signal, account, entry, leg, existing, state, progress);
        else Object.assign(state, { phase: 'done', order: existing });
        return;
      }
    }
    if (progress.abandoned) return;
    state.phase = 'sending';
    let order: OrderSnapshot;
    try {
      order = await trader.placeOrder(legRequest(signal, clientOrderId, entry.filled, leg, triggerPrice));
    } catch (error) {
      order = await resolveAmbiguous(trader, signal.symbol, clientOrderId, true, account, normaliseError(error, account.credentials));
    }
    Object.assign(state, { phase: 'done', order });
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    Object.assign(state, { phase: 'done', error: { code: failure.ambiguous ? 'unknown_outcome' : failure.code, message: failure.message } });
  }
}

/** Relative slack when comparing sizes that went through decimal rounding. */
const SIZE_EPSILON = 1e-9;
/** How many times one entry's stop can be grown; a limit entry fills in far fewer pieces between the center's passes. */
const MAX_GROWTHS = 16;

function legRequest(signal: Signal, clientOrderId: string, amount: number, leg: ProtectionLeg, triggerPrice: number): OrderRequest {
  return {
    symbol: signal.symbol,
    side: signal.side === 'buy' ? 'sell' : 'buy',
    type: 'market',
    amount,
    price: undefined,
    clientOrderId,
    reduceOnly: true,
    trigger: { kind: leg, price: triggerPrice },
  };
}

/**
 * A resend of an open whose entry filled more since its stop-loss or
 * take-profit was placed (a limit entry that kept filling): the leg is
 * replaced by one for the whole fill, placed before the smaller one is
 * cancelled, so the position is never without it. Each replacement's id
 * derives from the one it replaces, so a resend finds the chain's live end
 * and never grows the same order twice. When nothing of the chain rests any
 * more (the stop fired, or was cancelled by hand or by a cancel signal),
 * nothing is placed.
 */
async function growLeg(trader: Trader, signal: Signal, account: AccountOrder, entry: OrderSnapshot, leg: ProtectionLeg, first: OrderSnapshot, state: LegProgress, progress: AccountProgress): Promise<void> {
  const chain = [protectionOrderId(account.client_order_id, leg)];
  while (chain.length <= MAX_GROWTHS) chain.push(actionOrderId(account.client_order_id, leg, state.positionSide, chain[chain.length - 1]));
  const rank = (o: RestingOrder) => chain.indexOf(o.clientOrderId ?? '');
  let resting: RestingOrder[];
  try {
    resting = await trader.openOrders(signal.symbol);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    Object.assign(state, { phase: 'done', order: first, error: { code: failure.ambiguous ? 'exchange_unavailable' : failure.code, message: `the entry filled more than its ${leg} covers, but the resting orders could not be read: ${failure.message}` } });
    return;
  }
  const live = resting.filter((o) => o.trigger !== null && rank(o) >= 0).sort((a, b) => rank(a) - rank(b));
  const current = live[live.length - 1];
  if (!current) {
    Object.assign(state, { phase: 'done', order: first });
    return;
  }
  const older = live.slice(0, -1);
  if (current.amount >= entry.filled * (1 - SIZE_EPSILON)) {
    // An earlier resend placed the replacement; what it replaced may still be there.
    Object.assign(state, { phase: 'done', order: snapshotOf(current), replaces: older });
    await cancelReplaced(trader, account, state);
    return;
  }
  const request = (id: string) => legRequest(signal, id, entry.filled, leg, (current.trigger as { price: number }).price);
  const beforeSend = () => {
    if (progress.abandoned) return false;
    state.phase = 'sending';
    return true;
  };
  for (let at = rank(current) + 1; at < chain.length; at++) {
    const placed = await placeOnce(trader, request(chain[at] as string), account, true, beforeSend);
    if (!placed) {
      Object.assign(state, { phase: 'done', order: snapshotOf(current), error: { code: 'timeout', message: `not grown to the ${entry.filled} filled: account_timeout was reached first; the smaller ${leg} stays` } });
      return;
    }
    const status = placed.order.status;
    if (status === 'open' || status === 'unknown') {
      // The replacement rests: only now may what it replaces go.
      Object.assign(state, { phase: 'done', order: placed.order, replaces: live });
      await cancelReplaced(trader, account, state);
      return;
    }
    if (status === 'closed') {
      // An earlier replacement fired: the position it protected is (partly) closed, so nothing is grown or cancelled here.
      Object.assign(state, { phase: 'done', order: snapshotOf(current), error: { code: 'exchange_error', message: `the larger ${leg} ${placed.order.id} placed earlier has triggered; the smaller one stays as it is` } });
      return;
    }
    // An id an earlier attempt used whose order no longer rests (cancelled by hand, or by the exchange) cannot be used again: the next one can.
  }
  Object.assign(state, { phase: 'done', order: snapshotOf(current), error: { code: 'invalid_order', message: `the ${leg} was grown ${MAX_GROWTHS} times already; it covers ${current.amount} of the ${entry.filled} filled` } });
}

/** Cancels what a grown leg replaced, once the replacement exists. */
async function cancelReplaced(trader: Trader, account: AccountOrder, state: LegProgress): Promise<void> {
  await Promise.all(
    state.replaces.map(async (order) => {
      try {
        state.canceled.push({ order, gone: !(await trader.cancelOrder(order)) });
      } catch (error) {
        const failure = normaliseError(error, account.credentials);
        state.canceled.push({ order, error: { code: failure.ambiguous ? 'unknown_outcome' : failure.code, message: failure.message } });
      }
    }),
  );
}

function snapshotOf(order: RestingOrder): OrderSnapshot {
  return { id: order.id, clientOrderId: order.clientOrderId, status: 'open', amount: order.amount, filled: order.filled, average: null, fee: null };
}
