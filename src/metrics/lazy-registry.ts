import type * as PromClient from 'prom-client';

/** Label values of one series; values are bounded sets (route patterns, statuses), never ids or secrets. */
/** Seconds; from a fast loopback call to a slow exchange near its timeout. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export type Labels = Record<string, string>;

/** Series read when scraped (in-flight counts, database counts, queue depth). */
export type ReadSeries = () => Array<[Labels, number]> | Promise<Array<[Labels, number]>>;

interface Spec {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/**
 * A Prometheus registry that can be written to before prom-client is loaded.
 *
 * The execution node must answer `/health` as soon as it listens (issue #5),
 * and evaluating prom-client costs tens of milliseconds, so counters and
 * histograms keep their series here, and prom-client, once `load()`ed, only
 * reads them when scraped. The center calls `load()` at once.
 *
 * Keeping them here is also what makes a recording cheap: a map lookup and a
 * few additions. prom-client validates and hashes the labels of every call,
 * and a 1,000-account signal makes ~3,000 exchange-call observations on its
 * nodes and ~7,000 stage observations on the center.
 *
 * ```ts
 * const registry = createLazyRegistry();
 * const executed = registry.counter({ name: 'x_total', help: '…', labelNames: ['status'] });
 * executed.inc({ status: 'filled' });   // kept here
 * await registry.load();                // prom-client now exposes it
 * ```
 */
export interface LazyRegistry {
  counter(spec: Spec): Counter;
  histogram(spec: Spec & { buckets: readonly number[] }): Histogram;
  /** A gauge whose value is read when scraped. */
  gauge(spec: Spec & { read: ReadSeries }): void;
  /** A counter kept elsewhere (a running total), read when scraped. */
  readCounter(spec: Spec & { read: ReadSeries }): void;
  readonly loaded: boolean;
  /** Loads prom-client once and registers every metric with it. */
  load(): Promise<void>;
  /** The exposition text; loads prom-client first if it is not yet. */
  render(): Promise<{ contentType: string; text: string }>;
}

/** One series per distinct label values, in the order first seen. */
class SeriesMap<V> {
  readonly #series = new Map<string, { labels: Labels; value: V }>();

  constructor(
    private readonly labelNames: readonly string[],
    private readonly initial: () => V,
  ) {}

  /** The series of these labels; values are joined in label-name order, so key order in `labels` does not matter. */
  at(labels: Labels): V {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name] ?? ''}\u0000`;
    let entry = this.#series.get(key);
    if (!entry) {
      for (const name of Object.keys(labels)) {
        if (!this.labelNames.includes(name)) throw new Error(`label "${name}" is not one of this metric's (${this.labelNames.join(', ')})`);
      }
      entry = { labels: { ...labels }, value: this.initial() };
      this.#series.set(key, entry);
    }
    return entry.value;
  }

  entries(): IterableIterator<{ labels: Labels; value: V }> {
    return this.#series.values();
  }

  clear(): void {
    this.#series.clear();
  }
}

interface HistogramValue {
  /** Per bucket, not cumulative; the last is above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram kept as plain series, shown to prom-client's registry as a
 * metric of its own: the registry formats what `getForPromString` returns,
 * in the shape prom-client's Histogram returns (bucket label first, then the
 * series' labels as shared labels), so the text is the same.
 */
function histogramMetric(name: string, help: string, bounds: readonly number[], series: SeriesMap<HistogramValue>) {
  const values = () => {
    const out: Array<{ labels: Record<string, string | number>; sharedLabels: Labels; value: number; metricName: string }> = [];
    for (const { labels, value } of series.entries()) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += value.counts[i] as number;
        out.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: `${name}_bucket` });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: value.count, metricName: `${name}_bucket` });
      out.push({ labels: {}, sharedLabels: labels, value: value.sum, metricName: `${name}_sum` });
      out.push({ labels: {}, sharedLabels: labels, value: value.count, metricName: `${name}_count` });
    }
    return out;
  };
  return {
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    getForPromString: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
    reset: () => series.clear(),
  };
}

type Definition =
  | { kind: 'counter'; spec: Spec; series: SeriesMap<{ total: number }> }
  | { kind: 'histogram'; spec: Spec & { buckets: readonly number[] }; series: SeriesMap<HistogramValue> }
  | { kind: 'gauge' | 'readCounter'; spec: Spec & { read: ReadSeries } };

export function createLazyRegistry(options: { defaultMetrics?: boolean; importClient?: () => Promise<typeof PromClient> } = {}): LazyRegistry {
  const definitions: Definition[] = [];
  let registry: PromClient.Registry | undefined;
  let loadedClient: typeof PromClient | undefined;
  let loading: Promise<void> | undefined;
  const importClient = options.importClient ?? (() => import('prom-client'));

  function register(client: typeof PromClient, into: PromClient.Registry, definition: Definition): void {
    const { name, help, labelNames = [] } = definition.spec;
    const common = { name, help, labelNames: [...labelNames], registers: [into] };
    switch (definition.kind) {
      case 'counter': {
        const series = definition.series;
        new client.Counter({
          ...common,
          collect() {
            this.reset();
            for (const { labels, value } of series.entries()) this.inc(labels, value.total);
          },
        });
        return;
      }
      case 'histogram': {
        // Not a prom-client Histogram: it cannot be given counts, only observations.
        // Registry.metrics() reads name and getForPromString() (resetMetrics() calls reset()).
        into.registerMetric(histogramMetric(name, help, [...definition.spec.buckets].sort((a, b) => a - b), definition.series) as unknown as PromClient.Metric);
        return;
      }
      case 'gauge': {
        const read = definition.spec.read;
        new client.Gauge({
          ...common,
          async collect() {
            const series = await read();
            this.reset();
            for (const [labels, value] of series) this.set(labels, value);
          },
        });
        return;
      }
      case 'readCounter': {
        const read = definition.spec.read;
        new client.Counter({
          ...common,
          async collect() {
            const series = await read();
            // The total lives elsewhere; prom-client counters only go up, so start from zero each scrape.
            this.reset();
            for (const [labels, value] of series) this.inc(labels, value);
          },
        });
        return;
      }
    }
  }

  function define(definition: Definition): void {
    definitions.push(definition);
    if (registry && loadedClient) register(loadedClient, registry, definition);
  }

  const self: LazyRegistry = {
    counter(spec) {
      const series = new SeriesMap(spec.labelNames ?? [], () => ({ total: 0 }));
      define({ kind: 'counter', spec, series });
      return {
        inc: (labels = {}, value = 1) => {
          if (!(value >= 0) || value === Infinity) throw new TypeError(`${spec.name}: a counter only goes up by a finite amount (got ${value})`);
          series.at(labels).total += value;
        },
      };
    },
    histogram(spec) {
      const bounds = [...spec.buckets].sort((a, b) => a - b);
      const series = new SeriesMap<HistogramValue>(spec.labelNames ?? [], () => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }));
      define({ kind: 'histogram', spec, series });
      return {
        observe: (labels, value) => {
          if (!Number.isFinite(value)) throw new TypeError(`${spec.name}: not a finite number: ${value}`);
          const v = series.at(labels);
          let i = 0;
          while (i < bounds.length && value > (bounds[i] as number)) i++;
          v.counts[i] = (v.counts[i] ?? 0) + 1;
          v.sum += value;
          v.count++;
        },
      };
    },
    gauge(spec) {
      define({ kind: 'gauge', spec });
    },
    readCounter(spec) {
      define({ kind: 'readCounter', spec });
    },
    get loaded() {
      return registry !== undefined;
    },
    load() {
      if (loading) return loading;
      loading = importClient().then((module) => {
        // Under some loaders a CommonJS module arrives as `default`.
        const client = (module as unknown as { default?: typeof PromClient }).default ?? module;
        const into = new client.Registry();
        if (options.defaultMetrics !== false) client.collectDefaultMetrics({ register: into });
        for (const definition of definitions) register(client, into, definition);
        loadedClient = client;
        registry = into;
      });
      // A failed load may be retried by the next scrape.
      loading.catch(() => {
        loading = undefined;
      });
      return loading;
    },
    async render() {
      await self.load();
      const into = registry as PromClient.Registry;
      return { contentType: into.contentType, text: await into.metrics() };
    },
  };
  return self;
}
