import { MysqlAdapter, type Insertable, type Kysely } from 'kysely';
import type { AccountResult } from '../../core/wire-execute.js';
import type { SizingReport } from '../../core/sizing.js';
import type { OrderReport } from '../../core/wire-query.js';
import { isUniqueViolation, transact } from '../db/connect.js';
import { insertRows, updateRowsById, type RowValue } from '../db/bulk-writes.js';
import type { Database, FillTable, LegFillTable, OrderLegTable, OrderRow, OrderUpdate, ProtectiveOrderTable } from '../db/schema.js';
import { settleFills, type SettlementRules } from '../settle/settlement.js';
import { notionalUnits } from '../settle/units.js';
import { spotOnly } from '../../exchange/market-types.js';
import { bookFills, type BookedFill, type FillEffect } from './position-book.js';

/** `done`: an action with no order of its own (update_protection, cancel, a close with nothing to close) did what it was asked. */
export const ORDER_STATUSES = ['pending', 'unknown', 'open', 'partially_filled', 'filled', 'done', 'rejected', 'failed', 'skipped'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What we learned about one order, from an execute result or a lookup. */
export interface OrderOutcome {
  status: Exclude<OrderStatus, 'pending'>;
  exchangeOrderId: string | null;
  filledQuantity: number;
  filledPrice: number | null;
  fee?: { cost: number; currency: string | null } | null | undefined;
  stopLossOrderId?: string | null | undefined;
  takeProfitOrderId?: string | null | undefined;
  stopLossError?: string | null | undefined;
  takeProfitError?: string | null | undefined;
  error?: { code: string; message: string } | undefined;
  nodeMs?: number | undefined;
  /** The node's own split of `nodeMs` (durations; absent from nodes of the original deployment). */
  nodeTimings?: { queued: number | null; exchange: number | null } | undefined;
  /** Set by the sender: how long the request took and when its answer arrived (center clock). */
  answer?: { roundTripMs: number; answeredAt: number } | undefined;
  /** The closing orders of a close, a reduce or a reverse; their fills are booked on them. */
  legs?: LegOutcome[] | undefined;
  /** False for a close or a reduce: the order's fill sums its legs', which are booked on the legs, not twice. */
  ownFill?: boolean | undefined;
  /** How the node sent the account's orders (a one-way account's opposite open nets); absent: as last reported for the account, else one-way. */
  positionMode?: 'one_way' | 'hedge' | undefined;
  /** Stop-losses and take-profits resting after this request (placed, resized, moved or found), and the ones it cancelled. */
  protection?: ProtectiveOutcome[] | undefined;
  canceledProtection?: CanceledProtection[] | undefined;
  /** A protect-only answer: every tradectl stop-loss and take-profit resting on the symbol afterwards. */
  restingProtection?: ProtectiveOutcome[] | undefined;
  /** A node-sized entry: the quantity the node chose and why; it becomes the order's `quantity`. */
  sizing?: SizingReport | undefined;
  /** A lookup's amount of the entry: a node-sized order whose answer was lost learns its quantity from it. */
  amount?: number | null | undefined;
}

/** A protective order a node reported resting on the exchange. */
export interface ProtectiveOutcome {
  positionSide: 'long' | 'short';
  leg: 'stop_loss' | 'take_profit';
  clientOrderId: string;
  exchangeOrderId: string;
  amount: number;
  triggerPrice: number;
}

/** A protective order an action cancelled (`gone`: it was no longer open). */
export interface CanceledProtection {
  exchangeOrderId: string;
  gone: boolean;
}

/** One closing order of an action, as the node reported it. */
export interface LegOutcome {
  clientOrderId: string;
  positionSide: 'long' | 'short';
  exchangeOrderId: string | null;
  status: string;
  filledQuantity: number;
  filledPrice: number | null;
  fee?: { cost: number; currency: string | null } | null | undefined;
  /** Null when only a lookup found it. */
  positionBefore: number | null;
  positionAfter: number | null;
  error?: { code: string; message: string } | undefined;
}

/** An outcome without a fill: a refusal, a failure, or an answer lost (`unknown`). */
export function noFill(status: 'unknown' | 'failed' | 'rejected', code: string, message: string): OrderOutcome {
  return { status, exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code, message } };
}

/** What a node's result says about one order; `action` is its signal's (a close's fill is its legs'). */
export function outcomeOfResult(result: AccountResult, action = 'open'): OrderOutcome {
  const legError = (e: { code: string; message: string } | undefined) => (e ? `${e.code}: ${e.message}` : undefined);
  const legs = result.closed?.map(
    (leg): LegOutcome => ({
      clientOrderId: leg.client_order_id,
      positionSide: leg.position_side,
      exchangeOrderId: leg.order_id,
      status: leg.status,
      filledQuantity: leg.filled_quantity,
      filledPrice: leg.filled_price,
      fee: leg.fee,
      positionBefore: leg.position_before,
      positionAfter: leg.position_after,
      error: leg.error,
    }),
  );
  const protection = (result.protection ?? []).flatMap((p): ProtectiveOutcome[] =>
    p.order_id === null ? [] : [{ positionSide: p.position_side, leg: p.leg, clientOrderId: p.client_order_id, exchangeOrderId: p.order_id, amount: p.amount, triggerPrice: p.trigger_price }],
  );
  const canceledProtection = (result.canceled ?? []).flatMap((c): CanceledProtection[] =>
    c.error || (c.kind !== 'stop_loss' && c.kind !== 'take_profit') ? [] : [{ exchangeOrderId: c.order_id, gone: c.gone === true }],
  );
  const restingProtection = result.resting_protection?.map(
    (p): ProtectiveOutcome => ({ positionSide: p.position_side, leg: p.leg, clientOrderId: p.client_order_id, exchangeOrderId: p.order_id, amount: p.amount, triggerPrice: p.trigger_price }),
  );
  return {
    ...(legs && legs.length > 0 ? { legs, ownFill: action !== 'close' && action !== 'reduce' } : {}),
    ...(protection.length > 0 ? { protection } : {}),
    ...(restingProtection ? { restingProtection } : {}),
    ...(canceledProtection.length > 0 ? { canceledProtection } : {}),
    ...(result.position_mode ? { positionMode: result.position_mode } : {}),
    ...(result.sizing ? { sizing: result.sizing } : {}),
    status: result.status,
    exchangeOrderId: result.order_id,
    filledQuantity: result.filled_quantity,
    filledPrice: result.filled_price,
    fee: result.fee,
    stopLossOrderId: result.stop_loss_order_id,
    takeProfitOrderId: result.take_profit_order_id,
    stopLossError: legError(result.stop_loss_error),
    takeProfitError: legError(result.take_profit_error),
    error: result.error,
    nodeMs: result.latency_ms,
    nodeTimings: result.timings_ms,
  };
}

/** A lookup's answer about an entry; `undefined` when it proves nothing (not found, lookup failed). */
export function outcomeOfReport(report: OrderReport): OrderOutcome | undefined {
  const base = { exchangeOrderId: report.order_id, filledQuantity: report.filled_quantity, filledPrice: report.filled_price, fee: report.fee, amount: report.amount };
  switch (report.state) {
    case 'open':
    case 'filled':
    case 'partially_filled':
      return { ...base, status: report.state };
    case 'canceled':
    case 'expired':
    case 'rejected':
      return { ...base, status: 'rejected', error: { code: 'exchange_error', message: `the exchange reports the order ${report.state} without a fill` } };
    default:
      return undefined;
  }
}

const RANK: Record<OrderStatus, number> = { pending: 0, unknown: 1, open: 2, partially_filled: 3, filled: 4, done: 4, rejected: 4, failed: 4, skipped: 4 };
const FINAL = new Set<OrderStatus>(['filled', 'done', 'rejected', 'failed', 'skipped']);

/**
 * The status an order moves to: never backwards (a late "unknown" does not
 * undo a fill), never out of a final state, except that a fill always wins,
 * because money moved.
 */
export function nextStatus(current: OrderStatus, incoming: OrderStatus, moreFilled: boolean): OrderStatus {
  if (moreFilled) return incoming === 'filled' || incoming === 'partially_filled' || incoming === 'open' ? incoming : 'partially_filled';
  if (FINAL.has(current)) return current;
  // `failed` says a request never reached the exchange; an order already on its book is not undone by a later one that did not.
  if (incoming === 'failed' && (current === 'open' || current === 'partially_filled')) return current;
  return RANK[incoming] >= RANK[current] ? incoming : current;
}

export type ApplyOutcome = 'applied' | 'unchanged';

/** One order and what we learned about it. */
export interface ApplyItem {
  orderId: number;
  outcome: OrderOutcome;
}

/**
 * Orders applied per transaction. One transaction per order was the
 * center's bottleneck on a 1,000-account signal (a forced disk sync each on
 * SQLite, ~15 round trips each on MySQL); a bound keeps lock hold times and
 * placeholder counts small.
 */
export const APPLY_CHUNK = 200;

/**
 * Applies what we learned about one order, idempotently, in one
 * transaction: the order row, a `fact_fill` for any newly filled quantity,
 * and its settlement. Applying the same outcome again changes nothing: the
 * fill is keyed by (order, cumulative quantity) and the ledger by fill.
 */
export async function applyOutcome(
  db: Kysely<Database>,
  orderId: number,
  outcome: OrderOutcome,
  rules: SettlementRules,
  now: number = Date.now(),
): Promise<ApplyOutcome> {
  const [result] = await applyOutcomes(db, [{ orderId, outcome }], rules, now);
  if (result instanceof Error) throw result;
  return result as ApplyOutcome;
}

/**
 * `applyOutcome` for many orders: up to `APPLY_CHUNK` orders per
 * transaction, with the same guarantees per order. Returns one entry per
 * item, in order: what happened, or the Error that kept it from being
 * applied. One bad item never costs the others: an item that cannot even
 * be planned (no such order, an amount out of range) is left out of its
 * chunk, and when a chunk's transaction fails as a whole (after
 * `transact`'s deadlock retries) each of its orders is applied again in a
 * transaction of its own, so only the orders that fail alone fail.
 */
export async function applyOutcomes(db: Kysely<Database>, items: readonly ApplyItem[], rules: SettlementRules, now: number = Date.now()): Promise<Array<ApplyOutcome | Error>> {
  const results: Array<ApplyOutcome | Error> = new Array<ApplyOutcome | Error>(items.length);
  for (const chunk of chunksOf(items)) {
    const batch = chunk.map((i) => items[i] as ApplyItem);
    let applied: Array<ApplyOutcome | Error>;
    try {
      applied = await applyChunk(db, batch, rules, now);
    } catch (error) {
      if (batch.length === 1) applied = [isUniqueViolation(error) ? 'unchanged' : asError(error)];
      else {
        applied = [];
        for (const item of batch) {
          try {
            applied.push(...(await applyChunk(db, [item], rules, now)));
          } catch (alone) {
            // Another applier recorded this fill first; its transaction did the work.
            applied.push(isUniqueViolation(alone) ? 'unchanged' : asError(alone));
          }
        }
      }
    }
    chunk.forEach((index, j) => (results[index] = applied[j] as ApplyOutcome | Error));
  }
  return results;
}

/** The items of an `applyOutcomes` call that were not applied, with why. */
export function failuresOf(items: readonly ApplyItem[], results: ReadonlyArray<ApplyOutcome | Error>): Array<{ orderId: number; error: Error }> {
  return items.flatMap((item, i) => {
    const result = results[i];
    return result instanceof Error ? [{ orderId: item.orderId, error: result }] : [];
  });
}

/** The error code of an order whose outcome could not be applied (`markUnapplied`). */
export const APPLY_FAILED = 'apply_failed';

/**
 * Records that these orders' outcomes could not be applied (an amount the
 * books cannot hold, a write the database refused). Each one still `pending`
 * or `unknown` becomes `unknown`, with `apply_failed` and why, and
 * `updated_at = now`: the reconciler asks the exchange about it again (it
 * may hold a real fill, so the order is never dropped or failed), but only
 * after `reconcile_after` and behind every order that has waited longer, so
 * an order that cannot be applied never holds the others up. An order past
 * `unknown` keeps its state; logging its failure is the caller's.
 */
export async function markUnapplied(db: Kysely<Database>, failures: ReadonlyArray<{ orderId: number; error: Error }>, now: number): Promise<void> {
  const byMessage = new Map<string, number[]>();
  for (const { orderId, error } of failures) {
    const message = `the result could not be applied: ${error.message}`.slice(0, 1000);
    byMessage.set(message, [...(byMessage.get(message) ?? []), orderId]);
  }
  for (const [message, ids] of byMessage) {
    await db
      .updateTable('fact_order')
      .set({ status: 'unknown', error_code: APPLY_FAILED, error_message: message, updated_at: now })
      .where('id', 'in', ids)
      .where('status', 'in', ['pending', 'unknown'])
      .execute();
  }
}

/** Item indexes in chunks of at most `APPLY_CHUNK`, never the same order twice in one chunk (each chunk reads every order once). */
function chunksOf(items: readonly ApplyItem[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let ids = new Set<number>();
  items.forEach((item, index) => {
    if (current.length >= APPLY_CHUNK || ids.has(item.orderId)) {
      chunks.push(current);
      current = [];
      ids = new Set();
    }
    current.push(index);
    ids.add(item.orderId);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The order columns an apply reads: its state and what `planOutcome` compares against. */
const APPLY_COLUMNS = [
  'id',
  'user_id',
  'account_id',
  'status',
  'filled_quantity',
  'filled_price',
  'exchange_order_id',
  'stop_loss_order_id',
  'take_profit_order_id',
  'fee_cost',
  'fee_currency',
  'error_code',
  'error_message',
  'stop_loss_error',
  'take_profit_error',
  'node_received_ms',
  'symbol',
  'side',
  'protected_quantity',
  'quantity',
  'sizing',
  'sizing_report',
] as const;
type AppliedOrder = Pick<OrderRow, (typeof APPLY_COLUMNS)[number]>;

interface Plan {
  update: OrderUpdate;
  fill: Insertable<FillTable> | null;
}

/** One transaction for a chunk of distinct orders; throws when the transaction fails, returns an Error for an item it left out. */
async function applyChunk(db: Kysely<Database>, batch: readonly ApplyItem[], rules: SettlementRules, now: number): Promise<Array<ApplyOutcome | Error>> {
  // On MySQL two appliers of the same order (a redelivered job, the
  // reconciler) queue on the order rows, so the second reads the first's
  // committed fill instead of a stale snapshot. SQLite runs one writer at a time.
  const locking = db.getExecutor().adapter instanceof MysqlAdapter;
  return transact(db, async (trx) => {
    const ids = batch.map((i) => i.orderId);
    const rows = await trx
      .selectFrom('fact_order')
      .select(APPLY_COLUMNS)
      .where('id', 'in', ids)
      .orderBy('id')
      .$if(locking, (qb) => qb.forUpdate())
      .execute();
    const orders = new Map(rows.map((o) => [o.id, o]));
    const plans: Array<Plan | Error> = batch.map((item) => {
      const order = orders.get(item.orderId);
      if (!order) return new Error(`order ${item.orderId} does not exist`);
      try {
        return planOutcome(order, item.outcome, now);
      } catch (error) {
        return asError(error);
      }
    });
    const outcomes: Array<ApplyOutcome | Error> = [];
    const updates: Array<{ id: number; update: OrderUpdate }> = [];
    for (const [j, plan] of plans.entries()) {
      if (plan instanceof Error) outcomes.push(plan);
      else if (Object.keys(plan.update).length === 0) outcomes.push('unchanged');
      else {
        updates.push({ id: (batch[j] as ApplyItem).orderId, update: plan.update });
        outcomes.push('applied');
      }
    }
    await updateRowsById(trx, 'fact_order', updates.map((u) => ({ id: u.id, values: u.update as Record<string, RowValue | undefined> })));
    const legged = batch.filter((item, j) => !(plans[j] instanceof Error) && (item.outcome.legs?.length ?? 0) > 0);
    const legWork = legged.length > 0 ? await applyLegs(trx, legged, orders, now) : [];
    const legFills = legWork.map((l) => l.fill);
    const protective = batch.filter((item, j) => !(plans[j] instanceof Error) && (item.outcome.protection || item.outcome.canceledProtection || item.outcome.restingProtection));
    if (protective.length > 0) await applyProtection(trx, protective, orders, now);
    // Settlement last: the inviters' rows and the one pool row are shared by
    // every concurrent applier, so their locks are held for the shortest time.
    const fills = plans.flatMap((p) => (!(p instanceof Error) && p.fill ? [p.fill] : []));
    if (fills.length > 0) await insertRows(trx, 'fact_fill', fills);
    if (legFills.length > 0) await insertRows(trx, 'fact_leg_fill', legFills);
    if (fills.length > 0 || legFills.length > 0) {
      const outcomes = new Map(batch.map((item) => [item.orderId, item.outcome]));
      await bookFills(trx, await bookedFills(trx, fills, legWork, orders, outcomes), now);
    }
    if (fills.length > 0 || legFills.length > 0) {
      const userOf = (orderId: number) => (orders.get(orderId) as AppliedOrder).user_id;
      await settleFills(
        trx,
        [
          ...fills.map((f) => ({ orderId: f.order_id, userId: userOf(f.order_id), fillKey: f.cumulative_quantity, notionalUnits: f.notional_units })),
          // A leg's key names the leg, so it never meets its order's own fills' keys.
          ...legFills.map((f) => ({ orderId: f.order_id, userId: userOf(f.order_id), fillKey: `leg${f.leg_id}:${f.cumulative_quantity}`, notionalUnits: f.notional_units })),
        ],
        rules,
        now,
      );
    }
    return outcomes;
  });
}

/**
 * The fill a newly reported cumulative quantity adds to what was recorded:
 * its quantity, its average price (from the old and new cumulative
 * averages), and its notional from the exact cumulative ones, so an order's
 * fills add up to its own notional to the unit.
 */
function fillIncrement(recordedQuantity: string, recordedPrice: string | null, filledQuantity: number, filledPrice: number) {
  const recorded = Number(recordedQuantity);
  const delta = filledQuantity - recorded;
  const cumulative = String(filledQuantity);
  const oldNotional = recorded * Number(recordedPrice ?? 0);
  const price = recorded > 0 ? (filledQuantity * filledPrice - oldNotional) / delta : filledPrice;
  const units = notionalUnits(cumulative, filledPrice) - notionalUnits(recordedQuantity, recordedPrice ?? 0);
  return { cumulative, quantity: String(delta), price: String(price), units };
}

const LEG_COLUMNS = ['id', 'order_id', 'client_order_id', 'status', 'exchange_order_id', 'filled_quantity', 'filled_price', 'fee_cost', 'fee_currency', 'position_after', 'error_code'] as const;

/**
 * Writes the closing orders an action reported, one `fact_order_leg` each
 * (new, or updated when the node reports more), and answers the fills they
 * add, for the caller to insert and settle with the order's own. Like an
 * order's, a leg's fill is keyed by its cumulative quantity, so a replay
 * adds nothing.
 */
interface LegFill {
  fill: Insertable<LegFillTable>;
  positionSide: 'long' | 'short';
  /** This increment's share of the leg's fee. */
  fee: number;
}

async function applyLegs(trx: Kysely<Database>, items: readonly ApplyItem[], orders: ReadonlyMap<number, AppliedOrder>, now: number): Promise<LegFill[]> {
  const orderIds = items.map((i) => i.orderId);
  const read = () => trx.selectFrom('fact_order_leg').select(LEG_COLUMNS).where('order_id', 'in', orderIds).execute();
  const known = new Map((await read()).map((l) => [`${l.order_id}|${l.client_order_id}`, l]));
  const inserts: Array<Insertable<OrderLegTable>> = [];
  const updates: Array<{ id: number; values: Record<string, RowValue | undefined> }> = [];
  const text = (x: number | null | undefined) => (x === null || x === undefined ? null : String(x));
  for (const item of items) {
    const order = orders.get(item.orderId) as AppliedOrder;
    for (const leg of item.outcome.legs ?? []) {
      const fields = {
        status: leg.status.slice(0, 24),
        exchange_order_id: leg.exchangeOrderId?.slice(0, 64) ?? null,
        fee_cost: text(leg.fee?.cost),
        fee_currency: leg.fee?.currency?.slice(0, 16) ?? null,
        position_after: text(leg.positionAfter),
        error_code: leg.error?.code.slice(0, 32) ?? null,
        error_message: leg.error?.message.slice(0, 1000) ?? null,
      };
      const existing = known.get(`${item.orderId}|${leg.clientOrderId}`);
      if (!existing) {
        inserts.push({
          order_id: item.orderId,
          account_id: order.account_id,
          client_order_id: leg.clientOrderId.slice(0, 64),
          role: 'close',
          position_side: leg.positionSide,
          ...fields,
          filled_quantity: '0',
          filled_price: null,
          position_before: text(leg.positionBefore),
          created_at: now,
          updated_at: now,
        });
        continue;
      }
      // Never backwards: a later answer without the fill (a lookup that failed) keeps what was recorded.
      if (leg.filledQuantity < Number(existing.filled_quantity)) continue;
      const changed = Object.entries(fields).filter(([k, v]) => v !== null && existing[k as keyof typeof existing] !== v);
      if (changed.length > 0) updates.push({ id: existing.id, values: { ...Object.fromEntries(changed), updated_at: now } });
    }
  }
  if (inserts.length > 0) await insertRows(trx, 'fact_order_leg', inserts);
  const legs = inserts.length > 0 ? new Map((await read()).map((l) => [`${l.order_id}|${l.client_order_id}`, l])) : known;
  const fills: LegFill[] = [];
  for (const item of items) {
    for (const leg of item.outcome.legs ?? []) {
      const row = legs.get(`${item.orderId}|${leg.clientOrderId}`);
      if (!row || leg.filledPrice === null || !(leg.filledQuantity > Number(row.filled_quantity) + 1e-12)) continue;
      const increment = fillIncrement(row.filled_quantity, row.filled_price, leg.filledQuantity, leg.filledPrice);
      fills.push({
        fill: { leg_id: row.id, order_id: item.orderId, cumulative_quantity: increment.cumulative, quantity: increment.quantity, price: increment.price, notional_units: increment.units, created_at: now },
        positionSide: leg.positionSide,
        fee: feeShare(leg.fee, Number(increment.quantity), leg.filledQuantity),
      });
      updates.push({ id: row.id, values: { filled_quantity: increment.cumulative, filled_price: String(leg.filledPrice), updated_at: now } });
    }
  }
  await updateRowsById(trx, 'fact_order_leg', mergeUpdates(updates));
  return fills;
}

/** A fill's share of a cumulative fee: quote-currency fees only (a fee in the base or a third currency is not netted). */
function feeShare(fee: { cost: number; currency: string | null } | null | undefined, quantity: number, cumulative: number): number {
  if (!fee || !(cumulative > 0) || (fee.currency !== null && fee.currency !== 'USDT' && fee.currency !== 'USDC' && fee.currency !== 'USD')) return 0;
  return (fee.cost * quantity) / cumulative;
}

/**
 * What each new fill does to its follower's position: an order's own fill
 * opens the signal's side (a legacy reduce-only one closes the other), and
 * nets against the other side on a one-way account; a leg's fill closes its
 * side. Spot accounts hold coins, not positions, and are not booked.
 */
async function bookedFills(
  trx: Kysely<Database>,
  fills: ReadonlyArray<Insertable<FillTable>>,
  legs: readonly LegFill[],
  orders: ReadonlyMap<number, AppliedOrder>,
  outcomes: ReadonlyMap<number, OrderOutcome>,
): Promise<BookedFill[]> {
  const ids = [...new Set([...fills.map((f) => f.order_id), ...legs.map((l) => l.fill.order_id)])];
  const info = await trx
    .selectFrom('fact_order as o')
    .innerJoin('fact_signal as s', 's.id', 'o.signal_row_id')
    .innerJoin('fact_exchange_account as a', 'a.id', 'o.account_id')
    .select(['o.id', 'o.account_id', 'o.symbol', 'o.side', 's.reduce_only', 'a.exchange', 'a.position_mode'])
    .where('o.id', 'in', ids)
    .execute();
  const byId = new Map(info.map((r) => [r.id, r]));
  // What a node reports of the account's position mode is kept, for the fills a lookup finds (a lookup reports none).
  const modes = new Map<number, 'one_way' | 'hedge'>();
  for (const r of info) {
    const mode = outcomes.get(r.id)?.positionMode;
    if (mode && mode !== r.position_mode) modes.set(r.account_id, mode);
  }
  for (const [accountId, mode] of modes) await trx.updateTable('fact_exchange_account').set({ position_mode: mode }).where('id', '=', accountId).execute();
  const modeOf = (orderId: number) => outcomes.get(orderId)?.positionMode ?? byId.get(orderId)?.position_mode ?? 'one_way';
  const out: BookedFill[] = [];
  const base = (orderId: number) => {
    const row = byId.get(orderId);
    const order = orders.get(orderId);
    if (!row || !order || spotOnly(row.exchange)) return undefined;
    return { row, order };
  };
  // A reverse's close first, then its new entry: the entry must not net against the side the close just closed.
  const legsFirst = new Set<BookedFill>();
  for (const leg of legs) {
    const found = base(leg.fill.order_id);
    if (!found) continue;
    const booked: BookedFill = {
      orderId: leg.fill.order_id,
      fillKey: `leg${leg.fill.leg_id}:${leg.fill.cumulative_quantity}`,
      accountId: found.order.account_id,
      userId: found.order.user_id,
      symbol: found.row.symbol,
      effect: { kind: 'close', side: leg.positionSide },
      quantity: Number(leg.fill.quantity),
      price: Number(leg.fill.price),
      fee: leg.fee,
    };
    legsFirst.add(booked);
    out.push(booked);
  }
  for (const fill of fills) {
    const found = base(fill.order_id);
    if (!found || (found.row.side !== 'buy' && found.row.side !== 'sell')) continue;
    const outcome = outcomes.get(fill.order_id);
    const side: 'long' | 'short' = found.row.side === 'buy' ? 'long' : 'short';
    const effect: FillEffect = found.row.reduce_only === 1 ? { kind: 'close', side: side === 'long' ? 'short' : 'long' } : { kind: 'open', side, nets: modeOf(fill.order_id) !== 'hedge' };
    out.push({
      orderId: fill.order_id,
      fillKey: String(fill.cumulative_quantity),
      accountId: found.order.account_id,
      userId: found.order.user_id,
      symbol: found.row.symbol,
      effect,
      quantity: Number(fill.quantity),
      price: Number(fill.price),
      fee: feeShare(outcome?.fee, Number(fill.quantity), outcome?.filledQuantity ?? 0),
    });
  }
  // Orders in the order they were accepted (their ids), so that a close
  // answered together with an earlier signal's entry (one group commit) is
  // booked after it; within an order, its legs before its own fill.
  return out.sort((x, y) => x.orderId - y.orderId || Number(legsFirst.has(y)) - Number(legsFirst.has(x)));
}

/** One update per row: a leg can be both re-stated and newly filled in one answer. */
function mergeUpdates(updates: Array<{ id: number; values: Record<string, RowValue | undefined> }>): Array<{ id: number; values: Record<string, RowValue | undefined> }> {
  const byId = new Map<number, Record<string, RowValue | undefined>>();
  for (const u of updates) byId.set(u.id, { ...byId.get(u.id), ...u.values });
  return [...byId].map(([id, values]) => ({ id, values }));
}

/** What applying `outcome` to `order` writes; pure, so a bad outcome fails here before anything is written. */
function planOutcome(order: AppliedOrder, outcome: OrderOutcome, now: number): Plan {
  const recorded = Number(order.filled_quantity);
  const moreFilled = outcome.filledQuantity > recorded + 1e-12 && outcome.filledPrice !== null;
  const status = nextStatus(order.status as OrderStatus, outcome.status, moreFilled);
  const update: OrderUpdate = {};
  let fill: Insertable<FillTable> | null = null;
  if (status !== order.status) update.status = status;
  if (moreFilled) {
    const price = outcome.filledPrice as number;
    const increment = fillIncrement(order.filled_quantity, order.filled_price, outcome.filledQuantity, price);
    // A close's or a reduce's fill is its legs', booked on them.
    if (outcome.ownFill !== false) {
      fill = { order_id: order.id, cumulative_quantity: increment.cumulative, quantity: increment.quantity, price: increment.price, notional_units: increment.units, created_at: now };
    }
    update.filled_quantity = increment.cumulative;
    update.filled_price = String(price);
  }
  setIfChanged(update, order, 'exchange_order_id', outcome.exchangeOrderId);
  setIfChanged(update, order, 'stop_loss_order_id', outcome.stopLossOrderId);
  setIfChanged(update, order, 'take_profit_order_id', outcome.takeProfitOrderId);
  setIfChanged(update, order, 'protected_quantity', protectedQuantity(order, outcome));
  if (outcome.sizing) {
    // What the node placed (0 when it placed nothing); a resend that found the entry reports its amount, so this never moves after a fill.
    setIfChanged(update, order, 'quantity', String(outcome.sizing.quantity));
    // A resend's "found, not sized again" keeps the first answer's reason (its equity and price).
    const found = outcome.sizing.price === null && order.sizing_report !== null;
    if (!found) setIfChanged(update, order, 'sizing_report', JSON.stringify({ ...outcome.sizing, reason: outcome.sizing.reason.slice(0, 1000) }));
  }
  if (!outcome.sizing && order.sizing !== null && order.quantity === '0' && typeof outcome.amount === 'number' && outcome.amount > 0) {
    setIfChanged(update, order, 'quantity', String(outcome.amount));
  }
  if (outcome.fee) {
    setIfChanged(update, order, 'fee_cost', String(outcome.fee.cost));
    setIfChanged(update, order, 'fee_currency', outcome.fee.currency?.slice(0, 16) ?? null);
  }
  // Errors describe the latest attempt; a success clears them. A node's
  // report of an action's steps says whether its protection followed (a
  // filled close whose stop could not be cancelled keeps saying so until a
  // resend cancels it).
  const stepReport = outcome.legs !== undefined || outcome.protection !== undefined || outcome.canceledProtection !== undefined || outcome.restingProtection !== undefined;
  const restated = stepReport && outcome.status === order.status;
  if (update.status !== undefined || moreFilled || restated) {
    const accepted = (update.status ?? order.status) as OrderStatus;
    const failed = accepted === 'rejected' || accepted === 'failed' || accepted === 'unknown';
    const kept = failed || (stepReport && outcome.status === accepted);
    // Codes and currencies come from a node: held to their columns' size, so an odd one cannot make the whole result unrecordable.
    setIfChanged(update, order, 'error_code', kept ? (outcome.error?.code.slice(0, 32) ?? null) : null, true);
    setIfChanged(update, order, 'error_message', kept ? (outcome.error?.message.slice(0, 1000) ?? null) : null, true);
  }
  if (outcome.stopLossError !== undefined) setIfChanged(update, order, 'stop_loss_error', outcome.stopLossError?.slice(0, 1000) ?? null, true);
  if (outcome.takeProfitError !== undefined) setIfChanged(update, order, 'take_profit_error', outcome.takeProfitError?.slice(0, 1000) ?? null, true);
  if (outcome.nodeMs !== undefined && order.node_received_ms === null) {
    // The first answer's timings, together, so its stages add up.
    update.node_received_ms = Math.round(outcome.nodeMs);
    if (outcome.nodeTimings) {
      update.node_queued_ms = outcome.nodeTimings.queued === null ? null : Math.round(outcome.nodeTimings.queued);
      update.node_exchange_ms = outcome.nodeTimings.exchange === null ? null : Math.round(outcome.nodeTimings.exchange);
    }
    if (outcome.answer) {
      update.round_trip_ms = Math.round(outcome.answer.roundTripMs);
      update.answered_at = outcome.answer.answeredAt;
    }
    update.applied_at = now;
  }
  if (Object.keys(update).length === 0) return { update, fill };
  if (update.status && FINAL.has(update.status as OrderStatus)) update.completed_at = now;
  update.updated_at = now;
  return { update, fill };
}

/** The smaller of the entry's own legs' amounts, from a report that lists them; else undefined (nothing learned). */
function protectedQuantity(order: AppliedOrder, outcome: OrderOutcome): string | undefined {
  const own = order.side === 'buy' ? 'long' : order.side === 'sell' ? 'short' : undefined;
  const amounts = (outcome.protection ?? []).filter((p) => p.positionSide === own && (p.leg === 'stop_loss' ? outcome.stopLossOrderId : outcome.takeProfitOrderId) === p.exchangeOrderId).map((p) => p.amount);
  return amounts.length > 0 ? String(Math.min(...amounts)) : undefined;
}

/**
 * Records the protective orders the items' results reported: new ones as
 * `live` (with their size and trigger), cancelled ones as `canceled` or
 * `gone`. A cancelled order never comes back to life, whatever order
 * answers are applied in. Items go in order id order, so an order placed
 * and cancelled by two answers applied together ends cancelled. A
 * protect-only answer lists everything resting on its symbol: an order on
 * record since before the request was sent that it does not list is `gone`
 * (a cancel whose answer was lost, a stop cancelled by hand or fired), and
 * one it lists that the center never heard of is recorded. Rows are keyed by
 * (account, symbol, exchange id) and inserted without raising on a row
 * another applier wrote first, so that this never costs an answer its fill.
 */
async function applyProtection(trx: Kysely<Database>, items: readonly ApplyItem[], orders: ReadonlyMap<number, AppliedOrder>, now: number): Promise<void> {
  const orderOf = (item: ApplyItem) => orders.get(item.orderId) as AppliedOrder;
  const accounts = [...new Set(items.map((i) => orderOf(i).account_id))];
  const symbols = [...new Set(items.map((i) => orderOf(i).symbol))];
  const rows = await trx
    .selectFrom('fact_protective_order')
    .select(['id', 'account_id', 'symbol', 'exchange_order_id', 'amount', 'trigger_price', 'state', 'created_at'])
    .where('account_id', 'in', accounts)
    .where('symbol', 'in', symbols)
    .where((eb) => eb.or([eb('state', '=', 'live'), eb('exchange_order_id', 'in', items.flatMap((i) => [...(i.outcome.protection ?? []).map((p) => p.exchangeOrderId.slice(0, 64)), ...(i.outcome.canceledProtection ?? []).map((c) => c.exchangeOrderId.slice(0, 64)), ''])) ]))
    .execute();
  const keyOf = (accountId: number, symbol: string, exchangeId: string) => `${accountId}|${symbol}|${exchangeId.slice(0, 64)}`;
  const known = new Map(rows.map((r) => [keyOf(r.account_id, r.symbol, r.exchange_order_id), r] as const));
  const inserts = new Map<string, Insertable<ProtectiveOrderTable>>();
  const updates = new Map<number, Record<string, RowValue | undefined>>();
  const setState = (key: string, state: string) => {
    const pending = inserts.get(key);
    if (pending) pending.state = state;
    const row = known.get(key);
    if (row?.state === 'live') {
      row.state = state;
      updates.set(row.id, { ...updates.get(row.id), state, updated_at: now });
    }
  };
  const record = (order: AppliedOrder, p: ProtectiveOutcome) => {
    const key = keyOf(order.account_id, order.symbol, p.exchangeOrderId);
    const values = { amount: String(p.amount), trigger_price: String(p.triggerPrice) };
    const row = known.get(key);
    if (row) {
      if (row.state === 'live' && (row.amount !== values.amount || row.trigger_price !== values.trigger_price)) updates.set(row.id, { ...updates.get(row.id), ...values, updated_at: now });
      return;
    }
    if (inserts.has(key)) return;
    inserts.set(key, {
      account_id: order.account_id,
      order_id: order.id,
      symbol: order.symbol,
      side: p.positionSide,
      leg: p.leg,
      client_order_id: p.clientOrderId.slice(0, 64),
      exchange_order_id: p.exchangeOrderId.slice(0, 64),
      ...values,
      state: 'live',
      created_at: now,
      updated_at: now,
    });
  };
  for (const item of [...items].sort((a, b) => a.orderId - b.orderId)) {
    const order = orderOf(item);
    for (const p of item.outcome.protection ?? []) record(order, p);
    for (const c of item.outcome.canceledProtection ?? []) setState(keyOf(order.account_id, order.symbol, c.exchangeOrderId), c.gone ? 'gone' : 'canceled');
    const resting = item.outcome.restingProtection;
    if (!resting) continue;
    for (const p of resting) record(order, p);
    // Only what was on record before the request went out: a stop another request placed meanwhile may not be in the snapshot.
    const sentAt = item.outcome.answer ? item.outcome.answer.answeredAt - item.outcome.answer.roundTripMs : now;
    const listed = new Set(resting.map((p) => keyOf(order.account_id, order.symbol, p.exchangeOrderId)));
    for (const row of rows) {
      const key = keyOf(row.account_id, row.symbol, row.exchange_order_id);
      if (row.account_id === order.account_id && row.symbol === order.symbol && row.state === 'live' && row.created_at < sentAt && !listed.has(key)) setState(key, 'gone');
    }
  }
  if (inserts.size > 0) {
    const values = [...inserts.values()];
    if (trx.getExecutor().adapter instanceof MysqlAdapter) await trx.insertInto('fact_protective_order').ignore().values(values).execute();
    else await trx.insertInto('fact_protective_order').values(values).onConflict((oc) => oc.doNothing()).execute();
  }
  await updateRowsById(trx, 'fact_protective_order', [...updates].map(([id, values]) => ({ id, values })));
}

function setIfChanged<K extends keyof OrderUpdate & keyof AppliedOrder>(
  update: OrderUpdate,
  order: AppliedOrder,
  key: K,
  value: AppliedOrder[K] | undefined,
  allowNull = false,
): void {
  if (value === undefined || (value === null && !allowNull)) return;
  if (order[key] !== value) (update as Record<string, unknown>)[key] = value;
}
