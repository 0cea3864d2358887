import type { Logger } from 'pino';
import type { ProtectionLeg } from '../core/client-order-id.js';
import type { AccountOrder, AccountResult, ExecuteBatch, Signal } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import { ExchangeFailure } from '../exchange/exchange-failure.js';
import { spotOnly } from '../exchange/market-types.js';
import type { TraderPool } from '../exchange/trader-pool.js';
import type { OrderSnapshot, Trader } from '../exchange/trader.js';
import { actionResultOf } from './action-result.js';
import { newActionProgress, type ActionProgress } from './action-progress.js';
import { placeLeg } from './entry-protection.js';
import { entryStatus, newProgress, resultOf, type AccountProgress } from './execute-progress.js';
import { cancelResting, closePositions, tradectlProtection, updateProtection } from './position-actions.js';
import { withDeadline, type Limiter } from './limiter.js';
import type { SymbolTurns } from './symbol-turns.js';
import { lookup, resolveAmbiguous } from './order-calls.js';
import { foundReport, sizeEntry, type RequestPrices } from './sizing.js';

export interface ExecuteDeps {
  traders: TraderPool;
  /** Bounds how many accounts execute at once across all requests. */
  limiter: Limiter;
  /** Per-account budget, from the request's arrival to its answer. */
  accountTimeoutMs: number;
  /** Orders being worked on in this process, by exchange + account + client order id. */
  inFlight: Map<string, Promise<void>>;
  /** The order of different signals' work on one account's symbol (see `symbol-turns.ts`). */
  turns: SymbolTurns;
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
  // One ticker call per exchange and symbol for the request's node-sized accounts, however many there are.
  const run: RunDeps = { ...deps, prices: new Map() };
  return Promise.all(batch.accounts.map((account) => executeAccount(batch.signal, account, batch.retry, batch.protectOnly, run)));
}

/** What one request's work shares besides the node's dependencies. */
interface RunDeps extends ExecuteDeps {
  prices: RequestPrices;
}

/**
 * One account's work for a signal, whatever its action: run once its turn
 * comes, told to stop sending at the deadline, and answered from what it
 * had done by then.
 */
interface AccountJob {
  /** Waiting for an earlier request for the same orders on this node (true), or no longer (false). */
  afterEarlier(waiting: boolean): void;
  run(lookupFirst: boolean): Promise<void>;
  /** A bug escaped `run`: record it so the answer says so (ambiguous if an order may have been sent). */
  failed(error: ExchangeFailure): void;
  abandon(): void;
  readonly abandoned: boolean;
  phase(): string;
  timings(): { turnAt: number | undefined; entryDoneAt: number | undefined };
  markTurn(): void;
  result(latencyMs: number): AccountResult;
}

function openJob(signal: Signal, account: AccountOrder, protectOnly: boolean, deps: RunDeps): AccountJob {
  const progress = newProgress();
  return {
    afterEarlier: (waiting) => {
      progress.entryPhase = waiting ? 'after_earlier' : 'waiting';
    },
    run: (lookupFirst) => placeAll(signal, account, lookupFirst, progress, deps, protectOnly),
    failed: (error) => {
      if (progress.entryPhase === 'done') return;
      progress.failure = new ExchangeFailure(error.code, error.message, { ambiguous: progress.entryPhase === 'sending' });
      progress.entryPhase = 'done';
    },
    abandon: () => {
      progress.abandoned = true;
    },
    get abandoned() {
      return progress.abandoned;
    },
    phase: () => progress.entryPhase,
    timings: () => ({ turnAt: progress.turnAt, entryDoneAt: progress.entryDoneAt }),
    markTurn: () => {
      progress.turnAt = performance.now();
    },
    result: (latencyMs) => withMode(resultOf(account, progress, latencyMs), progress.positionMode),
  };
}

function withMode(result: AccountResult, mode: 'one_way' | 'hedge' | undefined): AccountResult {
  if (mode) result.position_mode = mode;
  return result;
}

function actionJob(signal: Signal, account: AccountOrder, protectOnly: boolean, deps: RunDeps): AccountJob {
  const progress = newActionProgress();
  return {
    afterEarlier: (waiting) => {
      progress.phase = waiting ? 'after_earlier' : 'waiting';
    },
    run: async (lookupFirst) => {
      await runAction(signal, account, lookupFirst, progress, deps, protectOnly);
      progress.phase = 'done';
    },
    failed: (error) => {
      // Steps record their own outcomes; what was not reached stays unreported.
      progress.failure ??= error;
      if (progress.phase !== 'working') progress.phase = 'done';
    },
    abandon: () => {
      progress.abandoned = true;
      if (progress.open) progress.open.abandoned = true;
    },
    get abandoned() {
      return progress.abandoned;
    },
    phase: () => progress.phase,
    timings: () => ({ turnAt: progress.turnAt, entryDoneAt: progress.open?.entryDoneAt ?? progress.entryDoneAt }),
    markTurn: () => {
      progress.turnAt = performance.now();
    },
    result: (latencyMs) => withMode(actionResultOf(signal, account, progress, latencyMs), progress.positionMode ?? progress.open?.positionMode),
  };
}

async function executeAccount(signal: Signal, account: AccountOrder, retry: boolean, protectOnly: boolean, deps: RunDeps): Promise<AccountResult> {
  const started = performance.now();
  const job = signal.action === 'open' ? openJob(signal, account, protectOnly, deps) : actionJob(signal, account, protectOnly, deps);
  // Every order of an action derives from this id, so one key covers them all.
  const key = `${account.exchange}|${account.credentials.fingerprint()}|${account.client_order_id}`;
  const earlier = deps.inFlight.get(key);
  // Taken on arrival, so that signals on one account's symbol are worked on in the order they came.
  // A protect-only resend reads what rests at its end, so nothing else on the symbol may run beside it.
  const turn = deps.turns.take(`${account.exchange}|${account.credentials.fingerprint()}|${signal.symbol}`, signal.action === 'open' && !protectOnly ? 'open' : 'action');
  let resting: AccountResult['resting_protection'];

  const work = (async () => {
    let lookupFirst = retry;
    await turn.ready;
    if (earlier) {
      job.afterEarlier(true);
      await earlier;
      job.afterEarlier(false);
      lookupFirst = true;
    }
    await deps.limiter.run(async () => {
      if (job.abandoned) return;
      job.markTurn();
      await job.run(lookupFirst);
      if (protectOnly && !job.abandoned && signal.action !== 'cancel') resting = await restingProtection(deps, account, signal.symbol);
    });
  })().catch((error: unknown) => {
    // The work records every exchange failure itself; reaching here is a bug.
    deps.logger.error({ err: normaliseError(error, account.credentials), account_id: account.account_id }, 'execute failed unexpectedly');
    job.failed(new ExchangeFailure('internal_error', 'internal error while executing this account'));
  });

  const tracked = work.finally(() => {
    turn.done();
    if (deps.inFlight.get(key) === tracked) deps.inFlight.delete(key);
  });
  deps.inFlight.set(key, tracked);

  const outcome = await withDeadline(work, deps.accountTimeoutMs);
  if (!outcome.done) {
    job.abandon();
    deps.logger.warn(
      { account_id: account.account_id, client_order_id: account.client_order_id, phase: job.phase() },
      'account_timeout reached; answering with what is known',
    );
  }
  const answeredAt = performance.now();
  const result = job.result(Math.round(answeredAt - started));
  if (resting) result.resting_protection = resting;
  const { turnAt, entryDoneAt } = job.timings();
  result.timings_ms = {
    queued: Math.round((turnAt ?? answeredAt) - started),
    exchange: turnAt !== undefined && entryDoneAt !== undefined ? Math.round(entryDoneAt - turnAt) : null,
  };
  return result;
}

/**
 * What a protect-only request leaves resting: every tradectl stop-loss and
 * take-profit on the symbol, read once at its end, so that the center can
 * tell which of the orders it has on record are gone (an answer lost, a stop
 * cancelled by hand). Undefined when the read fails: nothing is concluded.
 */
async function restingProtection(deps: ExecuteDeps, account: AccountOrder, symbol: string): Promise<AccountResult['resting_protection']> {
  try {
    const trader = await deps.traders.trader(account);
    return tradectlProtection(await trader.openOrders(symbol)).map(({ order, leg, side }) => ({
      position_side: side,
      leg,
      client_order_id: order.clientOrderId ?? '',
      order_id: order.id,
      amount: order.amount,
      trigger_price: (order.trigger as { price: number }).price,
    }));
  } catch (error) {
    deps.logger.warn({ err: normaliseError(error, account.credentials), account_id: account.account_id }, 'could not read the resting protection after a protect-only request');
    return undefined;
  }
}

/**
 * The actions other than open. A reverse closes the side opposite its new
 * one and opens the new side only once that close is complete: opening
 * against a position still there would net into it on a one-way account.
 */
async function runAction(signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: ActionProgress, deps: RunDeps, protectOnly: boolean): Promise<void> {
  let trader: Trader | undefined;
  try {
    if (signal.action !== 'cancel' && spotOnly(account.exchange)) {
      throw new ExchangeFailure('invalid_order', `${account.exchange} accounts hold coins, not positions: a ${signal.action} signal is for derivatives accounts (sell the coins with an open sell); nothing was placed`);
    }
    trader = await deps.traders.trader(account);
    if (signal.action === 'close' || signal.action === 'reduce') await closePositions(trader, signal, account, lookupFirst, progress, undefined, protectOnly);
    else if (signal.action === 'update_protection') await updateProtection(trader, signal, account, lookupFirst, progress);
    else if (signal.action === 'cancel') await cancelResting(trader, signal, account, progress);
    else if (signal.action === 'reverse') {
      const old: 'long' | 'short' = signal.side === 'buy' ? 'short' : 'long';
      await closePositions(trader, signal, account, lookupFirst, progress, [old], protectOnly);
      const incomplete = progress.closes.find((c) => !c.order || c.order.status === 'unknown' || entryStatus(c.order) !== 'filled');
      if (incomplete) {
        const why = incomplete.error?.message ?? `its close order is ${incomplete.order ? entryStatus(incomplete.order) : 'unanswered'}`;
        progress.notOpened = { code: incomplete.error?.code ?? 'exchange_error', message: `the ${old} position was not fully closed, so no ${old === 'long' ? 'short' : 'long'} was opened: ${why}` };
        return;
      }
      if (progress.abandoned) return;
      progress.open = newProgress();
      progress.open.turnAt = progress.turnAt;
      await placeAll(signal, account, lookupFirst, progress.open, deps, protectOnly);
    }
  } catch (error) {
    progress.failure = normaliseError(error, account.credentials);
  } finally {
    progress.positionMode = trader?.positionMode(signal.symbol) ?? undefined;
  }
}

async function placeAll(signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: AccountProgress, deps: RunDeps, protectOnly = false): Promise<void> {
  let trader: Trader;
  try {
    trader = await deps.traders.trader(account);
    // The margin mode first: on OKX the leverage is set per margin mode. A protect-only resend places no entry to set them for.
    // The account's own (its binding's) override the signal's.
    const marginMode = account.margin_mode ?? signal.margin_mode;
    const leverage = account.leverage ?? signal.leverage;
    if (marginMode !== undefined && !progress.abandoned && !protectOnly) await setMarginMode(trader, signal.symbol, marginMode, account);
    if (leverage !== undefined && !progress.abandoned && !protectOnly) await setLeverage(trader, signal.symbol, leverage, account);
  } catch (error) {
    progress.failure = normaliseError(error, account.credentials);
    progress.entryPhase = 'done';
    progress.entryDoneAt = performance.now();
    return;
  }

  const entry = await placeEntry(trader, signal, account, lookupFirst, progress, protectOnly, deps.prices);
  progress.entryDoneAt = performance.now();
  progress.positionMode = trader.positionMode(signal.symbol) ?? undefined;
  if (!entry) return;

  const legs: Array<[ProtectionLeg, number]> = [];
  if (signal.stop_loss !== undefined) legs.push(['stop_loss', signal.stop_loss]);
  if (signal.take_profit !== undefined) legs.push(['take_profit', signal.take_profit]);
  if (legs.length === 0) return;
  if (entry.filled <= 0) {
    for (const [leg] of legs) {
      progress.legs[leg] = {
        phase: 'done',
        positionSide: signal.side === 'buy' ? 'long' : 'short',
        triggerPrice: signal[leg] as number,
        replaces: [],
        canceled: [],
        error: { code: 'entry_not_filled', message: 'not placed: the entry has no fill yet; protect the position once it fills' },
      };
    }
    return;
  }
  const lookupLegs = lookupFirst || progress.deduplicated;
  await Promise.all(legs.map(([leg, price]) => placeLeg(trader, signal, account, entry, leg, price, lookupLegs, progress)));
}

async function setMarginMode(trader: Trader, symbol: string, mode: 'cross' | 'isolated', account: AccountOrder): Promise<void> {
  try {
    await trader.setMarginMode(symbol, mode);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    // Like a leverage change, a lost answer places no order.
    const code = failure.ambiguous ? 'exchange_unavailable' : failure.code;
    throw new ExchangeFailure(code, `could not set ${mode} margin: ${failure.message}`);
  }
}

async function setLeverage(trader: Trader, symbol: string, leverage: number, account: AccountOrder): Promise<void> {
  try {
    await trader.setLeverage(symbol, leverage);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    // A lost answer to a leverage change places no order, so it is a plain
    // failure here, never "unknown".
    const code = failure.ambiguous ? 'exchange_unavailable' : failure.code;
    throw new ExchangeFailure(code, `could not set leverage ${leverage}: ${failure.message}`);
  }
}

async function placeEntry(trader: Trader, signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: AccountProgress, protectOnly: boolean, prices: RequestPrices): Promise<OrderSnapshot | null> {
  try {
    // A resend looks its entry up before anything is sized: an order placed by an earlier attempt is never sized again.
    if (lookupFirst || protectOnly) {
      const existing = await lookup(trader, signal.symbol, account.client_order_id, false, account);
      if (existing) {
        if (account.sizing) progress.sizing = foundReport(account.sizing, existing.amount);
        progress.deduplicated = true;
        progress.entry = existing;
        progress.entryPhase = 'done';
        return existing;
      }
      if (protectOnly) throw new ExchangeFailure('order_not_found', `protect only: the exchange has no entry ${account.client_order_id}, so nothing was placed`);
    }
    if (progress.abandoned) return null;
    const { side } = signal;
    let amount = account.quantity;
    let price = signal.price;
    if (account.sizing) {
      const sized = await sizeEntry(trader, signal, account, account.sizing, prices);
      progress.sizing = sized.report;
      if (sized.refusal) throw sized.refusal;
      amount = sized.quantity;
      // A market order's reference: its minimum order value is checked at the price it was sized at.
      price ??= sized.price;
      if (progress.abandoned) return null;
    }
    // The schema requires both for an open and a reverse; this is the type's proof.
    if (side === undefined || amount === undefined) throw new ExchangeFailure('internal_error', 'an open needs a side and a quantity');
    progress.entryPhase = 'sending';
    let entry: OrderSnapshot;
    try {
      entry = await trader.placeOrder({
        symbol: signal.symbol,
        side,
        type: signal.order_type,
        amount,
        price,
        clientOrderId: account.client_order_id,
        reduceOnly: signal.reduce_only,
      });
    } catch (error) {
      const failure = normaliseError(error, account.credentials);
      entry = await resolveAmbiguous(trader, signal.symbol, account.client_order_id, false, account, failure);
      if (failure.duplicateClientId) progress.deduplicated = true;
      if (failure.duplicateClientId && account.sizing) progress.sizing = foundReport(account.sizing, entry.amount);
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
