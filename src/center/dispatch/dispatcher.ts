import { randomUUID } from 'node:crypto';
import { announces } from '../../core/wire-heartbeat.js';
import type { CenterContext } from '../context.js';
import type { NodeRow, SignalRow } from '../db/schema.js';
import { groupByDestination, routerFor, type Groups } from '../routing.js';
import type { Accepted, Claimed } from './accept.js';
import { applyBatch } from './apply-batch.js';
import { noFill } from './apply-results.js';
import { claimOrders, type Claim } from './claims.js';
import { sendGroup } from './send-group.js';
import { readTargets, unsealTarget, type SealedTarget } from './targets.js';

/** How a node's share of a signal leaves this process: sent now, or queued for a `center worker` (queue mode). */
export type Delivery = 'direct' | 'queue';

/**
 * Steps 3–5: routes the given orders by node, all groups in parallel:
 * accounts without a node run in-process through the node's own
 * `execute()`, each online node gets one POST (or, in queue mode, one job),
 * offline nodes' accounts are recorded as `node_unavailable`. `retry` marks
 * a resend, so nodes look each order up before placing anything.
 */
export async function dispatchOrders(ctx: CenterContext, signal: SignalRow, orderIds: number[], retry: boolean, delivery: Delivery = ctx.delivery, claim: Claim = 'unsettled'): Promise<void> {
  if (orderIds.length === 0) return;
  const rows = await ctx.db.kysely
    .selectFrom('fact_order as o')
    .innerJoin('fact_exchange_account as a', 'a.id', 'o.account_id')
    .select(['o.id', 'o.execution_node_id', 'a.execution_node_id as account_node_id'])
    .where('o.id', 'in', orderIds)
    .execute();
  const nodeIdOf = (r: (typeof rows)[number]) => r.execution_node_id ?? r.account_node_id;
  const now = Date.now();
  const router = await routerFor(ctx, rows.map(nodeIdOf), now);
  const byDestination = groupByDestination(rows, (r) => router.send(nodeIdOf(r)));
  // Protect-only resends go only where they are honoured: a node of an earlier version would answer one as a plain resend.
  const honoured = (node: NodeRow) => claim !== 'protect' || announces(node.features, 'protect_only');
  for (const [nodeId, g] of byDestination.remote) {
    if (honoured(g.node)) continue;
    byDestination.remote.delete(nodeId);
    ctx.logger.warn({ node_code: g.node.node_code, orders: g.items.length }, 'node does not announce protect_only (upgrade it): its protection resends are not sent');
  }
  const routing: Groups<number> = {
    local: byDestination.local.map((r) => r.id),
    remote: new Map([...byDestination.remote].map(([nodeId, g]) => [nodeId, { node: g.node, items: g.items.map((r) => r.id) }])),
    // A resend the protection pass could not route changes nothing: the order stays as it is for the next pass.
    unavailable: claim === 'protect' ? [] : byDestination.unavailable.map((u) => ({ item: u.item.id, reason: u.reason })),
  };
  await markDispatched(ctx, signal, now);

  // The groups sent from here (in-process, and every node unless the queue
  // takes them) are claimed in one transaction and read with one query, not
  // one of each per node, which held the last node's request behind every
  // other group's. Queued jobs are claimed and read by the worker that sends them.
  const direct = [...routing.local, ...(delivery === 'direct' ? [...routing.remote.values()].flatMap((g) => g.items) : [])];
  // The read does not depend on the claim (only claimed orders are sent): on MySQL they overlap on two connections.
  const [attempts, read] = await Promise.all([claimOrders(ctx, direct, claim), readTargets(ctx, direct)]);
  // The protection pass's resends place nothing but protection (see reconciler.ts).
  await launch(ctx, signal, routing, retry, delivery, { attempts, sealed: new Map(read.map((t) => [t.order.id, t])) }, claim === 'protect');
}

/** Dispatches a signal `acceptSignal` has just written, with the routing and claims it made then. */
export async function dispatchAccepted(ctx: CenterContext, accepted: Accepted): Promise<void> {
  const { signal, orderIds, plan } = accepted;
  if (!plan) return dispatchOrders(ctx, signal, orderIds, false);
  await markDispatched(ctx, signal, Date.now());
  await launch(ctx, signal, plan.routing, false, ctx.delivery, plan.claimed);
}

async function markDispatched(ctx: CenterContext, signal: SignalRow, now: number): Promise<void> {
  await ctx.db.kysely.updateTable('fact_signal').set({ status: 'dispatched', dispatched_at: now }).where('id', '=', signal.id).where('dispatched_at', 'is', null).execute();
}

async function launch(ctx: CenterContext, signal: SignalRow, routing: Groups<number>, retry: boolean, delivery: Delivery, claimed: Claimed, protectOnly = false): Promise<void> {
  // Unsealed group by group as each is launched: secrets are decrypted only
  // for the request that carries them, and a credential that cannot be
  // decrypted fails its own group (a rejected job), not the launch of the rest.
  const sendDirect = async (node: NodeRow | null, ids: number[]): Promise<void> => {
    const mine = ids.filter((id) => claimed.attempts.has(id)).sort((a, b) => a - b);
    const targets = mine.map((id) => unsealTarget(ctx, claimed.sealed.get(id) as SealedTarget));
    return sendGroup(ctx, signal, node, ids, retry, randomUUID(), { attempts: new Map(mine.map((id) => [id, claimed.attempts.get(id) as number])), targets }, protectOnly);
  };
  const sendRemote = (node: NodeRow, ids: number[]): Promise<void> => {
    if (delivery === 'direct' || !ctx.queue || protectOnly) return sendDirect(node, ids);
    return ctx.queue.send(ctx, signal, node, ids, retry);
  };

  // All launched in one go, their requests written right after: yielding to
  // the event loop between launches lets other work delay the later groups.
  // In-process accounts last: their exchange calls run on this process's CPU.
  await Promise.all([
    applyBatch(ctx, routing.unavailable.map(({ item, reason }) => ({ orderId: item, outcome: noFill('failed', 'node_unavailable', reason) })), ctx.logger),
    ...[...routing.remote.values()].map((g) => sendRemote(g.node, g.items)),
    sendDirect(null, routing.local),
  ]);
  await completeSignal(ctx, signal.id);
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
