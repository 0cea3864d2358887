import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { allowlistEntryProblem, createIpAllowlist } from '../../src/http/ip-allowlist.js';
import { createLimiter, withDeadline } from '../../src/execution/limiter.js';
import { createReplayGuard } from '../../src/http/replay-guard.js';

test('the limiter never runs more than its capacity and keeps FIFO order', async () => {
  const limiter = createLimiter(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await sleep(5);
        running--;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(limiter.active, 0);
  assert.equal(limiter.queued, 0);
});

test('the limiter frees the slot of a task that throws', async () => {
  const limiter = createLimiter(1);
  await assert.rejects(limiter.run(async () => Promise.reject(new Error('boom'))));
  assert.equal(await limiter.run(async () => 'next'), 'next');
});

test('withDeadline reports whether the work finished in time', async () => {
  assert.deepEqual(await withDeadline(Promise.resolve(1), 50), { done: true, value: 1 });
  assert.deepEqual(await withDeadline(sleep(100).then(() => 1), 10), { done: false });
});

test('withDeadline passes the work\'s failure on, and leaves no timer behind once the work is done', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  await assert.rejects(withDeadline(Promise.reject(new Error('boom')), 60_000), /boom/);
  assert.deepEqual(await withDeadline(sleep(5).then(() => 2), 60_000), { done: true, value: 2 });
  assert.equal(timers(), before, 'a 60 s deadline timer outlived its work');
});

test('the replay guard accepts a signature once and forgets it after expiry', () => {
  const guard = createReplayGuard(3);
  assert.ok(guard.firstUse('a', 1000, 0));
  assert.ok(!guard.firstUse('a', 1000, 1));
  assert.ok(guard.firstUse('b', 1000, 2));
  assert.ok(guard.firstUse('c', 2000, 1500), 'a and b expired and were dropped');
  assert.equal(guard.size, 1);
});

test('the IP allowlist matches exact addresses and CIDR ranges, IPv4 and IPv6', () => {
  const list = createIpAllowlist(['10.0.0.1', '192.168.0.0/16', '2001:db8::/32', '::1']);
  for (const ip of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.44.3', '2001:db8::7', '::1']) assert.ok(list.allows(ip), ip);
  for (const ip of ['10.0.0.2', '127.0.0.1', '2001:db9::1', undefined, 'not-an-ip']) assert.ok(!list.allows(ip), String(ip));
  assert.ok(createIpAllowlist([]).allows(undefined), 'an empty list allows everyone');
});

test('every allowlist entry the configuration accepts builds a list, IPv4-mapped ones included', () => {
  const entries = ['::ffff:127.0.0.1', '::FFFF:10.0.0.1', '::ffff:10.0.0.0/104', '::ffff:192.168.0.0/112', '127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::/0', '::1', 'fe80::1/64', '2001:db8::/128', '::ffff:0:0/96'];
  for (const entry of entries) {
    assert.equal(allowlistEntryProblem(entry), undefined, entry);
    assert.doesNotThrow(() => createIpAllowlist([entry]), entry);
  }
  const mapped = createIpAllowlist(['::ffff:127.0.0.1', '::ffff:10.0.0.0/104']);
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '10.9.8.7', '::ffff:10.9.8.7']) assert.ok(mapped.allows(ip), ip);
  for (const ip of ['127.0.0.2', '11.0.0.1', '::1']) assert.ok(!mapped.allows(ip), ip);
  for (const bad of ['::ffff:10.0.0.0/64', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', 'localhost', '10.0.0.256', '10.0.0.0/-1', '10.0.0.0/ 8']) {
    assert.match(allowlistEntryProblem(bad) ?? '', /"/, `${bad} is refused with a reason`);
    assert.throws(() => createIpAllowlist([bad]), /node_allowed_ips/, bad);
  }
});
