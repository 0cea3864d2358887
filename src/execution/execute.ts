import type { Logger } from 'pino';
import { protectionOrderId, type ProtectionLeg } from '../core/client-order-id.js';
import type { AccountOrder, AccountResult, ExecuteBatch, Signal } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { TraderPool } from '../exchange/trader-pool.js';
import type { OrderSnapshot, Trader } from '../exchange/trader.js';
import { newProgress, resultOf, type AccountProgress, type LegProgress } from './execute-progress.js';
import { withDeadline, type Limiter } from './limiter.js';

export interface ExecuteDeps {
  traders: TraderPool;
  /** Bounds how many accounts execute at once across all requests. */
  limiter: Limiter;
  /** Per-account budget, from the request's arrival to its answer. */
  accountTimeoutMs: number;
  /** Orders being worked on in this process, by exchange + account + client order id. */
  inFlight: Map<string, Promise<void>>;
  logger: Logger;
}

/**
 * Places one signal on every account of a batch and answers one result per
 * account, in request order. The node's `/api/execute` route and the
 * center's in-process path both call this.
 *
 * Exactly-once: when the batch is a retry, when an earlier request for the
 * same order is still running here, or when the exchange says the client id
 * is taken, the order is looked up by client id and reported instead of
 * placed. An order request whose answer is lost is reported `unknown`.
 */
export async function execute(batch: ExecuteBatch, deps: ExecuteDeps): Promise<AccountResult[]> {
  return Promise.all(batch.accounts.map((account) => executeAccount(batch.signal, account, batch.retry, deps)));
}

async function executeAccount(signal: Signal, account: AccountOrder, retry: boolean, deps: ExecuteDeps): Promise<AccountResult> {
  const started = performance.now();
  const progress = newProgress();
  const key = `${account.exchange}|${account.credentials.fingerprint()}|${account.client_order_id}`;
  const earlier = deps.inFlight.get(key);

  const work = (async () => {
    let lookupFirst = retry;
    if (earlier) {
      progress.entryPhase = 'after_earlier';
      await earlier;
      progress.entryPhase = 'waiting';
      lookupFirst = true;
    }
    await deps.limiter.run(() => {
      if (progress.abandoned) return Promise.resolve();
      progress.turnAt = performance.now();
      return placeAll(signal, account, lookupFirst, progress, deps);
    });
  })().catch((error: unknown) => {
    // placeAll records every exchange failure itself; reaching here is a bug.
    deps.logger.error({ err: normaliseError(error, account.credentials), account_id: account.account_id }, 'execute failed unexpectedly');
    if (progress.entryPhase !== 'done') {
      progress.failure = new ExchangeFailure('internal_error', 'internal error while executing this account', {
        ambiguous: progress.entryPhase === 'sending',
      });
      progress.entryPhase = 'done';
    }
  });

  const tracked = work.finally(() => {
    if (deps.inFlight.get(key) === tracked) deps.inFlight.delete(key);
  });
  deps.inFlight.set(key, tracked);

  const outcome = await withDeadline(work, deps.accountTimeoutMs);
  if (!outcome.done) {
    progress.abandoned = true;
    deps.logger.warn(
      { account_id: account.account_id, client_order_id: account.client_order_id, phase: progress.entryPhase },
      'account_timeout reached; answering with what is known',
    );
  }
  const answeredAt = performance.now();
  const result = resultOf(account, progress, Math.round(answeredAt - started));
  const { turnAt, entryDoneAt } = progress;
  result.timings_ms = {
    queued: Math.round((turnAt ?? answeredAt) - started),
    exchange: turnAt !== undefined && entryDoneAt !== undefined ? Math.round(entryDoneAt - turnAt) : null,
  };
  return result;
}

async function placeAll(signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: AccountProgress, deps: ExecuteDeps): Promise<void> {
  let trader: Trader;
  try {
    trader = await deps.traders.trader(account);
    // The margin mode first: on OKX the leverage is set per margin mode.
    if (signal.margin_mode !== undefined && !progress.abandoned) await setMarginMode(trader, signal, account);
    if (signal.leverage !== undefined && !progress.abandoned) await setLeverage(trader, signal, account);
  } catch (error) {
    progress.failure = normaliseError(error, account.credentials);
    progress.entryPhase = 'done';
    progress.entryDoneAt = performance.now();
    return;
  }

  const entry = await placeEntry(trader, signal, account, lookupFirst, progress);
  progress.entryDoneAt = performance.now();
  if (!entry) return;

  const legs: Array<[ProtectionLeg, number]> = [];
  if (signal.stop_loss !== undefined) legs.push(['stop_loss', signal.stop_loss]);
  if (signal.take_profit !== undefined) legs.push(['take_profit', signal.take_profit]);
  if (legs.length === 0) return;
  if (entry.filled <= 0) {
    for (const [leg] of legs) {
      progress.legs[leg] = {
        phase: 'done',
        error: { code: 'entry_not_filled', message: 'not placed: the entry has no fill yet; protect the position once it fills' },
      };
    }
    return;
  }
  const lookupLegs = lookupFirst || progress.deduplicated;
  await Promise.all(legs.map(([leg, price]) => placeLeg(trader, signal, account, entry, leg, price, lookupLegs, progress)));
}

async function setMarginMode(trader: Trader, signal: Signal, account: AccountOrder): Promise<void> {
  try {
    await trader.setMarginMode(signal.symbol, signal.margin_mode as 'cross' | 'isolated');
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    // Like a leverage change, a lost answer places no order.
    const code = failure.ambiguous ? 'exchange_unavailable' : failure.code;
    throw new ExchangeFailure(code, `could not set ${signal.margin_mode} margin: ${failure.message}`);
  }
}

async function setLeverage(trader: Trader, signal: Signal, account: AccountOrder): Promise<void> {
  try {
    await trader.setLeverage(signal.symbol, signal.leverage as number);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    // A lost answer to a leverage change places no order, so it is a plain
    // failure here, never "unknown".
    const code = failure.ambiguous ? 'exchange_unavailable' : failure.code;
    throw new ExchangeFailure(code, `could not set leverage ${signal.leverage}: ${failure.message}`);
  }
}

/** Looks the order up; a failed lookup means we cannot know, so it is ambiguous. */
async function lookup(trader: Trader, symbol: string, clientOrderId: string, trigger: boolean, account: AccountOrder): Promise<OrderSnapshot | null> {
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
async function resolveAmbiguous(trader: Trader, symbol: string, clientOrderId: string, trigger: boolean, account: AccountOrder, failure: ExchangeFailure): Promise<OrderSnapshot> {
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

async function placeEntry(trader: Trader, signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: AccountProgress): Promise<OrderSnapshot | null> {
  try {
    if (lookupFirst) {
      const existing = await lookup(trader, signal.symbol, account.client_order_id, false, account);
      if (existing) {
        progress.deduplicated = true;
        progress.entry = existing;
        progress.entryPhase = 'done';
        return existing;
      }
    }
    if (progress.abandoned) return null;
    progress.entryPhase = 'sending';
    let entry: OrderSnapshot;
    try {
      entry = await trader.placeOrder({
        symbol: signal.symbol,
        side: signal.side,
        type: signal.order_type,
        amount: account.quantity,
        price: signal.price,
        clientOrderId: account.client_order_id,
        reduceOnly: signal.reduce_only,
      });
    } catch (error) {
      const failure = normaliseError(error, account.credentials);
      entry = await resolveAmbiguous(trader, signal.symbol, account.client_order_id, false, account, failure);
      if (failure.duplicateClientId) progress.deduplicated = true;
    }
    progress.entry = entry;
    progress.entryPhase = 'done';
    return entry;
  } catch (error) {
    progress.failure = normaliseError(error, account.credentials);
    progress.entryPhase = 'done';
    return null;
  }
}

async function placeLeg(
  trader: Trader,
  signal: Signal,
  account: AccountOrder,
  entry: OrderSnapshot,
  leg: ProtectionLeg,
  triggerPrice: number,
  lookupFirst: boolean,
  progress: AccountProgress,
): Promise<void> {
  const state: LegProgress = { phase: 'pending' };
  progress.legs[leg] = state;
  const clientOrderId = protectionOrderId(account.client_order_id, leg);
  try {
    if (lookupFirst) {
      const existing = await lookup(trader, signal.symbol, clientOrderId, true, account);
      if (existing) {
        Object.assign(state, { phase: 'done', order: existing });
        return;
      }
    }
    if (progress.abandoned) return;
    state.phase = 'sending';
    let order: OrderSnapshot;
    try {
      order = await trader.placeOrder({
        symbol: signal.symbol,
        side: signal.side === 'buy' ? 'sell' : 'buy',
        type: 'market',
        amount: entry.filled,
        price: undefined,
        clientOrderId,
        reduceOnly: true,
        trigger: { kind: leg, price: triggerPrice },
      });
    } catch (error) {
      order = await resolveAmbiguous(trader, signal.symbol, clientOrderId, true, account, normaliseError(error, account.credentials));
    }
    Object.assign(state, { phase: 'done', order });
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    Object.assign(state, { phase: 'done', error: { code: failure.ambiguous ? 'unknown_outcome' : failure.code, message: failure.message } });
  }
}
