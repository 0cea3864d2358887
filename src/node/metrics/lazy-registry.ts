import type * as PromClient from 'prom-client';

/** Label values of one series; values are bounded sets (route patterns, statuses), never ids or secrets. */
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
 * and evaluating prom-client costs tens of milliseconds, so the node records
 * into a plain array until `load()` and replays it then. The center calls
 * `load()` at once.
 *
 * ```ts
 * const registry = createLazyRegistry();
 * const executed = registry.counter({ name: 'x_total', help: '…', labelNames: ['status'] });
 * executed.inc({ status: 'filled' });   // kept until load()
 * await registry.load();                // prom-client now holds it
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
  /** Loads prom-client once and replays what was recorded meanwhile. */
  load(): Promise<void>;
  /** The exposition text; loads prom-client first if it is not yet. */
  render(): Promise<{ contentType: string; text: string }>;
}

/**
 * Recordings kept before prom-client loads. The node loads it within a
 * second of listening, so this is a handful; the bound only matters if
 * loading failed, and then the oldest recordings are the ones lost.
 */
export const MAX_PENDING = 10_000;

type Definition =
  | { kind: 'counter'; spec: Spec }
  | { kind: 'histogram'; spec: Spec & { buckets: readonly number[] } }
  | { kind: 'gauge' | 'readCounter'; spec: Spec & { read: ReadSeries } };

interface Recording {
  index: number;
  labels: Labels;
  value: number;
}

/** The prom-client objects a handle writes to once loaded. */
type Target = { inc(labels: Labels, value: number): void } | { observe(labels: Labels, value: number): void };

export function createLazyRegistry(options: { defaultMetrics?: boolean; importClient?: () => Promise<typeof PromClient> } = {}): LazyRegistry {
  const definitions: Definition[] = [];
  const targets: Array<Target | undefined> = [];
  let pending: Recording[] = [];
  let registry: PromClient.Registry | undefined;
  let loadedClient: typeof PromClient | undefined;
  let loading: Promise<void> | undefined;
  const importClient = options.importClient ?? (() => import('prom-client'));

  function record(index: number, labels: Labels, value: number): void {
    const target = targets[index];
    if (target) {
      if ('inc' in target) target.inc(labels, value);
      else target.observe(labels, value);
      return;
    }
    if (pending.length >= MAX_PENDING) pending.shift();
    pending.push({ index, labels, value });
  }

  function create(client: typeof PromClient, into: PromClient.Registry, definition: Definition): Target | undefined {
    const { name, help, labelNames = [] } = definition.spec;
    const common = { name, help, labelNames: [...labelNames], registers: [into] };
    switch (definition.kind) {
      case 'counter':
        return new client.Counter(common);
      case 'histogram':
        return new client.Histogram({ ...common, buckets: [...definition.spec.buckets] });
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
        return undefined;
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
        return undefined;
      }
    }
  }

  function define(definition: Definition): number {
    const index = definitions.push(definition) - 1;
    targets.push(undefined);
    if (registry && loadedClient) targets[index] = create(loadedClient, registry, definition);
    return index;
  }

  const self: LazyRegistry = {
    counter(spec) {
      const index = define({ kind: 'counter', spec });
      return { inc: (labels = {}, value = 1) => record(index, labels, value) };
    },
    histogram(spec) {
      const index = define({ kind: 'histogram', spec });
      return { observe: (labels, value) => record(index, labels, value) };
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
        definitions.forEach((definition, index) => {
          targets[index] = create(client, into, definition);
        });
        loadedClient = client;
        registry = into;
        const replay = pending;
        pending = [];
        for (const r of replay) record(r.index, r.labels, r.value);
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
