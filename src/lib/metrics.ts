/**
 * Prometheus metrics (prom-client) without the global default registry: every app gets its own Registry, so
 * two apps in one process (tests) never share or double-register series. Framework-free.
 *
 * Cost model: request counters and histograms are updated on the hot path (a few map lookups each); every
 * other figure (cache, queue, realtime, database) is read by a `collect` callback only when /metrics is
 * scraped.
 */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
} from "prom-client";

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

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    if (this.#defaults) {
      collectDefaultMetrics({ register: this.registry, prefix: this.#defaults.prefix });
      this.#defaults = undefined;
    }
    return this.registry.metrics();
  }
}
