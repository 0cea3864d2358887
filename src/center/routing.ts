import type { CenterContext } from './context.js';
import type { NodeRow } from './db/schema.js';
import { nodeAvailability } from './nodes.js';
import { httpTransport } from './transport/http-transport.js';
import { localTransport } from './transport/local-transport.js';
import type { Transport } from './transport/transport.js';

/**
 * Where an account's work goes, for dispatch, reconciliation and sync alike:
 * in this process (no node), to its node while the node is online, or
 * nowhere, with the reason. Orders are sent by one rule and looked up or
 * read by another: only sending falls back to in-process with
 * `fallback_to_local`, since a lookup on the wrong machine proves nothing
 * (exchange keys are often restricted to the node's address).
 */
export type Destination = { kind: 'local' } | { kind: 'remote'; node: NodeRow } | { kind: 'unavailable'; reason: string };

export interface Router {
  /** Where new work for an account on `nodeId` is sent now. */
  send(nodeId: number | null): Destination;
  /** Where an account on `nodeId` is asked about its orders, balances and positions. */
  read(nodeId: number | null): Destination;
}

/** A router over the nodes these ids name, as they are now. */
export async function routerFor(ctx: CenterContext, nodeIds: ReadonlyArray<number | null>, now: number = Date.now()): Promise<Router> {
  const ids = [...new Set(nodeIds.filter((id): id is number => id !== null))];
  const nodes = new Map<number, NodeRow>();
  if (ids.length > 0) for (const n of await ctx.db.kysely.selectFrom('dim_execution_node').selectAll().where('id', 'in', ids).execute()) nodes.set(n.id, n);
  const online = (nodeId: number): { node: NodeRow } | { reason: string } => {
    const node = nodes.get(nodeId);
    const availability = node ? nodeAvailability(node, now, ctx.config.node_heartbeat_timeout) : { online: false, reason: 'node was deleted' };
    return node && availability.online ? { node } : { reason: `${node?.node_code ?? `node ${nodeId}`}: ${availability.reason}` };
  };
  return {
    send(nodeId) {
      if (nodeId === null) return { kind: 'local' };
      const found = online(nodeId);
      if ('node' in found) return { kind: 'remote', node: found.node };
      return ctx.config.fallback_to_local ? { kind: 'local' } : { kind: 'unavailable', reason: found.reason };
    },
    read(nodeId) {
      // An order whose node was deleted since is asked about in-process, as
      // its account no longer names that node either.
      if (nodeId === null || !nodes.has(nodeId)) return { kind: 'local' };
      const found = online(nodeId);
      return 'node' in found ? { kind: 'remote', node: found.node } : { kind: 'unavailable', reason: found.reason };
    },
  };
}

/** Items by destination: in-process, one group per online node, and the ones that cannot go anywhere now. */
export interface Groups<T> {
  local: T[];
  remote: Map<number, { node: NodeRow; items: T[] }>;
  unavailable: Array<{ item: T; reason: string }>;
}

export function groupByDestination<T>(items: Iterable<T>, destinationOf: (item: T) => Destination): Groups<T> {
  const groups: Groups<T> = { local: [], remote: new Map(), unavailable: [] };
  for (const item of items) {
    const d = destinationOf(item);
    if (d.kind === 'local') groups.local.push(item);
    else if (d.kind === 'remote') {
      const group = groups.remote.get(d.node.id);
      if (group) group.items.push(item);
      else groups.remote.set(d.node.id, { node: d.node, items: [item] });
    } else groups.unavailable.push({ item, reason: d.reason });
  }
  return groups;
}

/** The transport for one group: in-process, or the node's HTTP API. */
export function transportOf(ctx: CenterContext, node: NodeRow | null): Transport {
  return node === null ? localTransport(ctx.local) : httpTransport(ctx.nodes, node);
}
