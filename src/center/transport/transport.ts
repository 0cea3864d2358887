import type { Logger } from 'pino';
import type { AccountResult, ExecuteBatch } from '../../core/wire-execute.js';
import type { QueryOrdersBatch, QueryResult } from '../../core/wire-query.js';
import type { BalanceResult, PositionResult, SyncBatch } from '../../core/wire-sync.js';
import type { NodeCall } from './node-client.js';

/**
 * How the center has an account's work done: in this process, for accounts
 * without a node (`local-transport.ts`), or by one POST to the account's
 * node (`http-transport.ts`). Dispatch, reconciliation and sync go through
 * this and never ask which; `routing.ts` says which an account gets.
 */
export interface Transport {
  /** The node's code in logs; null in-process. */
  readonly nodeCode: string | null;
  execute(batch: ExecuteBatch, job: Job): Promise<TransportAnswer<AccountResult[]>>;
  queryOrders(batch: QueryOrdersBatch, job: Job): Promise<TransportAnswer<QueryResult[]>>;
  syncBalances(batch: SyncBatch, job: Job): Promise<TransportAnswer<BalanceResult[]>>;
  syncPositions(batch: SyncBatch, job: Job): Promise<TransportAnswer<PositionResult[]>>;
}

/** Names one call in both sides' logs (`X-Request-Id`). */
export interface Job {
  requestId: string;
  logger: Logger;
}

/** What came back: the results, or why there are none (see `NodeCall` for what each kind lets the center conclude). */
export type TransportAnswer<T> = { ok: true; value: T } | TransportFailure;
export type TransportFailure = Omit<Extract<NodeCall<unknown>, { ok: false }>, 'ms'>;
