import type { Redis } from 'ioredis';
import * as v from 'valibot';

/**
 * The `node-execute` queue (docs/design.md R4.5, R8) as a Redis Stream with one
 * consumer group. A plain list popped with BRPOP loses a job when its worker
 * dies; a stream keeps every delivered job in the group's pending list until
 * it is acknowledged, and XAUTOCLAIM hands jobs idle longer than the
 * visibility timeout to another worker. Delivery counts live in a hash
 * (written once a job is taken over) so a job that keeps failing stops after
 * `queue_max_attempts` and moves to the `<queue>:dead` stream with its
 * reason; nothing vanishes.
 */
export const GROUP = 'tradectl-workers';

export const JobSchema = v.object({
  v: v.literal(1),
  signal_row_id: v.pipe(v.number(), v.integer()),
  node_id: v.pipe(v.number(), v.integer()),
  order_ids: v.pipe(v.array(v.pipe(v.number(), v.integer())), v.minLength(1)),
  retry: v.boolean(),
  enqueued_at: v.number(),
  /**
   * Made by the center when queuing; the worker sends it as `X-Request-Id`.
   * Absent in jobs queued before it existed. Wider than what the center
   * makes now (no `.` or `:`), so jobs queued by an older center still run.
   */
  request_id: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,128}$/))),
});
export type Job = v.InferOutput<typeof JobSchema>;

export interface Delivery {
  id: string;
  /** The raw `job` field; parsed by the worker, so a malformed one can be dead-lettered. */
  payload: string | undefined;
  /** Read as a new entry (`XREADGROUP … >`), which is every job's first delivery and only that. */
  first: boolean;
}

export interface QueueStats {
  stream: string;
  depth: number;
  pending: number;
  consumers: number;
  redeliveries: number;
  dead_letters: number;
}

type StreamEntries = Array<[string, string[]]>;

function deliveries(entries: StreamEntries | null | undefined, first: boolean): Delivery[] {
  return (entries ?? []).map(([id, fields]) => {
    const at = fields.indexOf('job');
    return { id, payload: at >= 0 ? fields[at + 1] : undefined, first };
  });
}

export class JobQueue {
  readonly dead: string;
  private readonly counts: string;
  private readonly statsKey: string;

  constructor(
    private readonly redis: Redis,
    readonly stream: string,
  ) {
    this.dead = `${stream}:dead`;
    this.counts = `${stream}:deliveries`;
    this.statsKey = `${stream}:stats`;
  }

  /** Creates the stream and the group if missing; reading from id 0 so jobs queued before the first worker are kept. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  async enqueue(job: Job): Promise<string> {
    return (await this.redis.xadd(this.stream, '*', 'job', JSON.stringify(job))) as string;
  }

  /** New jobs for this consumer, waiting up to `blockMs` (NODE_EXECUTE_POLL_TIMEOUT). */
  async readNew(consumer: string, count: number, blockMs: number): Promise<Delivery[]> {
    const result = (await this.redis.xreadgroup('GROUP', GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.stream, '>')) as Array<[string, StreamEntries]> | null;
    return deliveries(result?.[0]?.[1], true);
  }

  /** Jobs another worker took and did not acknowledge within `idleMs` (it died or hangs). */
  async claimStale(consumer: string, idleMs: number, count: number): Promise<Delivery[]> {
    const [, entries] = (await this.redis.xautoclaim(this.stream, GROUP, consumer, idleMs, '0-0', 'COUNT', count)) as [string, StreamEntries, string[]];
    return deliveries(entries.filter((e) => e !== null), false);
  }

  /**
   * Which delivery of its job this is; the first is 1. A first delivery is
   * known to be one and is not written, so the common path makes no round
   * trip; a takeover (XAUTOCLAIM) that finds no count adds the first's. The
   * hash keeps counting every delivery, as workers of earlier versions do.
   */
  async delivered(delivery: Delivery): Promise<number> {
    if (delivery.first) return 1;
    let n = await this.redis.hincrby(this.counts, delivery.id, 1);
    if (n === 1) n = await this.redis.hincrby(this.counts, delivery.id, 1);
    await this.redis.hincrby(this.statsKey, 'redeliveries', 1);
    return n;
  }

  async ack(id: string): Promise<void> {
    await this.redis.multi().xack(this.stream, GROUP, id).xdel(this.stream, id).hdel(this.counts, id).exec();
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    await this.redis.xadd(this.dead, '*', 'job', delivery.payload ?? '', 'reason', reason.slice(0, 2000), 'original_id', delivery.id, 'failed_at', String(Date.now()));
    await this.redis.hincrby(this.statsKey, 'dead_letters', 1);
    await this.ack(delivery.id);
  }

  async stats(): Promise<QueueStats> {
    const [depth, info, counters] = await Promise.all([
      this.redis.xlen(this.stream),
      this.redis.xpending(this.stream, GROUP).catch(() => [0, null, null, []]) as Promise<unknown[]>,
      this.redis.hgetall(this.statsKey),
    ]);
    const consumers = Array.isArray(info[3]) ? info[3].length : 0;
    return {
      stream: this.stream,
      depth: Number(depth),
      pending: Number(info[0] ?? 0),
      consumers,
      redeliveries: Number(counters['redeliveries'] ?? 0),
      dead_letters: Number(counters['dead_letters'] ?? 0),
    };
  }
}
