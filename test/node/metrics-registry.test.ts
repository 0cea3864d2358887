import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLazyRegistry, MAX_PENDING } from '../../src/node/metrics/lazy-registry.js';

const series = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(name));

test('observations made before prom-client loads are replayed into it', async () => {
  let imported = 0;
  const registry = createLazyRegistry({
    defaultMetrics: false,
    importClient: () => {
      imported++;
      return import('prom-client');
    },
  });
  const counter = registry.counter({ name: 't_events_total', help: 'events', labelNames: ['kind'] });
  const histogram = registry.histogram({ name: 't_seconds', help: 'time', labelNames: ['kind'], buckets: [0.1, 1] });
  counter.inc({ kind: 'a' });
  counter.inc({ kind: 'a' }, 2);
  histogram.observe({ kind: 'a' }, 0.5);
  assert.equal(registry.loaded, false);
  assert.equal(imported, 0, 'recording alone imports nothing');

  await registry.load();
  assert.equal(registry.loaded, true);
  counter.inc({ kind: 'b' });
  const { text, contentType } = await registry.render();
  assert.match(contentType, /^text\/plain/);
  assert.deepEqual(series(text, 't_events_total'), ['t_events_total{kind="a"} 3', 't_events_total{kind="b"} 1']);
  assert.ok(series(text, 't_seconds_bucket').includes('t_seconds_bucket{le="1",kind="a"} 1'));
  assert.ok(series(text, 't_seconds_count').includes('t_seconds_count{kind="a"} 1'));
  await registry.load();
  assert.equal(imported, 1, 'loaded once');
});

test('a scrape loads prom-client itself, and read series are read when scraped', async () => {
  let inFlight = 2;
  const registry = createLazyRegistry({ defaultMetrics: false });
  registry.gauge({ name: 't_in_flight', help: 'now', read: () => [[{}, inFlight]] });
  registry.readCounter({ name: 't_kept_total', help: 'kept elsewhere', labelNames: ['x'], read: async () => [[{ x: 'y' }, 7]] });
  assert.ok((await registry.render()).text.includes('t_in_flight 2'));
  inFlight = 5;
  const { text } = await registry.render();
  assert.ok(text.includes('t_in_flight 5'));
  assert.ok(text.includes('t_kept_total{x="y"} 7'));
});

test('what waits for prom-client is bounded, and a failed load is retried by the next scrape', async () => {
  let fail = true;
  const registry = createLazyRegistry({
    defaultMetrics: false,
    importClient: () => (fail ? Promise.reject(new Error('no prom-client')) : import('prom-client')),
  });
  const counter = registry.counter({ name: 't_many_total', help: 'many' });
  for (let i = 0; i < MAX_PENDING + 50; i++) counter.inc();
  await assert.rejects(registry.render(), /no prom-client/);
  fail = false;
  const { text } = await registry.render();
  assert.ok(text.includes(`t_many_total ${MAX_PENDING}`), 'the oldest recordings beyond the bound are dropped');
});
