import type { Logger } from 'pino';
import type { ExecuteDeps } from '../execution/execute.js';
import type { Limiter } from '../execution/limiter.js';
import type { TraderPool } from '../exchange/trader-pool.js';
import type { CenterConfig } from './config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { Db } from './db/connect.js';
import type { Delivery } from './dispatch/dispatcher.js';
import type { NodeClient } from './transport/node-client.js';
import type { CenterMetrics } from './metrics.js';
import type { QueueMode } from './queue/queue-mode.js';
import type { SettlementRules } from './settle/settlement.js';

/**
 * Everything the center's routes, dispatcher and reconciler share. Built
 * once by `startCenter` (and by tests), passed explicitly.
 */
export interface CenterContext {
  config: CenterConfig;
  db: Db;
  box: SecretBox;
  logger: Logger;
  /** In-process execution for accounts without a node: the node's own `execute()` deps. */
  local: ExecuteDeps & { traders: TraderPool; limiter: Limiter };
  nodes: NodeClient;
  rules: SettlementRules;
  /** How a node's share of a signal leaves the center: a direct POST, or a queue job for a worker (queue mode; `queue` is then set). */
  delivery: Delivery;
  /** Set in queue mode (`use_node_execution_queue`). */
  queue?: QueueMode;
  /** Dispatches and reconciliations still running, so shutdown and tests can wait for them. */
  background: Set<Promise<unknown>>;
  /** `GET /metrics`. */
  metrics: CenterMetrics;
}

/** Runs work in the background, tracked, logging (never throwing) its failure. */
export function inBackground(ctx: CenterContext, what: string, work: () => Promise<unknown>): Promise<unknown> {
  const promise = work().catch((error: unknown) => ctx.logger.error({ err: error, what }, 'background work failed'));
  ctx.background.add(promise);
  void promise.finally(() => ctx.background.delete(promise));
  return promise;
}

export async function waitForBackground(ctx: CenterContext): Promise<void> {
  while (ctx.background.size > 0) await Promise.allSettled([...ctx.background]);
}
