import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { JobQueue } from '../../src/center/queue/job-queue.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { needs } from '../helpers/services.js';

describe('the job queue on Redis', needs('redis'), () => {
  let server: TestRedis;
  let redis: Redis;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  const job = (n: number) => ({ v: 1 as const, signal_row_id: n, node_id: 1, order_ids: [n], retry: false, enqueued_at: Date.now() });

  test('a job read new is its first delivery without a count in Redis; each takeover counts one more', async () => {
    const queue = new JobQueue(redis, 'jq-count');
    await queue.ensureGroup();
    const id = await queue.enqueue(job(1));

    const [fresh] = await queue.readNew('w1', 10, 100);
    assert.equal(fresh?.id, id);
    assert.equal(fresh?.first, true);
    assert.equal(await queue.delivered(fresh), 1);
    assert.equal(await redis.hget('jq-count:deliveries', id), null, 'a first delivery writes nothing');
    assert.deepEqual(await queue.readNew('w1', 10, 50), [], 'read new once only');

    // w1 never acknowledges it: w2 takes it over, twice.
    for (const expected of [2, 3]) {
      const [again] = await queue.claimStale('w2', 0, 10);
      assert.equal(again?.id, id);
      assert.equal(again?.first, false);
      assert.equal(await queue.delivered(again), expected);
    }
    assert.equal((await queue.stats()).redeliveries, 2);
    assert.equal(await redis.hget('jq-count:deliveries', id), '3', 'the hash counts every delivery, as earlier workers wrote it');

    await queue.ack(id);
    assert.equal(await redis.hget('jq-count:deliveries', id), null, 'the count goes with the job');
    assert.deepEqual(await queue.claimStale('w2', 0, 10), []);
  });

  test('a job whose first delivery an earlier worker counted is counted on from there', async () => {
    const queue = new JobQueue(redis, 'jq-mixed');
    await queue.ensureGroup();
    const id = await queue.enqueue(job(2));
    await queue.readNew('old-worker', 10, 100);
    await redis.hincrby('jq-mixed:deliveries', id, 1); // what a worker before this change wrote for a first delivery
    const [again] = await queue.claimStale('w2', 0, 10);
    assert.equal(again && (await queue.delivered(again)), 2);
  });
});
