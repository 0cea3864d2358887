import { isShort } from '../dispatch/unprotected.js';
import type { AccountRow, NodeRow, OrderLegRow, OrderRow, ProtectiveOrderRow, SignalRow, UserRow } from '../db/schema.js';
import { STAGES, stageTimings, type StageTimings } from '../dispatch/stage-timings.js';
import { nodeAvailability } from '../nodes.js';
import { fromUnits } from '../settle/units.js';
import { iso } from './env.js';
import type { SizingReport } from '../../core/sizing.js';
import { sizingOfColumn } from '../dispatch/binding-sizing.js';

/** How records look in the data API. Credentials are never part of any view. */

export function nodeView(node: NodeRow, now: number, heartbeatTimeoutMs: number, accountCount: number) {
  const availability = nodeAvailability(node, now, heartbeatTimeoutMs);
  return {
    id: node.id,
    node_code: node.node_code,
    name: node.name,
    base_url: node.base_url,
    status: node.status,
    online: availability.online,
    ...(availability.reason ? { offline_reason: availability.reason } : {}),
    last_heartbeat_at: iso(node.last_heartbeat_at),
    heartbeat_age_seconds: node.last_heartbeat_at === null ? null : Math.round((now - node.last_heartbeat_at) / 1000),
    account_count: accountCount,
    version: node.version,
    heartbeat_status: node.heartbeat_status,
    in_flight: node.in_flight,
    capacity: node.capacity,
    reported_url: node.reported_url,
    source: node.source,
    created_at: iso(node.created_at),
  };
}

export function accountView(account: AccountRow, node: Pick<NodeRow, 'id' | 'node_code'> | undefined) {
  return {
    id: account.id,
    user_id: account.user_id,
    exchange: account.exchange,
    label: account.label,
    api_key: account.api_key_hint,
    sandbox: account.sandbox === 1,
    enabled: account.enabled === 1,
    execution: account.execution_node_id === null ? 'center' : 'node',
    node: account.execution_node_id === null ? null : { id: account.execution_node_id, node_code: node?.node_code ?? null },
    created_at: iso(account.created_at),
    updated_at: iso(account.updated_at),
  };
}

export function userView(user: UserRow) {
  return {
    id: user.id,
    username: user.username,
    inviter_id: user.inviter_id,
    points: fromUnits(user.points_units),
    rewards: fromUnits(user.rewards_units),
    created_at: iso(user.created_at),
  };
}

const nullableNumber = (x: string | null) => (x === null ? null : Number(x));

/** One closing order of an action (a close, a reduce, a reverse's close), as the signal view lists it under its order. */
export function legView(leg: OrderLegRow) {
  return {
    role: leg.role,
    position_side: leg.position_side,
    client_order_id: leg.client_order_id,
    exchange_order_id: leg.exchange_order_id,
    status: leg.status,
    filled_quantity: Number(leg.filled_quantity),
    filled_price: nullableNumber(leg.filled_price),
    fee: leg.fee_cost === null ? null : { cost: Number(leg.fee_cost), currency: leg.fee_currency },
    position_before: nullableNumber(leg.position_before),
    position_after: nullableNumber(leg.position_after),
    error: leg.error_code === null ? null : { code: leg.error_code, message: leg.error_message ?? '' },
  };
}

/** A stop-loss or take-profit an order's requests placed, and its state as last reported (`live`, `canceled`, `gone`). */
export function protectiveView(p: ProtectiveOrderRow) {
  return {
    leg: p.leg,
    position_side: p.side,
    exchange_order_id: p.exchange_order_id,
    client_order_id: p.client_order_id,
    amount: Number(p.amount),
    trigger_price: Number(p.trigger_price),
    state: p.state,
  };
}

export function orderView(order: OrderRow, signal: SignalRow, nodeCode: string | null) {
  const errorOf = (text: string | null) => {
    if (text === null) return null;
    const at = text.indexOf(': ');
    return at > 0 ? { code: text.slice(0, at), message: text.slice(at + 2) } : { code: 'error', message: text };
  };
  return {
    order_id: order.id,
    account_id: order.account_id,
    user_id: order.user_id,
    node_code: nodeCode,
    execution: order.execution_node_id === null ? 'center' : 'node',
    client_order_id: order.client_order_id,
    status: order.status,
    quantity: Number(order.quantity),
    // How the node sized it (null: the center did, quantity × multiplier): the spec sent, then what was chosen and why.
    sizing: sizingView(order),
    leverage: order.leverage,
    margin_mode: order.margin_mode,
    exchange_order_id: order.exchange_order_id,
    filled_quantity: Number(order.filled_quantity),
    filled_price: nullableNumber(order.filled_price),
    fee: order.fee_cost === null ? null : { cost: Number(order.fee_cost), currency: order.fee_currency },
    stop_loss_order_id: order.stop_loss_order_id,
    take_profit_order_id: order.take_profit_order_id,
    // How much of the fill its own stop-loss and take-profit cover, as last reported (null: not reported).
    protected_quantity: nullableNumber(order.protected_quantity),
    // Held without (all of) a leg its signal asked for: the reconciler is placing or growing it (see tradectl_center_orders_unprotected).
    unprotected:
      (order.status === 'filled' || order.status === 'partially_filled') &&
      (signal.action === 'open' || signal.action === 'reverse') &&
      (signal.stop_loss !== null || signal.take_profit !== null) &&
      isShort({
        status: order.status,
        filled_quantity: order.filled_quantity,
        protected_quantity: order.protected_quantity,
        missing: (signal.stop_loss !== null && order.stop_loss_order_id === null) || (signal.take_profit !== null && order.take_profit_order_id === null),
      }),
    stop_loss_error: errorOf(order.stop_loss_error),
    take_profit_error: errorOf(order.take_profit_error),
    error: order.error_code === null ? null : { code: order.error_code, message: order.error_message ?? '' },
    attempts: order.attempts,
    latency_ms: {
      accepted_to_dispatched: order.dispatched_at === null ? null : order.dispatched_at - signal.accepted_at,
      on_node: order.node_received_ms,
      accepted_to_result: order.completed_at === null ? null : order.completed_at - signal.accepted_at,
    },
    // The first answer's stages (see dispatch/stage-timings.ts); null where not known.
    stages_ms: stageTimings({
      acceptedAt: signal.accepted_at,
      onNodeMs: order.node_received_ms,
      nodeQueuedMs: order.node_queued_ms,
      nodeExchangeMs: order.node_exchange_ms,
      roundTripMs: order.round_trip_ms,
      answeredAt: order.answered_at,
      appliedAt: order.applied_at,
    }),
    updated_at: iso(order.updated_at),
  };
}

function sizingView(order: OrderRow) {
  const spec = sizingOfColumn(order.sizing);
  if (!spec) return null;
  const report = order.sizing_report === null ? null : (JSON.parse(order.sizing_report) as SizingReport);
  return {
    mode: spec.mode,
    value: spec.value ?? null,
    min_size: spec.min_size,
    max_notional: spec.max_notional ?? null,
    quantity: report?.quantity ?? null,
    equity: report?.equity ?? null,
    price: report?.price ?? null,
    reason: report?.reason ?? null,
  };
}

/** A signal's stages: each the slowest of its orders', which is what held the signal up. */
export function slowestStages(orders: StageTimings[]): StageTimings {
  const out = Object.fromEntries(STAGES.map((stage) => [stage, null])) as StageTimings;
  for (const o of orders) {
    for (const stage of STAGES) {
      const ms = o[stage];
      if (ms !== null && (out[stage] === null || ms > (out[stage] as number))) out[stage] = ms;
    }
  }
  return out;
}
