import { execute, type ExecuteDeps } from '../../execution/execute.js';
import { queryOrders } from '../../execution/query-orders.js';
import { syncBalances, syncPositions } from '../../execution/sync.js';
import type { Transport } from './transport.js';

/**
 * In-process execution for accounts without a node: the very functions a
 * node's routes call, on the center's own trader pool and concurrency bound.
 * Nothing is in transit, so every call answers.
 */
export function localTransport(deps: ExecuteDeps): Transport {
  return {
    nodeCode: null,
    execute: async (batch, job) => ({ ok: true, value: await execute(batch, { ...deps, logger: job.logger }) }),
    queryOrders: async (batch, job) => ({ ok: true, value: await queryOrders(batch, { ...deps, logger: job.logger }) }),
    syncBalances: async (batch, job) => ({ ok: true, value: await syncBalances(batch, { ...deps, logger: job.logger }) }),
    syncPositions: async (batch, job) => ({ ok: true, value: await syncPositions(batch, { ...deps, logger: job.logger }) }),
  };
}
