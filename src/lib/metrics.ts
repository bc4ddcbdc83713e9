/**
 * Prometheus metrics (prom-client) without the global default registry: every app gets its own Registry, so
 * two apps in one process (tests) never share or double-register series. Framework-free.
 *
 * Cost model: the per-request series (RequestSeries below) are updated on the hot path with three map
 * lookups and a few additions; every other figure (cache, queue, realtime, database) is read by a `collect`
 * callback only when /metrics is scraped.
 */
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, Metric } from "prom-client";
// File by file, not the package's index: the index also evaluates prom-client's Pushgateway, which loads
// node:http, node:https and node:zlib, ~40 ms of CPU at every start for a client Quire never uses.
import Counter from "prom-client/lib/counter";
import type Defaults from "prom-client/lib/defaultMetrics";
import Gauge from "prom-client/lib/gauge";
import Histogram from "prom-client/lib/histogram";
import Registry from "prom-client/lib/registry";

/** Request latency buckets (seconds): 1 ms to 10 s, denser where an API on SQLite lives. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label sets and values read at scrape time. */
type Reading<L extends string> = Iterable<[Partial<Record<L, string>>, number]>;

export class Metrics {
  readonly registry = new Registry();
  #defaults: { prefix?: string } | undefined;

  /**
   * `process_*` and `nodejs_*` (CPU, memory, file descriptors, event-loop lag, heap) on this registry. They
   * are registered at the first scrape, not here: registering reads V8's heap statistics, ~10 ms of a
   * ~90 ms start. (The event-loop lag histogram therefore covers the time since the first scrape.)
   */
  constructor(options: { defaultMetrics?: boolean; prefix?: string } = {}) {
    if (options.defaultMetrics ?? true) this.#defaults = { prefix: options.prefix };
  }

  counter<L extends string>(config: Omit<CounterConfiguration<L>, "registers">): Counter<L> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<L extends string>(config: Omit<GaugeConfiguration<L>, "registers">): Gauge<L> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<L extends string>(config: Omit<HistogramConfiguration<L>, "registers">): Histogram<L> {
    return new Histogram({ ...config, registers: [this.registry] });
  }

  /**
   * A counter whose value is owned elsewhere (a module's own running total), read at scrape time. It stays a
   * Prometheus counter (rate() works) as long as the source only grows.
   */
  observedCounter<L extends string>(
    config: Omit<CounterConfiguration<L>, "registers" | "collect">,
    read: () => Reading<L> | Promise<Reading<L>>,
  ): Counter<L> {
    return this.counter<L>({
      ...config,
      async collect() {
        const values = await read();
        this.reset();
        for (const [labels, value] of values) this.inc(labels, value);
      },
    });
  }

  /** A gauge read at scrape time. */
  observedGauge<L extends string>(
    config: Omit<GaugeConfiguration<L>, "registers" | "collect">,
    read: () => Reading<L> | Promise<Reading<L>>,
  ): Gauge<L> {
    return this.gauge<L>({
      ...config,
      async collect() {
        const values = await read();
        this.reset();
        for (const [labels, value] of values) this.set(labels, value);
      },
    });
  }

  /**
   * A counter and a histogram observed together, once per event, over the same three labels (for HTTP:
   * method, route, status). See RequestSeries for why they are not prom-client's own.
   */
  requestSeries<L extends string>(config: RequestSeriesConfig<L>): RequestSeries<L> {
    const series = new RequestSeries(config);
    for (const metric of series.metrics()) this.registry.registerMetric(metric);
    return series;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    if (this.#defaults) {
      // Loaded at the first scrape: its modules (with @opentelemetry/api) are not needed before.
      const collectDefaultMetrics = require("prom-client/lib/defaultMetrics") as typeof Defaults;
      collectDefaultMetrics({ register: this.registry, prefix: this.#defaults.prefix });
      this.#defaults = undefined;
    }
    return this.registry.metrics();
  }
}

export interface RequestSeriesConfig<L extends string> {
  counter: { name: string; help: string };
  histogram: { name: string; help: string; buckets: readonly number[] };
  labelNames: readonly [L, L, L];
}

/** One label set's totals. */
interface SeriesTotals {
  labels: Record<string, string>;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative), the last one past the largest bound (+Inf). */
  buckets: Float64Array;
}

type Exposed = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * `<counter>{a,b,c}` and `<histogram>{a,b,c}` with the totals kept here. prom-client's observe() turns the
 * label object into a hash string and validates it on every call (12% of a cached read's CPU in a profile);
 * here a label set is found through three nested maps keyed by the values themselves (strings the caller
 * already holds: no string is built per event), its totals are updated in place, and prom-client only
 * formats them at scrape time, through the same Registry and in its exposition format.
 */
export class RequestSeries<L extends string> {
  readonly #config: RequestSeriesConfig<L>;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Map<string, Map<string | number, SeriesTotals>>>();

  constructor(config: RequestSeriesConfig<L>) {
    this.#config = config;
    this.#bounds = [...config.histogram.buckets].sort((x, y) => x - y);
  }

  /** Count one event with these label values, and observe `value` (seconds) in the histogram. */
  observe(a: string, b: string, c: string | number, value: number): void {
    let byB = this.#series.get(a);
    if (!byB) {
      byB = new Map();
      this.#series.set(a, byB);
    }
    let byC = byB.get(b);
    if (!byC) {
      byC = new Map();
      byB.set(b, byC);
    }
    let totals = byC.get(c);
    if (!totals) {
      totals = this.#create(a, b, String(c));
      byC.set(c, totals);
    }
    totals.count++;
    totals.sum += value;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    totals.buckets[i]!++;
  }

  #create(a: string, b: string, c: string): SeriesTotals {
    const [la, lb, lc] = this.#config.labelNames;
    return {
      labels: { [la]: a, [lb]: b, [lc]: c },
      count: 0,
      sum: 0,
      buckets: new Float64Array(this.#bounds.length + 1),
    };
  }

  *#all(): Generator<SeriesTotals> {
    for (const byB of this.#series.values()) for (const byC of byB.values()) yield* byC.values();
  }

  /** The two metrics as prom-client's Registry reads them (name, help, type, values). */
  metrics(): Metric[] {
    const { counter, histogram } = this.#config;
    const reset = () => this.#series.clear();
    const counterValues = (): Exposed[] =>
      [...this.#all()].map((t) => ({ value: t.count, labels: t.labels }));
    const histogramValues = (): Exposed[] => {
      const values: Exposed[] = [];
      const bucket = `${histogram.name}_bucket`;
      for (const t of this.#all()) {
        let cumulative = 0;
        this.#bounds.forEach((le, i) => {
          cumulative += t.buckets[i]!;
          values.push({ value: cumulative, labels: { ...t.labels, le }, metricName: bucket });
        });
        values.push({ value: t.count, labels: { ...t.labels, le: "+Inf" }, metricName: bucket });
        values.push({ value: t.sum, labels: t.labels, metricName: `${histogram.name}_sum` });
        values.push({ value: t.count, labels: t.labels, metricName: `${histogram.name}_count` });
      }
      return values;
    };
    const metric = (name: string, help: string, type: string, values: () => Exposed[]) =>
      ({
        name,
        help,
        type,
        aggregator: "sum",
        labelNames: this.#config.labelNames,
        get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
        reset,
      }) as unknown as Metric;
    return [
      metric(counter.name, counter.help, "counter", counterValues),
      metric(histogram.name, histogram.help, "histogram", histogramValues),
    ];
  }
}
