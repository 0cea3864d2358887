import type { AccountOrder } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { OrderRequest, OrderSnapshot, Trader } from '../exchange/trader.js';

/** Looks the order up; a failed lookup means we cannot know, so it is ambiguous. */
export async function lookup(trader: Trader, symbol: string, clientOrderId: string, trigger: boolean, account: AccountOrder): Promise<OrderSnapshot | null> {
  try {
    return await trader.findOrder(symbol, clientOrderId, trigger);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    throw new ExchangeFailure(failure.code, `could not check whether order ${clientOrderId} already exists: ${failure.message}`, {
      ambiguous: true,
    });
  }
}

/**
 * After an ambiguous answer, one lookup often settles it (the order did
 * land). "Not found" right away proves nothing, as the exchange may still be
 * processing it, so the original ambiguity stands.
 */
export async function resolveAmbiguous(
  trader: Trader,
  symbol: string,
  clientOrderId: string,
  trigger: boolean,
  account: AccountOrder,
  failure: ExchangeFailure,
): Promise<OrderSnapshot> {
  if (failure.duplicateClientId) {
    const existing = await lookup(trader, symbol, clientOrderId, trigger, account);
    if (existing) return existing;
    throw new ExchangeFailure('unknown_outcome', `the exchange says client order id ${clientOrderId} is taken but does not return it: ${failure.message}`, {
      ambiguous: true,
    });
  }
  if (failure.ambiguous) {
    const existing = await lookup(trader, symbol, clientOrderId, trigger, account).catch(() => null);
    if (existing) return existing;
  }
  throw failure;
}

export interface Placed {
  order: OrderSnapshot;
  /** It existed before this request (a resend, or the exchange's duplicate-id answer) and was reported, not placed. */
  deduplicated: boolean;
}

/**
 * Places `request` at most once across resends: looked up by its client id
 * first when `lookupFirst`, and a taken id or a lost answer is settled by a
 * lookup. `beforeSend` runs right before the request goes out, so a caller
 * can mark the moment from which the order may exist; returning false stops
 * (the account's deadline passed), and the promise resolves to `null`.
 */
export async function placeOnce(
  trader: Trader,
  request: OrderRequest,
  account: AccountOrder,
  lookupFirst: boolean,
  beforeSend: () => boolean = () => true,
): Promise<Placed | null> {
  const trigger = request.trigger !== undefined;
  if (lookupFirst) {
    const existing = await lookup(trader, request.symbol, request.clientOrderId, trigger, account);
    if (existing) return { order: existing, deduplicated: true };
  }
  if (!beforeSend()) return null;
  try {
    return { order: await trader.placeOrder(request), deduplicated: false };
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    const order = await resolveAmbiguous(trader, request.symbol, request.clientOrderId, trigger, account, failure);
    return { order, deduplicated: failure.duplicateClientId };
  }
}
