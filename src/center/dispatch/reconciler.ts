import { sql } from 'kysely';
import { MAX_ORDERS_PER_ACCOUNT, type QueryAccount, type QueryResult } from '../../core/wire-query.js';
import type { CenterContext } from '../context.js';
import type { SignalRow } from '../db/schema.js';
import { groupByDestination, routerFor, transportOf } from '../routing.js';
import type { Transport } from '../transport/transport.js';
import { actionOrderId } from '../../core/client-order-id.js';
import { applyOutcomes, failuresOf, markUnapplied, noFill, outcomeOfReport, type ApplyItem, type LegOutcome, type OrderOutcome } from './apply-results.js';
import { completeSignal, dispatchOrders } from './dispatcher.js';
import { loadTargets, type DispatchTarget } from './targets.js';
import { excessProtection, latestOnSymbol, needsProtection, shortCandidates, type ExcessPosition } from './unprotected.js';
import { CLAIMABLE } from './claims.js';

export interface ReconcileReport {
  checked: number;
  settled: number;
  resent: number;
  expired: number;
  waiting: number;
  /** Found, but what was found could not be applied: marked `apply_failed`, tried again after `reconcile_after`. */
  unapplied: number;
  /** Settled with a fill but without a stop-loss or take-profit the signal asked for: sent again for the node to place it. */
  protecting: number;
}

/** Orders looked at per pass. */
export const RECONCILE_BATCH = 500;

/**
 * Settles orders the center could not confirm: `unknown` ones (the answer was
 * lost) and `pending` ones older than `reconcile_after` (the center stopped
 * between writing and sending). Each is looked up on the exchange by client
 * order id, through its node or in-process:
 * - found: its state is applied (and settled) like any result;
 * - not found and the signal is younger than `signal_max_age`: sent again as
 *   a retry, so the node looks up once more before placing;
 * - not found and older: marked failed (`expired`), never placed late.
 * Nothing is ever placed twice: every path goes through a lookup first.
 *
 * The orders looked at least recently go first (then the longest waiting),
 * so orders that cannot be settled now (their node is offline) take turns
 * with the rest instead of filling every pass; one whose result cannot be
 * applied also waits `reconcile_after` again (`markUnapplied`) and is
 * reported `unapplied`. No order, however often it fails, keeps the others
 * from their turn.
 */
export async function reconcileOnce(ctx: CenterContext, now: number = Date.now()): Promise<ReconcileReport> {
  try {
    const report = await reconcilePass(ctx, now);
    ctx.metrics.reconciled(report);
    return report;
  } catch (error) {
    ctx.metrics.reconcileFailed();
    throw error;
  }
}

async function reconcilePass(ctx: CenterContext, now: number): Promise<ReconcileReport> {
  const cutoff = now - ctx.config.reconcile_after;
  const rows = await ctx.db.kysely
    .selectFrom('fact_order')
    .select(['id', 'signal_row_id'])
    .where('status', 'in', ['unknown', 'pending'])
    .where('updated_at', '<=', cutoff)
    .orderBy(sql`coalesce(reconciled_at, 0)`)
    .orderBy('updated_at')
    .orderBy('id')
    .limit(RECONCILE_BATCH)
    .execute();
  const report: ReconcileReport = { checked: rows.length, settled: 0, resent: 0, expired: 0, waiting: 0, unapplied: 0, protecting: 0 };
  report.protecting = await protectPass(ctx, now);
  if (rows.length === 0) return report;
  // Seen now, whatever comes of it: the next pass starts with the orders this one did not reach.
  await ctx.db.kysely.updateTable('fact_order').set({ reconciled_at: now }).where('id', 'in', rows.map((r) => r.id)).execute();

  const signals = new Map<number, SignalRow>();
  for (const s of await ctx.db.kysely.selectFrom('fact_signal').selectAll().where('id', 'in', [...new Set(rows.map((r) => r.signal_row_id))]).execute()) signals.set(s.id, s);
  const all = await loadTargets(ctx, rows.map((r) => r.id));
  // An action (close, reduce, reverse, …) places orders of its own ids, sized
  // from the position at the time: it is settled by sending it again as a
  // resend, which the node answers by looking each of its orders up first.
  // So is an open with a stop-loss or take-profit while it may still be sent:
  // a lookup would find its entry filled and settle it without the
  // protection the node may never have placed (it stopped in between).
  const isOpen = (t: DispatchTarget) => {
    const signal = signals.get(t.order.signal_row_id);
    if (!signal || signal.action !== 'open') return false;
    const protectedOpen = signal.stop_loss !== null || signal.take_profit !== null;
    return !protectedOpen || now - signal.accepted_at > ctx.config.signal_max_age;
  };
  const targets = all.filter(isOpen);
  const router = await routerFor(ctx, targets.map((t) => t.nodeId), now);
  const groups = groupByDestination(targets, (t) => router.read(t.nodeId));
  // Nothing can be learned about these now (their node is offline); they are looked at again on the next pass.
  report.waiting += groups.unavailable.length;

  const notFound: DispatchTarget[] = all.filter((t) => !isOpen(t));
  const found: ApplyItem[] = [];
  for (const [node, group] of [[null, groups.local] as const, ...[...groups.remote.values()].map((g) => [g.node, g.items] as const)]) {
    if (group.length === 0) continue;
    const results = await lookUp(ctx, transportOf(ctx, node), group, now);
    if (!results) {
      report.waiting += group.length;
      continue;
    }
    const reports = new Map(results.flatMap((r) => r.orders.map((o) => [`${String(r.account_id)}|${o.client_order_id}`, o] as const)));
    for (const target of group) {
      const entry = reports.get(`${String(target.account.account_id)}|${target.account.client_order_id}`);
      if (!entry || entry.state === 'unknown') {
        report.waiting++;
        continue;
      }
      const outcome = outcomeOfReport(entry);
      if (outcome) found.push({ orderId: target.order.id, outcome });
      else notFound.push(target);
    }
  }

  const failures = failuresOf(found, await applyOutcomes(ctx.db.kysely, found, ctx.rules, now));
  report.settled += found.length - failures.length;

  const resend = new Map<number, number[]>();
  const expired: ApplyItem[] = [];
  const lateActions: DispatchTarget[] = [];
  for (const target of notFound) {
    const signal = signals.get(target.order.signal_row_id) as SignalRow;
    if (now - signal.accepted_at <= ctx.config.signal_max_age) {
      resend.set(signal.id, [...(resend.get(signal.id) ?? []), target.order.id]);
      report.resent++;
    } else if (signal.action === 'open') {
      // Not found by its lookup (a protected open that young was resent above).
      expired.push({ orderId: target.order.id, outcome: noFill('failed', 'expired', 'not on the exchange, and the signal is older than signal_max_age: not placed late') });
    } else {
      lateActions.push(target);
    }
  }
  // Too old to send again: what the action placed is looked up by its orders' ids, so a close that did fill is booked.
  if (lateActions.length > 0) {
    const settled = await lookUpLateActions(ctx, lateActions, signals, now);
    report.waiting += settled.waiting;
    expired.push(...settled.items);
  }
  const expiryFailures = failuresOf(expired, await applyOutcomes(ctx.db.kysely, expired, ctx.rules, now));
  report.expired += expired.length - expiryFailures.length;
  failures.push(...expiryFailures);
  if (failures.length > 0) {
    const ids = failures.map((f) => f.orderId);
    ctx.logger.error(
      { unapplied: ids.length, order_ids: ids.slice(0, 50), reason: failures[0]?.error.message },
      'could not apply what the exchange reports for these orders; they stay unknown and are looked up again after reconcile_after',
    );
    await markUnapplied(ctx.db.kysely, failures, now);
    report.unapplied = failures.length;
  }
  // Resends go straight to the node (not through the queue): the reconciler
  // must make progress even when Redis or every worker is down.
  for (const [signalId, orderIds] of resend) await dispatchOrders(ctx, signals.get(signalId) as SignalRow, orderIds, true, 'direct');
  for (const signalId of new Set(rows.map((r) => r.signal_row_id))) await completeSignal(ctx, signalId);
  if (report.checked > 0) ctx.logger.info({ ...report }, 'reconciled');
  return report;
}

/**
 * An action the center never confirmed, too old to be sent again: its
 * closing orders (both sides) and, for a reverse, its new entry are looked
 * up by their deterministic ids. What exists is applied (a close's fill on
 * its legs); with nothing found the order is `expired`. A failed lookup
 * leaves it for the next pass.
 */
async function lookUpLateActions(ctx: CenterContext, late: DispatchTarget[], signals: ReadonlyMap<number, SignalRow>, now: number): Promise<{ items: ApplyItem[]; waiting: number }> {
  const items: ApplyItem[] = [];
  let waiting = 0;
  let targets = late;
  const idsOf = (t: DispatchTarget) => {
    const action = signals.get(t.order.signal_row_id)?.action;
    const closes = (['long', 'short'] as const).map((side) => actionOrderId(t.account.client_order_id, 'close', side));
    return action === 'reverse' ? [...closes, t.account.client_order_id] : action === 'close' || action === 'reduce' ? closes : [];
  };
  // An update_protection or a cancel places nothing that could hold a fill: it expires without a lookup
  // (a node refuses an account listed with no order to look up, which would fail the whole group).
  const expireOf = (t: DispatchTarget): ApplyItem => {
    const action = signals.get(t.order.signal_row_id)?.action ?? 'action';
    return { orderId: t.order.id, outcome: noFill('failed', 'expired', `never confirmed, and the ${action} signal is older than signal_max_age: not sent again`) };
  };
  items.push(...targets.filter((t) => idsOf(t).length === 0).map(expireOf));
  targets = targets.filter((t) => idsOf(t).length > 0);
  if (targets.length === 0) return { items, waiting };
  const router = await routerFor(ctx, targets.map((t) => t.nodeId), now);
  const groups = groupByDestination(targets, (t) => router.read(t.nodeId));
  waiting += groups.unavailable.length;
  for (const [node, group] of [[null, groups.local] as const, ...[...groups.remote.values()].map((g) => [g.node, g.items] as const)]) {
    if (group.length === 0) continue;
    const results = await lookUp(ctx, transportOf(ctx, node), group, now, idsOf);
    if (!results) {
      waiting += group.length;
      continue;
    }
    const reports = new Map(results.flatMap((r) => r.orders.map((o) => [`${String(r.account_id)}|${o.client_order_id}`, o] as const)));
    for (const target of group) {
      const signal = signals.get(target.order.signal_row_id) as SignalRow;
      const found = idsOf(target).map((id) => reports.get(`${String(target.account.account_id)}|${id}`));
      if (found.some((r) => !r || r.state === 'unknown')) {
        waiting++;
        continue;
      }
      const legs = found.flatMap((r, i): LegOutcome[] => {
        if (!r || !r.found || i > 1 || r.filled_quantity <= 0) return [];
        return [{ clientOrderId: r.client_order_id, positionSide: i === 0 ? 'long' : 'short', exchangeOrderId: r.order_id, status: r.state, filledQuantity: r.filled_quantity, filledPrice: r.filled_price, fee: r.fee, positionBefore: null, positionAfter: null }];
      });
      const entry = signal.action === 'reverse' ? found[2] : undefined;
      const entryOutcome = entry?.found ? outcomeOfReport(entry) : undefined;
      const filled = legs.reduce((sum, l) => sum + l.filledQuantity, 0);
      const base: OrderOutcome =
        entryOutcome ??
        (signal.action !== 'reverse' && filled > 0
          ? { status: 'filled', exchangeOrderId: legs[0]?.exchangeOrderId ?? null, filledQuantity: filled, filledPrice: legs.reduce((sum, l) => sum + l.filledQuantity * (l.filledPrice ?? 0), 0) / filled }
          : noFill('failed', 'expired', `never confirmed, and the ${signal.action} signal is older than signal_max_age: not sent again${legs.length > 0 ? '; the close it placed is booked' : ' (nothing it would have placed is on the exchange)'}`));
      items.push({ orderId: target.order.id, outcome: legs.length > 0 ? { ...base, legs, ownFill: signal.action === 'reverse' } : base });
    }
  }
  return { items, waiting };
}

/**
 * The protection pass (see `unprotected.ts`): entries whose protection is
 * missing or smaller than their fill (or that rest and may fill), and
 * position sides whose protection outlived or outgrew them, are sent again
 * protect-only while their signal is younger than `protect_window`: the
 * node finds the orders by their ids and places, grows, resizes or cancels
 * protection only, never an entry or a close, so sending late is safe. Each
 * order at most once per `reconcile_after`, those looked at least recently
 * first. `tradectl_center_orders_unprotected` and
 * `tradectl_center_protection_excess` count what is left.
 */
async function protectPass(ctx: CenterContext, now: number): Promise<number> {
  const cutoff = now - ctx.config.reconcile_after;
  const since = now - ctx.config.protect_window;
  const candidates = await shortCandidates(ctx.db.kysely, since)
    .where(sql<boolean>`coalesce(o.reconciled_at, o.updated_at) <= ${cutoff}`)
    .orderBy(sql`coalesce(o.reconciled_at, 0)`)
    .orderBy('o.id')
    .limit(RECONCILE_BATCH)
    .execute();
  const short = candidates.filter((r) => needsProtection(r, now, ctx.config.signal_max_age));
  const excess = await excessProtection(ctx.db.kysely);
  const tidy = excess.length === 0 ? [] : await tidyingOrders(ctx, excess, since, cutoff);
  const byId = new Map([...short, ...tidy].map((r) => [r.id, { id: r.id, signal_row_id: r.signal_row_id }] as const));
  const rows = [...byId.values()].slice(0, RECONCILE_BATCH);
  // Every candidate looked at counts as seen, sent or not, so the ones that need nothing do not hold the front of the line.
  const seen = [...new Set([...candidates.map((r) => r.id), ...rows.map((r) => r.id)])];
  if (seen.length > 0) await ctx.db.kysely.updateTable('fact_order').set({ reconciled_at: now }).where('id', 'in', seen).execute();
  if (rows.length === 0) return 0;
  const bySignal = new Map<number, number[]>();
  for (const r of rows) bySignal.set(r.signal_row_id, [...(bySignal.get(r.signal_row_id) ?? []), r.id]);
  const signals = await ctx.db.kysely.selectFrom('fact_signal').selectAll().where('id', 'in', [...bySignal.keys()]).execute();
  for (const signal of signals) await dispatchOrders(ctx, signal, bySignal.get(signal.id) ?? [], true, 'direct', 'protect');
  return rows.length;
}

/** Sends in all (its own included) after which an order is no longer sent again for protection exceeding its position; then only the alert says so. */
export const MAX_TIDY_SENDS = 5;

/**
 * For each position side with excess protection: the account's latest
 * order on the symbol, when a protect-only resend of it can bring the side's
 * protection back within the position, it is young enough, and it has not
 * had its tidying resends yet: a close, a reduce or a reverse whose sides
 * include the excess side (the node makes that side's protection follow the
 * position), or an open on that side (the node cancels what its grown stop
 * replaced). Anything else (a stop that outlived a close followed by an
 * open) is left to `tradectl_center_protection_excess` and its alert.
 */
async function tidyingOrders(ctx: CenterContext, excess: readonly ExcessPosition[], since: number, cutoff: number): Promise<Array<{ id: number; signal_row_id: number }>> {
  const accounts = [...new Set(excess.map((e) => e.accountId))];
  const rows = await ctx.db.kysely
    .selectFrom('fact_order as o')
    .innerJoin('fact_signal as s', 's.id', 'o.signal_row_id')
    .select(['o.id', 'o.signal_row_id', 'o.account_id', 'o.symbol', 'o.attempts', 's.action', 's.side', 's.position_side'])
    .where('o.account_id', 'in', accounts)
    .where('o.status', 'in', [...CLAIMABLE.protect])
    .where('s.accepted_at', '>=', since)
    .where(sql<boolean>`coalesce(o.reconciled_at, o.updated_at) <= ${cutoff}`)
    .where(latestOnSymbol)
    .execute();
  const sidesOf = (r: (typeof rows)[number]): string[] => {
    if (r.action === 'open') return [r.side === 'sell' ? 'short' : 'long'];
    if (r.action === 'reverse') return [r.side === 'buy' ? 'short' : 'long'];
    if (r.action === 'close' || r.action === 'reduce') return r.position_side ? [r.position_side] : r.side ? [r.side === 'sell' ? 'long' : 'short'] : ['long', 'short'];
    return [];
  };
  return rows.filter((r) => r.attempts <= MAX_TIDY_SENDS && excess.some((e) => e.accountId === r.account_id && e.symbol === r.symbol && sidesOf(r).includes(e.side)));
}

/** Looks the entries (or the orders `idsOf` names) up where the accounts live; `undefined` when the lookup failed. */
async function lookUp(
  ctx: CenterContext,
  transport: Transport,
  group: DispatchTarget[],
  now: number,
  idsOf: (t: DispatchTarget) => string[] = (t) => [t.account.client_order_id],
): Promise<QueryResult[] | undefined> {
  // One entry per account (a node refuses an account listed twice), with
  // every order of that account being reconciled.
  const byAccount = new Map<string, QueryAccount>();
  for (const t of group) {
    const key = String(t.account.account_id);
    const { account_id, exchange, credentials, sandbox } = t.account;
    const entry = byAccount.get(key) ?? { account_id, exchange, credentials, sandbox, orders: [] };
    const ids = idsOf(t);
    // A node answers at most MAX_ORDERS_PER_ACCOUNT per account (and refuses none); the rest wait for the next pass.
    if (ids.length === 0 || entry.orders.length + ids.length > MAX_ORDERS_PER_ACCOUNT) continue;
    for (const id of ids) entry.orders.push({ client_order_id: id, symbol: t.order.symbol, kind: 'entry' });
    byAccount.set(key, entry);
  }
  const call = await transport.queryOrders({ request_id: undefined, accounts: [...byAccount.values()] }, { requestId: `reconcile-${now}`, logger: ctx.logger });
  if (!call.ok) {
    ctx.logger.warn({ node_code: transport.nodeCode, reason: call.message }, 'reconcile lookup failed; will retry');
    return undefined;
  }
  return call.value;
}

/** Runs `reconcileOnce` every `reconcile_interval` until stopped. */
export function startReconciler(ctx: CenterContext): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = reconcileOnce(ctx)
      .catch((error: unknown) => ctx.logger.error({ err: error }, 'reconcile failed'))
      .finally(() => {
        running = undefined;
      });
  }, ctx.config.reconcile_interval);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
