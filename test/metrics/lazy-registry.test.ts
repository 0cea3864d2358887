import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { createLazyRegistry } from '../../src/metrics/lazy-registry.js';

const series = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(name));

test('observations made before prom-client loads are all shown once it is loaded', async () => {
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

test('a failed load is retried by the next scrape, and nothing recorded meanwhile is lost', async () => {
  let fail = true;
  const registry = createLazyRegistry({
    defaultMetrics: false,
    importClient: () => (fail ? Promise.reject(new Error('no prom-client')) : import('prom-client')),
  });
  const counter = registry.counter({ name: 't_many_total', help: 'many' });
  for (let i = 0; i < 20_000; i++) counter.inc();
  await assert.rejects(registry.render(), /no prom-client/);
  fail = false;
  const { text } = await registry.render();
  assert.ok(text.includes('t_many_total 20000'), text);
});

test("counters and histograms render exactly as prom-client's own Counter and Histogram would", async () => {
  const ours = createLazyRegistry({ defaultMetrics: false });
  const theirs = new client.Registry();
  const labelNames = ['exchange', 'call', 'outcome'];
  const buckets = [0.005, 0.05, 0.5, 5];
  const counter = ours.counter({ name: 't_calls_total', help: 'calls "quoted" \\ help', labelNames });
  const histogram = ours.histogram({ name: 't_call_seconds', help: 'call time', labelNames, buckets });
  const refCounter = new client.Counter({ name: 't_calls_total', help: 'calls "quoted" \\ help', labelNames, registers: [theirs] });
  const refHistogram = new client.Histogram({ name: 't_call_seconds', help: 'call time', labelNames, buckets, registers: [theirs] });
  // Bounds exactly, between, below the first and above the last; label keys in any order.
  const seen: Array<[Record<string, string>, number]> = [
    [{ exchange: 'binanceusdm', call: 'place_order', outcome: 'ok' }, 0.005],
    [{ outcome: 'ok', call: 'place_order', exchange: 'binanceusdm' }, 0.02],
    [{ exchange: 'binanceusdm', call: 'place_order', outcome: 'error' }, 7],
    [{ exchange: 'okx', call: 'find_order', outcome: 'ok' }, 0.0001],
    [{ exchange: 'binanceusdm', call: 'place_order', outcome: 'ok' }, 0.5],
    [{ exchange: 'odd "name"\\', call: 'x', outcome: 'ok' }, 1],
  ];
  await ours.load();
  for (const [labels, value] of seen) {
    counter.inc(labels, 2);
    histogram.observe(labels, value);
    refCounter.inc(labels, 2);
    refHistogram.observe(labels, value);
  }
  assert.equal((await ours.render()).text, await theirs.metrics());
  assert.throws(() => histogram.observe({ exchange: 'x', call: 'y', outcome: 'ok' }, Number.NaN), /finite/);
  assert.throws(() => counter.inc({ exchange: 'x', call: 'y', outcome: 'ok' }, -1), /only goes up/);
  assert.throws(() => counter.inc({ route: 'x' }), /not one of this metric's/);
});
