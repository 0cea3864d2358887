import { hostname } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseWith } from '../../core/validation.js';
import type { CenterContext } from '../context.js';
import { applyOutcome, noFill } from '../dispatch/apply-results.js';
import { completeSignal } from '../dispatch/dispatcher.js';
import { sendGroup } from '../dispatch/send-group.js';
import { JobQueue, JobSchema, type Delivery, type Job } from './job-queue.js';

export interface WorkerOptions {
  concurrency: number;
  /** NODE_EXECUTE_POLL_TIMEOUT: how long one blocking read waits for a job. */
  pollTimeoutMs: number;
  /** A job unacknowledged this long is given to another worker. */
  visibilityMs: number;
  maxAttempts: number;
}

export interface RunningWorker {
  consumer: string;
  readonly inFlight: number;
  /** Stops reading, finishes the jobs in hand, closes the connections. */
  stop(): Promise<void>;
}

/**
 * `tradectl center worker`: takes node jobs from the queue, sends them to
 * their node and applies the results exactly as direct mode does (the same
 * `sendGroup`), then acknowledges. A redelivered job is sent as a
 * retry, so the node looks every order up before placing it.
 */
export function startWorker(ctx: CenterContext, reader: Redis, commands: Redis, options: WorkerOptions): RunningWorker {
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const stream = ctx.config.node_execute_queue ?? 'node-execute';
  const reading = new JobQueue(reader, stream);
  const queue = new JobQueue(commands, stream);
  const inFlight = new Set<Promise<void>>();
  const errors = `${stream}:errors`;
  let stopping = false;
  let lastClaim = 0;
  let warnedDown = false;
  let groupReady = false;

  async function handle(delivery: Delivery): Promise<void> {
    const count = await queue.delivered(delivery);
    const parsed = delivery.payload === undefined ? undefined : safeJson(delivery.payload);
    const job = parsed === undefined ? undefined : parseWith(JobSchema, parsed);
    if (!job?.ok) {
      ctx.logger.error({ job_id: delivery.id }, 'malformed queue job moved to the dead-letter stream');
      await queue.deadLetter(delivery, 'malformed job payload');
      return ctx.metrics.workerJob('dead_letter');
    }
    if (count > options.maxAttempts) {
      const reason = (await commands.hget(errors, delivery.id)) ?? 'unknown error';
      await giveUp(job.value, `queue gave up after ${count - 1} attempts: ${reason}`);
      await commands.hdel(errors, delivery.id);
      await queue.deadLetter(delivery, `gave up after ${count - 1} attempts: ${reason}`);
      return ctx.metrics.workerJob('dead_letter');
    }
    // A redelivery keeps the job's id: the same job in every log.
    const requestId = job.value.request_id ?? randomUUID();
    try {
      await runJob(job.value, count > 1, requestId);
      await queue.ack(delivery.id);
      await commands.hdel(errors, delivery.id);
      ctx.metrics.workerJob('done');
    } catch (error) {
      // Left unacknowledged: another worker (or this one) takes it again
      // after the visibility timeout.
      const reason = error instanceof Error ? error.message : String(error);
      ctx.logger.warn({ job_id: delivery.id, request_id: requestId, attempt: count, reason }, 'queue job failed; it will be redelivered');
      await commands.hset(errors, delivery.id, reason.slice(0, 500)).catch(() => undefined);
      ctx.metrics.workerJob('failed');
    }
  }

  async function runJob(job: Job, redelivered: boolean, requestId: string): Promise<void> {
    const k = ctx.db.kysely;
    const [signal, node] = await Promise.all([
      k.selectFrom('fact_signal').selectAll().where('id', '=', job.signal_row_id).executeTakeFirst(),
      k.selectFrom('dim_execution_node').selectAll().where('id', '=', job.node_id).executeTakeFirst(),
    ]);
    if (!signal) throw new Error(`signal row ${job.signal_row_id} does not exist`);
    if (!node) throw new Error(`node ${job.node_id} no longer exists`);
    // The center routed this job; the node's own answer (or silence) decides the rest.
    await sendGroup(ctx, signal, node, job.order_ids, job.retry || redelivered, requestId);
    await completeSignal(ctx, signal.id);
  }

  /** The job is abandoned; its orders are handed to the reconciler, never dropped. */
  async function giveUp(job: Job, reason: string): Promise<void> {
    for (const id of job.order_ids) {
      await applyOutcome(ctx.db.kysely, id, noFill('unknown', 'unknown_outcome', reason), ctx.rules).catch(() => undefined);
    }
  }

  function track(delivery: Delivery): void {
    const work = handle(delivery).catch((error: unknown) => ctx.logger.error({ err: error, job_id: delivery.id }, 'queue job handling failed'));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        if (inFlight.size >= options.concurrency) {
          await Promise.race(inFlight);
          continue;
        }
        // Once per connection: a Redis that restarted empty has lost the group too.
        if (!groupReady) {
          await queue.ensureGroup();
          groupReady = true;
        }
        const free = options.concurrency - inFlight.size;
        let batch: Delivery[] = [];
        if (Date.now() - lastClaim >= options.visibilityMs / 2) {
          lastClaim = Date.now();
          batch = await queue.claimStale(consumer, options.visibilityMs, free);
          if (batch.length > 0) ctx.logger.info({ jobs: batch.length }, 'took over jobs a stopped worker left unacknowledged');
        }
        if (batch.length === 0) batch = await reading.readNew(consumer, free, Math.min(options.pollTimeoutMs, options.visibilityMs / 2));
        if (warnedDown) ctx.logger.info('queue reachable again');
        warnedDown = false;
        for (const delivery of batch) track(delivery);
      } catch (error) {
        if (stopping) break;
        groupReady = false;
        if (!warnedDown) ctx.logger.warn({ reason: (error as Error).message }, 'queue unreachable; retrying');
        warnedDown = true;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  const running = loop();
  ctx.logger.info({ consumer, stream, concurrency: options.concurrency }, 'worker started');
  return {
    consumer,
    get inFlight() {
      return inFlight.size;
    },
    async stop() {
      stopping = true;
      // Ends a blocking read at once; jobs it had not yet returned stay pending for others.
      reader.disconnect();
      await running;
      await Promise.allSettled([...inFlight]);
      commands.disconnect();
      ctx.logger.info({ consumer }, 'worker stopped');
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
