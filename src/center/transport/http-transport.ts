import type * as v from 'valibot';
import { ExecuteResponseSchema, executeRequestOf } from '../../core/wire-execute.js';
import { QueryOrdersResponseSchema, queryOrdersRequestOf } from '../../core/wire-query.js';
import { SyncBalanceResponseSchema, SyncPositionsResponseSchema, syncRequestOf } from '../../core/wire-sync.js';
import type { NodeAddress, NodeClient } from './node-client.js';
import type { Transport, TransportAnswer } from './transport.js';

/** One node's routes (docs/protocol.md), reached through the center's node client. */
export function httpTransport(client: NodeClient, node: NodeAddress): Transport {
  const post = async <R>(path: string, body: Record<string, unknown>, schema: v.GenericSchema<unknown, { results: R }>, requestId: string): Promise<TransportAnswer<R>> => {
    const call = await client.post(node, path, body, schema, requestId);
    if (!call.ok) {
      const { ms: _ms, ...failure } = call;
      return failure;
    }
    return { ok: true, value: call.value.results };
  };
  return {
    nodeCode: node.node_code,
    execute: (batch, job) => post('/api/execute', executeRequestOf(batch), ExecuteResponseSchema, job.requestId),
    queryOrders: (batch, job) => post('/api/query-orders', queryOrdersRequestOf(batch), QueryOrdersResponseSchema, job.requestId),
    syncBalances: (batch, job) => post('/api/sync-balance', syncRequestOf(batch), SyncBalanceResponseSchema, job.requestId),
    syncPositions: (batch, job) => post('/api/sync-positions', syncRequestOf(batch), SyncPositionsResponseSchema, job.requestId),
  };
}
