import { randomUUID } from 'node:crypto';
import { clientOrderIdFor } from '../../core/client-order-id.js';
import { accountToWire, MAX_DECIMAL } from '../../core/wire-fields.js';
import { ExecuteResponseSchema, type AccountResult, type Signal } from '../../core/wire-execute.js';
import { execute } from '../../execution/execute.js';
import type { CenterContext } from '../context.js';
import { isUniqueViolation, transact } from '../db/connect.js';
import { insertRows } from '../db/raw-rows.js';
import type { NodeRow, SignalRow } from '../db/schema.js';
import { signalColumns, signalOfRow } from '../db/signal-rows.js';
import { nodeAvailability } from '../nodes.js';
import { failuresOf, markUnapplied, outcomeOfResult, type ApplyItem, type ApplyOutcome, type OrderOutcome } from './apply-results.js';
import { applyQueueFor, type ExpectedAnswer } from './apply-queue.js';
import { stageTimings } from './stage-timings.js';
import { readTargets, unsealTarget, type DispatchTarget, type SealedTarget } from './targets.js';

export class SignalError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Accepted {
  signal: SignalRow;
  /** True when this signal_id was seen before: nothing new was placed. */
  duplicate: boolean;
  orderIds: number[];
  /** How a new signal's orders are dispatched, worked out while accepting it (`dispatchAccepted`). */
  plan?: DispatchPlan;
}

/** Where each order of a dispatch goes. */
interface Routing {
  nodes: Map<number, NodeRow>;
  /** Run in-process: no node, or an unavailable one with `fallback_to_local`. */
  local: number[];
  /** By node id, online nodes only. */
  remote: Map<number, number[]>;
  /** Recorded as failed (`node_unavailable`) with the reason. */
  unavailable: Array<[number, string]>;
}

/** Orders claimed for sending from this process (order id → attempt), with their targets, still sealed. */
interface Claimed {
  attempts: ReadonlyMap<number, number>;
  sealed: ReadonlyMap<number, SealedTarget>;
}

/** A new signal's routing and the orders its acceptance claimed. */
export interface DispatchPlan {
  routing: Routing;
  claimed: Claimed;
}

/**
 * Step 1–2 of dispatch: the strategy's enabled bindings × enabled accounts
 * become one `pending` order each, written with the signal in one
 * transaction before anything is sent (write before send). A signal_id seen
 * before returns the first acceptance.
 */
export async function acceptSignal(ctx: CenterContext, strategyCode: string, signal: Signal, requestId: string): Promise<Accepted> {
  const k = ctx.db.kysely;
  const signalId = String(signal.signal_id);
  const existing = await k.selectFrom('fact_signal').selectAll().where('signal_id', '=', signalId).executeTakeFirst();
  if (existing) return duplicateOf(ctx, existing);

  const strategy = await k.selectFrom('dim_strategy').selectAll().where('strategy_code', '=', strategyCode).executeTakeFirst();
  if (!strategy) throw new SignalError(404, 'strategy_not_found', `no strategy "${strategyCode}"`);
  if (strategy.enabled !== 1) throw new SignalError(409, 'strategy_disabled', `strategy "${strategyCode}" is disabled`);

  const targets = await k
    .selectFrom('dim_strategy_binding as b')
    .innerJoin('fact_exchange_account as a', 'a.id', 'b.account_id')
    .innerJoin('dim_user as u', 'u.id', 'a.user_id')
    .select(['a.id as account_id', 'a.user_id', 'a.execution_node_id', 'b.multiplier', 'u.points_units'])
    // The sealed credentials too: the orders sent from this process are claimed and sent without reading them back.
    .select(['a.exchange', 'a.api_key_enc', 'a.api_secret_enc', 'a.passphrase_enc', 'a.sandbox'])
    .where('b.strategy_id', '=', strategy.id)
    .where('b.enabled', '=', 1)
    .where('a.enabled', '=', 1)
    .orderBy('a.id')
    .execute();

  const now = Date.now();
  const nodes = await readNodes(ctx, targets.map((t) => t.execution_node_id));
  const destinations = new Map(targets.map((t) => [t.account_id, destinationOf(ctx, t.execution_node_id, nodes, now)]));
  // Orders this process sends (in-process, and every online node's unless the
  // queue takes them) are claimed as they are written: attempt 1, which only
  // this transaction can give them. A separate claim of 1,000 orders after
  // the commit was ~20 ms of every dispatch on MariaDB (bench fan-out).
  const sendsDirectly = ctx.remote === sendGroup;
  const claimsNow = (accountId: number) => {
    const d = destinations.get(accountId) as Destination;
    return d.kind === 'local' || (d.kind === 'remote' && sendsDirectly);
  };
  try {
    return await transact(k, async (trx) => {
      const inserted = await trx
        .insertInto('fact_signal')
        .values({
          ...signalColumns(signal),
          strategy_id: strategy.id,
          request_id: requestId,
          status: 'accepted',
          accepted_at: now,
          dispatched_at: null,
          completed_at: null,
        })
        .executeTakeFirstOrThrow();
      const signalRowId = Number(inserted.insertId);
      const skipped = new Set<number>();
      const rows = targets.map((t) => {
        const quantity = Number((signal.quantity * Number(t.multiplier)).toPrecision(12));
        const refusal = refusalOf(ctx, t.points_units, quantity, t.multiplier);
        if (refusal) skipped.add(t.account_id);
        const claimed = !refusal && claimsNow(t.account_id);
        return {
          signal_row_id: signalRowId,
          account_id: t.account_id,
          user_id: t.user_id,
          execution_node_id: t.execution_node_id,
          client_order_id: clientOrderIdFor(signalId, t.account_id),
          symbol: signal.symbol,
          side: signal.side,
          quantity: String(quantity),
          status: refusal ? 'skipped' : 'pending',
          filled_quantity: '0',
          error_code: refusal?.code ?? null,
          error_message: refusal?.message ?? null,
          attempts: claimed ? 1 : 0,
          dispatched_at: claimed ? now : null,
          created_at: now,
          completed_at: refusal ? now : null,
          updated_at: now,
        };
      });
      // One statement per chunk instead of one round trip per order. The ids
      // are read back by (signal, account): MySQL's insertId of a multi-row
      // INSERT is only the first id, and the rest are consecutive only under
      // some innodb_autoinc_lock_mode settings.
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertRows(trx, 'fact_order', rows.slice(i, i + INSERT_CHUNK));
      const written = rows.length === 0 ? [] : await trx.selectFrom('fact_order').select(['id', 'account_id']).where('signal_row_id', '=', signalRowId).execute();
      const idOf = new Map(written.map((r) => [r.account_id, r.id]));
      const orderIds = targets.filter((t) => !skipped.has(t.account_id)).map((t) => idOf.get(t.account_id) as number);
      const signalRow = await trx.selectFrom('fact_signal').selectAll().where('id', '=', signalRowId).executeTakeFirstOrThrow();
      const routing: Routing = { nodes, local: [], remote: new Map(), unavailable: [] };
      const attempts = new Map<number, number>();
      const sealed = new Map<number, SealedTarget>();
      rows.forEach((row, i) => {
        const t = targets[i] as (typeof targets)[number];
        if (skipped.has(t.account_id)) return;
        const id = idOf.get(t.account_id) as number;
        route(routing, id, destinations.get(t.account_id) as Destination);
        if (!claimsNow(t.account_id)) return;
        attempts.set(id, 1);
        sealed.set(id, {
          order: { id, signal_row_id: signalRowId, account_id: t.account_id, execution_node_id: t.execution_node_id, client_order_id: row.client_order_id, symbol: row.symbol, quantity: row.quantity },
          exchange: t.exchange,
          apiKeyEnc: t.api_key_enc,
          apiSecretEnc: t.api_secret_enc,
          passphraseEnc: t.passphrase_enc,
          sandbox: t.sandbox === 1,
          accountNodeId: t.execution_node_id,
        });
      });
      return { signal: signalRow, duplicate: false, orderIds, plan: { routing, claimed: { attempts, sealed } } };
    });
  } catch (error) {
    // The same signal_id posted twice at once: the other request won.
    if (!isUniqueViolation(error)) throw error;
    const winner = await k.selectFrom('fact_signal').selectAll().where('signal_id', '=', signalId).executeTakeFirstOrThrow();
    return duplicateOf(ctx, winner);
  }
}

/** Why an account's order is recorded `skipped` instead of sent, or undefined when it is sent. */
function refusalOf(ctx: CenterContext, pointsUnits: bigint, quantity: number, multiplier: string): { code: string; message: string } | undefined {
  if (ctx.config.require_points && pointsUnits <= 0n) return { code: 'insufficient_points', message: 'the account owner has no points left (require_points is on)' };
  // The signal's own quantity is checked at the door; a binding's multiplier can still take one account's share past the bound every node enforces.
  if (quantity > MAX_DECIMAL) return { code: 'invalid_order', message: `quantity ${quantity} (the signal's × multiplier ${multiplier}) is above the largest accepted, ${MAX_DECIMAL.toExponential()}` };
  return undefined;
}

/** Pending orders per INSERT: 16 placeholders each, far below MySQL's 65,535 and SQLite's 32,766. */
const INSERT_CHUNK = 500;

async function duplicateOf(ctx: CenterContext, signal: SignalRow): Promise<Accepted> {
  const orders = await ctx.db.kysely.selectFrom('fact_order').select('id').where('signal_row_id', '=', signal.id).execute();
  return { signal, duplicate: true, orderIds: orders.map((o) => o.id) };
}

/**
 * Takes the right to send these orders, atomically: bumps `attempts` on the
 * ones still `pending` or `unknown` and returns their new attempt numbers.
 * Two senders of the same order (a slow dispatch and the reconciler, a
 * redelivered queue job) can never both send attempt 1: the later one sends
 * a retry, so its node looks the order up before placing anything.
 */
export async function claimOrders(ctx: CenterContext, orderIds: number[]): Promise<Map<number, number>> {
  if (orderIds.length === 0) return new Map();
  return transact(ctx.db.kysely, async (trx) => {
    const now = Date.now();
    await trx
      .updateTable('fact_order')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), dispatched_at: now, updated_at: now }))
      .where('id', 'in', orderIds)
      .where('status', 'in', ['pending', 'unknown'])
      .execute();
    const claimed = await trx
      .selectFrom('fact_order')
      .select(['id', 'attempts'])
      .where('id', 'in', orderIds)
      .where('status', 'in', ['pending', 'unknown'])
      // A locking read on MySQL sees the rows as they are, not the snapshot.
      .$if(ctx.db.dialect === 'mysql', (qb) => qb.forUpdate())
      .execute();
    return new Map(claimed.map((r) => [r.id, r.attempts]));
  });
}

/** Orders a caller of `sendGroup` already claimed (order id → attempt), and their targets. */
interface Prepared {
  attempts: ReadonlyMap<number, number>;
  targets: DispatchTarget[];
}

/** How one node's (or the center's) share of a signal is delivered; the queue swaps in here. */
export type RemoteSender = (ctx: CenterContext, signal: SignalRow, node: NodeRow, orderIds: number[], retry: boolean) => Promise<void>;

type Destination = { kind: 'local' } | { kind: 'remote'; nodeId: number } | { kind: 'unavailable'; reason: string };

/** The nodes these ids name, by id. */
async function readNodes(ctx: CenterContext, ids: ReadonlyArray<number | null>): Promise<Map<number, NodeRow>> {
  const nodeIds = [...new Set(ids.filter((id): id is number => id !== null))];
  const nodes = new Map<number, NodeRow>();
  if (nodeIds.length > 0) for (const n of await ctx.db.kysely.selectFrom('dim_execution_node').selectAll().where('id', 'in', nodeIds).execute()) nodes.set(n.id, n);
  return nodes;
}

/** Where an order for an account on this node goes now: its online node, in-process, or nowhere. */
function destinationOf(ctx: CenterContext, nodeId: number | null, nodes: ReadonlyMap<number, NodeRow>, now: number): Destination {
  if (nodeId === null) return { kind: 'local' };
  const node = nodes.get(nodeId);
  const availability = node ? nodeAvailability(node, now, ctx.config.node_heartbeat_timeout) : { online: false, reason: 'node was deleted' };
  if (availability.online) return { kind: 'remote', nodeId };
  if (ctx.config.fallback_to_local) return { kind: 'local' };
  return { kind: 'unavailable', reason: `${node?.node_code ?? `node ${nodeId}`}: ${availability.reason}` };
}

function route(routing: Routing, orderId: number, destination: Destination): void {
  if (destination.kind === 'local') routing.local.push(orderId);
  else if (destination.kind === 'remote') {
    const group = routing.remote.get(destination.nodeId);
    if (group) group.push(orderId);
    else routing.remote.set(destination.nodeId, [orderId]);
  } else routing.unavailable.push([orderId, destination.reason]);
}

/**
 * Steps 3–5: routes the given orders by node, all groups in parallel:
 * accounts without a node run in-process through the node's own
 * `execute()`, each online node gets one POST (or, in queue mode, one job),
 * offline nodes' accounts are recorded as `node_unavailable`. `retry` marks
 * a resend, so nodes look each order up before placing anything.
 */
export async function dispatchOrders(ctx: CenterContext, signal: SignalRow, orderIds: number[], retry: boolean, remoteSender: RemoteSender = ctx.remote): Promise<void> {
  if (orderIds.length === 0) return;
  const rows = await ctx.db.kysely
    .selectFrom('fact_order as o')
    .innerJoin('fact_exchange_account as a', 'a.id', 'o.account_id')
    .select(['o.id', 'o.execution_node_id', 'a.execution_node_id as account_node_id'])
    .where('o.id', 'in', orderIds)
    .execute();
  const nodeIdOf = (r: (typeof rows)[number]) => r.execution_node_id ?? r.account_node_id;
  const nodes = await readNodes(ctx, rows.map(nodeIdOf));
  const now = Date.now();
  const routing: Routing = { nodes, local: [], remote: new Map(), unavailable: [] };
  for (const row of rows) route(routing, row.id, destinationOf(ctx, nodeIdOf(row), nodes, now));
  await markDispatched(ctx, signal, now);

  // The groups sent from here (in-process, and every node unless the queue
  // takes them) are claimed in one transaction and read with one query, not
  // one of each per node: the last node's request waited behind every other
  // group's (≈140 ms for 20 nodes of 50 accounts, bench fan-out). Queued jobs
  // are claimed and read by the worker that sends them.
  const direct = [...routing.local, ...(remoteSender === sendGroup ? [...routing.remote.values()].flat() : [])];
  // The read does not depend on the claim (only claimed orders are sent): on MySQL they overlap on two connections.
  const [attempts, read] = await Promise.all([claimOrders(ctx, direct), readTargets(ctx, direct)]);
  await launch(ctx, signal, routing, retry, remoteSender, { attempts, sealed: new Map(read.map((t) => [t.order.id, t])) });
}

/** Dispatches a signal `acceptSignal` has just written, with the routing and claims it made then. */
export async function dispatchAccepted(ctx: CenterContext, accepted: Accepted): Promise<void> {
  const { signal, orderIds, plan } = accepted;
  if (!plan) return dispatchOrders(ctx, signal, orderIds, false);
  await markDispatched(ctx, signal, Date.now());
  await launch(ctx, signal, plan.routing, false, ctx.remote, plan.claimed);
}

async function markDispatched(ctx: CenterContext, signal: SignalRow, now: number): Promise<void> {
  await ctx.db.kysely.updateTable('fact_signal').set({ status: 'dispatched', dispatched_at: now }).where('id', '=', signal.id).where('dispatched_at', 'is', null).execute();
}

async function launch(ctx: CenterContext, signal: SignalRow, routing: Routing, retry: boolean, remoteSender: RemoteSender, claimed: Claimed): Promise<void> {
  const sendsDirectly = remoteSender === sendGroup;
  // Unsealed group by group as each is launched: secrets are decrypted only
  // for the request that carries them, and a credential that cannot be
  // decrypted fails its own group (a rejected job), not the launch of the rest.
  const sendDirect = async (node: NodeRow | null, ids: number[]): Promise<void> => {
    const mine = ids.filter((id) => claimed.attempts.has(id)).sort((a, b) => a - b);
    const targets = mine.map((id) => unsealTarget(ctx, claimed.sealed.get(id) as SealedTarget));
    return sendGroup(ctx, signal, node, ids, retry, randomUUID(), { attempts: new Map(mine.map((id) => [id, claimed.attempts.get(id) as number])), targets });
  };

  // All launched in one go (their requests are written right after): a turn
  // of the event loop between launches let other work in and stretched the
  // launch of 20 groups from ~25 ms to 66-152 ms on MySQL (bench fan-out).
  // In-process accounts last: their exchange calls run on this process's CPU.
  await Promise.all([
    applyBatch(
      ctx,
      routing.unavailable.map(([orderId, reason]) => ({ orderId, outcome: { status: 'failed', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code: 'node_unavailable', message: reason } } })),
      ctx.logger,
    ),
    ...[...routing.remote].map(([nodeId, ids]) => (sendsDirectly ? sendDirect(routing.nodes.get(nodeId) as NodeRow, ids) : remoteSender(ctx, signal, routing.nodes.get(nodeId) as NodeRow, ids, retry))),
    sendDirect(null, routing.local),
  ]);
  await completeSignal(ctx, signal.id);
}

/**
 * Claims, sends and applies one group: in-process when `node` is null, else
 * one POST to the node. Direct mode, the reconciler and the queue worker all
 * end here. `requestId` names this job in both sides' logs (`X-Request-Id`);
 * a queued job carries the one the center gave it. `prepared`: the caller
 * already claimed these orders and read their targets.
 */
export async function sendGroup(
  ctx: CenterContext,
  signal: SignalRow,
  node: NodeRow | null,
  orderIds: number[],
  retry: boolean,
  requestId: string = randomUUID(),
  prepared?: Prepared,
): Promise<void> {
  // The targets are read alongside the claim, as dispatchOrders does: only claimed ones are unsealed and sent.
  const [claimed, read] = prepared ? [prepared.attempts, undefined] : await Promise.all([claimOrders(ctx, orderIds), readTargets(ctx, orderIds)]);
  if (claimed.size === 0) return;
  const log = ctx.logger.child({ request_id: requestId });
  const group = prepared?.targets ?? (read ?? []).filter((t) => claimed.has(t.order.id)).map((t) => unsealTarget(ctx, t));
  const attempt = Math.max(...claimed.values());
  const base = { request_id: requestId, attempt, retry: retry || attempt > 1, signal: signalOfRow(signal) };
  const job = { signal_id: signal.signal_id, node_code: node?.node_code ?? null, accounts: group.length, attempt };
  log.debug(job, 'sending job');
  // Counted from here to its answer, so answers that came first may wait a little for it and share a transaction.
  const expected = applyQueueFor(ctx.db.kysely, ctx.rules).expectAnswer();
  try {
    const started = performance.now();
    const answered = () => ({ roundTripMs: performance.now() - started, answeredAt: Date.now() });
    const applyAnswer = async (results: AccountResult[], answer: { roundTripMs: number; answeredAt: number }) => {
      const items = itemsOf(group, results, answer);
      const applied = await applyBatch(ctx, items, log, expected);
      // Only answers that changed their order: a redelivered job's repeat answer is not a second observation.
      const changed = new Set(group.filter((_, i) => applied[i] === 'applied').map((t) => String(t.account.account_id)));
      observeStages(ctx, signal, results.filter((r) => changed.has(String(r.account_id))), answer, Date.now());
      log.info({ ...job, statuses: countStatuses(results), ms: Math.round(answer.roundTripMs) }, 'job answered');
    };
    if (node === null) {
      const results = await execute({ ...base, accounts: group.map((t) => t.account) }, { ...ctx.local, logger: log });
      return applyAnswer(results, answered());
    }
    const call = await ctx.nodes.post(node, '/api/execute', { ...base, accounts: group.map(wireAccount) }, ExecuteResponseSchema, requestId);
    if (call.ok) return applyAnswer(call.value.results, answered());
    log.warn({ ...job, kind: call.kind, status: call.status, reason: call.message }, 'node call failed');
    if (call.kind === 'unreachable' || call.status === 503 || call.code === 'signature_expired') {
      // The node is restarting or draining, or has just restarted and refuses
      // signatures older than itself: nothing was executed, and it is expected
      // back. The orders stay pending for the reconciler, which looks them up
      // and resends them while the signal is younger than signal_max_age.
      await ctx.db.kysely
        .updateTable('fact_order')
        .set({ error_code: 'node_unavailable', error_message: call.message.slice(0, 1000), updated_at: Date.now() })
        .where('id', 'in', group.map((t) => t.order.id))
        .where('status', 'in', ['pending', 'unknown'])
        .execute();
      return;
    }
    // No answer about these orders: "unknown" unless the node provably did nothing.
    const outcome: OrderOutcome =
      call.kind === 'ambiguous'
        ? { status: 'unknown', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code: 'unknown_outcome', message: call.message } }
        : { status: 'failed', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code: call.kind === 'refused' ? 'node_refused' : 'node_unavailable', message: call.message } };
    await applyBatch(ctx, group.map((t) => ({ orderId: t.order.id, outcome })), log, expected);
  } finally {
    expected.done();
  }
}

function countStatuses(results: AccountResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

function observeStages(ctx: CenterContext, signal: SignalRow, results: AccountResult[], answer: { roundTripMs: number; answeredAt: number }, appliedAt: number): void {
  for (const r of results) {
    ctx.metrics.stages(
      stageTimings({
        acceptedAt: signal.accepted_at,
        onNodeMs: r.latency_ms,
        nodeQueuedMs: r.timings_ms?.queued ?? null,
        nodeExchangeMs: r.timings_ms?.exchange ?? null,
        roundTripMs: answer.roundTripMs,
        answeredAt: answer.answeredAt,
        appliedAt,
      }),
    );
  }
}

function wireAccount(target: DispatchTarget): Record<string, unknown> {
  return { ...accountToWire(target.account), quantity: target.account.quantity, client_order_id: target.account.client_order_id };
}

/** One item per target; a node that leaves an account out has not told us anything about it. */
function itemsOf(targets: DispatchTarget[], results: AccountResult[], answer: { roundTripMs: number; answeredAt: number }): ApplyItem[] {
  const byAccount = new Map(results.map((r) => [String(r.account_id), r]));
  return targets.map((t) => {
    const result = byAccount.get(String(t.account.account_id));
    const outcome: OrderOutcome = result
      ? outcomeOfResult(result)
      : { status: 'unknown', exchangeOrderId: null, filledQuantity: 0, filledPrice: null, error: { code: 'unknown_outcome', message: 'the node returned no result for this account' } };
    return { orderId: t.order.id, outcome: { ...outcome, answer } };
  });
}

/**
 * Applies a group's outcomes, many orders per transaction (`applyOutcomes`).
 * An order whose result cannot be applied is marked `unknown` instead
 * (`markUnapplied`), so the reconciler asks the exchange about it like any
 * order whose answer was lost, after `reconcile_after`; only if even that
 * fails does this throw, after every other order of the group is applied.
 */
async function applyBatch(ctx: CenterContext, items: ApplyItem[], log: CenterContext['logger'], answering?: ExpectedAnswer): Promise<Array<ApplyOutcome | Error>> {
  const applying = applyQueueFor(ctx.db.kysely, ctx.rules).apply(items);
  // Only now that the queue holds this answer: the answers lingering for it are applied with it.
  answering?.done();
  const results = await applying;
  if (items.length === 0) return results;
  const failed = failuresOf(items, results);
  if (failed.length === 0) return results;
  for (const { orderId, error } of failed) log.error({ order_id: orderId, reason: error.message }, 'could not apply the result of this order; it is marked unknown for the reconciler');
  try {
    await markUnapplied(ctx.db.kysely, failed, Date.now());
  } catch (error) {
    throw new AggregateError([error], `${failed.length} of ${items.length} order results could neither be applied nor marked unknown: ${(error as Error).message}`);
  }
  return results;
}

/** Marks the signal completed once none of its orders waits for an answer. */
export async function completeSignal(ctx: CenterContext, signalRowId: number): Promise<void> {
  const open = await ctx.db.kysely
    .selectFrom('fact_order')
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .where('signal_row_id', '=', signalRowId)
    .where('status', 'in', ['pending', 'unknown'])
    .executeTakeFirstOrThrow();
  if (Number(open.n) === 0) {
    await ctx.db.kysely.updateTable('fact_signal').set({ status: 'completed', completed_at: Date.now() }).where('id', '=', signalRowId).where('completed_at', 'is', null).execute();
  }
}

export function newSignalId(): string {
  return `sig-${randomUUID()}`;
}
