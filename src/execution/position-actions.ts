import { actionOrderId, orderIdKind, type ProtectionLeg } from '../core/client-order-id.js';
import type { ErrorBody } from '../core/error-codes.js';
import type { AccountOrder, Signal } from '../core/wire-execute.js';
import { normaliseError } from '../exchange/ccxt-errors.js';
import { ExchangeFailure } from '../exchange/exchange-failure.js';
import type { OrderSnapshot, RestingOrder, Trader } from '../exchange/trader.js';
import type { ActionProgress, CancelStep, CloseStep, PositionSide, ProtectionStep } from './action-progress.js';
import { placeOnce } from './order-calls.js';

/**
 * The actions on a position's life, for one account: close, reduce,
 * update_protection and cancel, and the close half of a reverse. The node is
 * stateless, so each reads the account's position and resting orders on the
 * symbol from the exchange first and acts on what it finds; every order it
 * places has a deterministic client id (`actionOrderId`), so a resend finds
 * it instead of placing it twice.
 *
 * Protective orders are tradectl's when their client id says so
 * (`orderIdKind`); orders placed by hand or by another tool are never
 * touched. A protective order belongs to the position side it closes: its
 * `positionSide` on a hedge-mode account, else the side its direction
 * closes (a sell protects a long).
 */

interface HeldPosition {
  side: PositionSide;
  /** Base currency. */
  size: number;
  mark: number | null;
}

interface AccountState {
  positions: HeldPosition[];
  resting: RestingOrder[];
}

const LEGS: readonly ProtectionLeg[] = ['stop_loss', 'take_profit'];
/** Relative slack when comparing sizes that went through decimal rounding. */
const SIZE_EPSILON = 1e-9;

const clean = (x: number) => Number(x.toPrecision(12));
const closingSide = (side: PositionSide): 'buy' | 'sell' => (side === 'long' ? 'sell' : 'buy');

function errorBody(error: unknown, account: AccountOrder): ErrorBody {
  const failure = normaliseError(error, account.credentials);
  return { code: failure.ambiguous ? 'unknown_outcome' : failure.code, message: failure.message };
}

async function readState(trader: Trader, symbol: string, account: AccountOrder): Promise<AccountState> {
  try {
    const [positions, resting] = await Promise.all([trader.fetchPositions([symbol]), trader.openOrders(symbol)]);
    return {
      positions: positions
        .filter((p) => p.symbol === symbol && p.contracts > 0)
        .map((p) => ({ side: p.side, size: clean(p.contracts * (p.contract_size ?? 1)), mark: p.mark_price })),
      resting,
    };
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    // Reads place nothing: a lost answer here is a plain failure, safe to resend.
    throw new ExchangeFailure(failure.ambiguous ? 'exchange_unavailable' : failure.code, `could not read the account's position and orders on ${symbol}: ${failure.message}; nothing was changed`);
  }
}

export function positionSideOf(order: RestingOrder): PositionSide {
  if (order.positionSide) return order.positionSide;
  // One-way mode: a protective (reduce-only) order closes the side opposite its direction; an entry opens its own.
  const closes = order.trigger !== null || order.reduceOnly;
  return (order.side === 'sell') === closes ? 'long' : 'short';
}

/** tradectl's stop-losses and take-profits resting on the symbol, each with the side it protects. */
export function tradectlProtection(resting: readonly RestingOrder[]): Array<{ order: RestingOrder; leg: ProtectionLeg; side: PositionSide }> {
  return resting.flatMap((o) => {
    const kind = orderIdKind(o.clientOrderId);
    return o.trigger !== null && (kind === 'stop_loss' || kind === 'take_profit') ? [{ order: o, leg: kind, side: positionSideOf(o) }] : [];
  });
}

/** tradectl's protective orders of `leg` on one position side. */
function protectionOf(resting: readonly RestingOrder[], side: PositionSide, leg: ProtectionLeg): RestingOrder[] {
  return resting.filter((o) => o.trigger !== null && orderIdKind(o.clientOrderId) === leg && positionSideOf(o) === side);
}

/** The position sides an action acts on: the one the signal names, else both. */
function sidesOf(signal: Signal): PositionSide[] {
  if (signal.position_side) return [signal.position_side];
  if (signal.side) return [signal.side === 'sell' ? 'long' : 'short'];
  return ['long', 'short'];
}

async function cancelOne(trader: Trader, order: RestingOrder, account: AccountOrder, progress: ActionProgress): Promise<CancelStep> {
  const kind = orderIdKind(order.clientOrderId) ?? 'entry';
  const step: CancelStep = { order, kind, positionSide: positionSideOf(order), phase: 'sending' };
  progress.canceled.push(step);
  if (progress.abandoned) {
    Object.assign(step, { phase: 'done', error: { code: 'timeout', message: 'not cancelled: account_timeout was reached first' } });
    return step;
  }
  try {
    step.gone = !(await trader.cancelOrder(order));
  } catch (error) {
    step.error = errorBody(error, account);
  }
  step.phase = 'done';
  return step;
}

/**
 * Places one protective order and then cancels what it replaces, so the
 * position is never without one. When the new one is refused, the old ones
 * stay (they may be larger than the position, but they are reduce-only and
 * protect it) and the step says why: an old stop is never cancelled before
 * its replacement exists.
 */
async function replaceProtection(trader: Trader, signal: Signal, account: AccountOrder, step: ProtectionStep, lookupFirst: boolean, progress: ActionProgress): Promise<void> {
  progress.protection.push(step);
  const request = {
    symbol: signal.symbol,
    side: closingSide(step.positionSide),
    type: 'market' as const,
    amount: step.amount,
    price: undefined,
    clientOrderId: step.clientOrderId,
    reduceOnly: true,
    trigger: { kind: step.leg, price: step.triggerPrice },
  };
  const send = () => {
    if (progress.abandoned) return false;
    step.phase = 'sending';
    return true;
  };
  let placed: OrderSnapshot | undefined;
  try {
    placed = (await placeOnce(trader, request, account, lookupFirst, send))?.order;
  } catch (error) {
    const body = errorBody(error, account);
    const kept = step.replaces.length > 0 ? `; the order${step.replaces.length > 1 ? 's' : ''} it would replace stay${step.replaces.length > 1 ? '' : 's'}` : '';
    Object.assign(step, { phase: 'done', error: { code: body.code, message: `${body.message}${kept}` } });
    return;
  }
  if (!placed) {
    Object.assign(step, { phase: 'done', error: { code: 'timeout', message: 'not placed: account_timeout was reached first; the orders it would replace stay' } });
    return;
  }
  Object.assign(step, { phase: 'done', order: placed });
  await Promise.all(step.replaces.map((o) => cancelOne(trader, o, account, progress)));
}

/**
 * Protection follows the position: after a close or a reduce, tradectl's
 * stop-losses and take-profits of that side may close no more than what is
 * left. Each leg's orders above the position are scaled down in proportion
 * (a new order of the smaller size, then the old one cancelled) or, once
 * nothing is left, cancelled. Orders already within the position stay.
 *
 * A resend must change nothing that was done: the replacements an earlier
 * attempt of this action placed are recognised by their ids (each derives
 * from the order it replaces), count towards what the leg may hold, and are
 * never replaced again; an old order whose replacement exists is only
 * cancelled; the others share what is left in proportion.
 */
async function followPosition(trader: Trader, signal: Signal, account: AccountOrder, side: PositionSide, remaining: number, resting: readonly RestingOrder[], lookupFirst: boolean, progress: ActionProgress): Promise<void> {
  await Promise.all(
    LEGS.map(async (leg) => {
      const mine = protectionOf(resting, side, leg);
      const total = mine.reduce((sum, o) => sum + o.amount, 0);
      if (mine.length === 0 || total <= remaining * (1 + SIZE_EPSILON)) return;
      const replacementId = (o: RestingOrder) => actionOrderId(account.client_order_id, leg, side, o.clientOrderId ?? o.id);
      const replacements = new Map(mine.map((o) => [replacementId(o), o] as const));
      const placedBefore = mine.filter((o) => o.clientOrderId !== null && replacements.has(o.clientOrderId));
      const old = mine.filter((o) => !placedBefore.includes(o));
      if (remaining <= 0) {
        await Promise.all(mine.map((o) => cancelOne(trader, o, account, progress)));
        return;
      }
      const done = old.filter((o) => placedBefore.some((p) => p.clientOrderId === replacementId(o)));
      await Promise.all(done.map((o) => cancelOne(trader, o, account, progress)));
      const rest = old.filter((o) => !done.includes(o));
      const share = remaining - placedBefore.reduce((sum, o) => sum + o.amount, 0);
      const restTotal = rest.reduce((sum, o) => sum + o.amount, 0);
      if (rest.length === 0 || restTotal <= share * (1 + SIZE_EPSILON)) return;
      for (const o of rest) {
        const amount = share > 0 ? clean((o.amount * share) / restTotal) : 0;
        if (amount <= 0) {
          await cancelOne(trader, o, account, progress);
          continue;
        }
        const step: ProtectionStep = {
          positionSide: side,
          leg,
          clientOrderId: replacementId(o),
          amount,
          triggerPrice: (o.trigger as { price: number }).price,
          replaces: [o],
          phase: 'pending',
        };
        await replaceProtection(trader, signal, account, step, lookupFirst, progress);
      }
    }),
  );
}

/** How much of a `size` position a close or a reduce closes. */
function closeAmount(signal: Signal, account: AccountOrder, size: number): number {
  if (signal.action !== 'reduce') return size;
  if (signal.close_fraction !== undefined) return clean(size * signal.close_fraction);
  return Math.min(size, account.quantity ?? size);
}

/**
 * close, reduce, and the first half of a reverse: one reduce-only market
 * order per position side, then that side's protection follows what is
 * left. `sides` overrides the signal's (a reverse closes the side opposite
 * its new one). Resolves to the sides whose outcome is known and complete.
 */
export async function closePositions(
  trader: Trader,
  signal: Signal,
  account: AccountOrder,
  lookupFirst: boolean,
  progress: ActionProgress,
  sides = sidesOf(signal),
  protectOnly = false,
): Promise<void> {
  progress.phase = 'reading';
  const state = await readState(trader, signal.symbol, account);
  progress.phase = 'working';
  await Promise.all(
    sides.map(async (side) => {
      const held = state.positions.find((p) => p.side === side);
      const clientOrderId = actionOrderId(account.client_order_id, 'close', side);
      let remaining = held?.size ?? 0;
      // A resend looks its close order up whether or not the position is still there: the earlier attempt may have closed it.
      if (held || lookupFirst || protectOnly) {
        const step: CloseStep = { positionSide: side, clientOrderId, before: held?.size ?? 0, phase: 'sending' };
        const record = () => {
          if (!progress.closes.includes(step)) progress.closes.push(step);
        };
        const amount = held ? closeAmount(signal, account, held.size) : 0;
        try {
          const placed = await placeOnce(
            trader,
            { symbol: signal.symbol, side: closingSide(side), type: 'market', amount, price: undefined, clientOrderId, reduceOnly: true },
            account,
            lookupFirst,
            () => {
              if (progress.abandoned || !held || protectOnly) return false;
              record();
              return true;
            },
          );
          // Not sent: the deadline passed (leave everything as it is), or a resend found no close order and there is no position.
          // Protect only: no close is placed; the protection follows the position as read.
          if (!placed && held && !protectOnly) return;
          if (placed) {
            record();
            Object.assign(step, { phase: 'done', order: placed.order, deduplicated: placed.deduplicated || undefined });
            // A close found on a resend already shows in the position read just now.
            if (!placed.deduplicated) remaining = clean(Math.max(0, (held?.size ?? 0) - placed.order.filled));
            if (placed.order.status === 'unknown') return;
          }
        } catch (error) {
          record();
          Object.assign(step, { phase: 'done', error: errorBody(error, account) });
          // Whether it closed anything is not known: leave the protection as it is.
          if (step.error?.code === 'unknown_outcome') return;
        }
      }
      await followPosition(trader, signal, account, side, remaining, state.resting, lookupFirst, progress);
    }),
  );
  if (progress.entryDoneAt === undefined) progress.entryDoneAt = performance.now();
}

/**
 * Stop-loss and/or take-profit moved to new prices for each position on the
 * symbol: a new order for the whole position first, then the leg's earlier
 * tradectl orders cancelled. A price on the wrong side of the mark (it
 * would trigger at once) changes nothing for that leg.
 */
export async function updateProtection(trader: Trader, signal: Signal, account: AccountOrder, lookupFirst: boolean, progress: ActionProgress): Promise<void> {
  progress.phase = 'reading';
  const state = await readState(trader, signal.symbol, account);
  progress.phase = 'working';
  const sides = signal.position_side ? [signal.position_side] : (['long', 'short'] as PositionSide[]);
  const legs: Array<[ProtectionLeg, number]> = [];
  if (signal.stop_loss !== undefined) legs.push(['stop_loss', signal.stop_loss]);
  if (signal.take_profit !== undefined) legs.push(['take_profit', signal.take_profit]);
  await Promise.all(
    state.positions
      .filter((p) => sides.includes(p.side))
      .flatMap((position) =>
        legs.map(async ([leg, price]) => {
          const clientOrderId = actionOrderId(account.client_order_id, leg, position.side);
          const step: ProtectionStep = {
            positionSide: position.side,
            leg,
            clientOrderId,
            amount: position.size,
            triggerPrice: price,
            replaces: protectionOf(state.resting, position.side, leg).filter((o) => o.clientOrderId !== clientOrderId),
            phase: 'pending',
          };
          const wrongSide = wrongSideOfMark(leg, position, price);
          if (wrongSide) {
            progress.protection.push(Object.assign(step, { phase: 'done' as const, replaces: [], error: { code: 'invalid_order' as const, message: wrongSide } }));
            return;
          }
          await replaceProtection(trader, signal, account, step, lookupFirst, progress);
        }),
      ),
  );
}

function wrongSideOfMark(leg: ProtectionLeg, position: HeldPosition, price: number): string | undefined {
  if (position.mark === null) return undefined;
  const below = price < position.mark;
  const mustBeBelow = (leg === 'stop_loss') === (position.side === 'long');
  if (below === mustBeBelow && price !== position.mark) return undefined;
  const where = mustBeBelow ? 'below' : 'above';
  return `${leg} ${price} must be ${where} the mark price ${position.mark} of the ${position.side} position (it would trigger at once); this leg was not changed`;
}

/** Resting tradectl entries and/or protection on the symbol, cancelled. */
export async function cancelResting(trader: Trader, signal: Signal, account: AccountOrder, progress: ActionProgress): Promise<void> {
  progress.phase = 'reading';
  let resting: RestingOrder[];
  try {
    resting = await trader.openOrders(signal.symbol);
  } catch (error) {
    const failure = normaliseError(error, account.credentials);
    throw new ExchangeFailure(failure.ambiguous ? 'exchange_unavailable' : failure.code, `could not read the account's orders on ${signal.symbol}: ${failure.message}; nothing was cancelled`);
  }
  progress.phase = 'working';
  const scope = signal.cancel ?? 'entries';
  const targets = resting.filter((o) => {
    const kind = orderIdKind(o.clientOrderId);
    if (kind === null || (signal.position_side && positionSideOf(o) !== signal.position_side)) return false;
    const protective = o.trigger !== null && (kind === 'stop_loss' || kind === 'take_profit');
    const entry = o.trigger === null && kind === 'entry';
    return scope === 'all' ? protective || entry : scope === 'protection' ? protective : entry;
  });
  await Promise.all(targets.map((o) => cancelOne(trader, o, account, progress)));
}
