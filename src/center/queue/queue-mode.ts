import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CenterContext } from '../context.js';
import type { NodeRow, SignalRow } from '../db/schema.js';
import { sendGroup } from '../dispatch/send-group.js';
import { JobQueue, type QueueStats } from './job-queue.js';

/** Queue mode on the center: remote node jobs go to Redis instead of a POST. */
export interface QueueMode {
  queue: JobQueue;
  redis: Redis;
  /** This center process: jobs queued, and jobs sent directly because queuing failed (docs/design.md R4.5). */
  counters: { enqueued: number; fallbacks: number };
  /** Queues one node's share of a signal as a job; sends it directly when queuing fails. */
  send(ctx: CenterContext, signal: SignalRow, node: NodeRow, orderIds: number[], retry: boolean): Promise<void>;
  stats(): Promise<QueueStats & { enqueued: number; fallbacks: number }>;
}

export function createQueueMode(redis: Redis, stream: string): QueueMode {
  const queue = new JobQueue(redis, stream);
  const counters = { enqueued: 0, fallbacks: 0 };
  const send: QueueMode['send'] = async (ctx, signal, node, orderIds, retry) => {
    const requestId = randomUUID();
    const log = ctx.logger.child({ request_id: requestId });
    try {
      const jobId = await queue.enqueue({ v: 1, signal_row_id: signal.id, node_id: node.id, order_ids: orderIds, retry, enqueued_at: Date.now(), request_id: requestId });
      counters.enqueued++;
      log.debug({ node_code: node.node_code, signal_id: signal.signal_id, job_id: jobId, accounts: orderIds.length }, 'job queued');
    } catch (error) {
      // docs/design.md R4.5: if queuing fails, send directly. Should the job have been
      // queued after all, the worker's claim makes its send a retry.
      counters.fallbacks++;
      log.warn({ node_code: node.node_code, signal_id: signal.signal_id, reason: (error as Error).message, fallbacks: counters.fallbacks }, 'queueing failed; sending directly');
      await sendGroup(ctx, signal, node, orderIds, retry, requestId);
    }
  };
  return {
    queue,
    redis,
    counters,
    send,
    async stats() {
      return { ...(await queue.stats()), ...counters };
    },
  };
}
