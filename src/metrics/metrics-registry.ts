import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric name starts with this, so a shared Prometheus can tell access-bot's series apart. */
export const METRIC_PREFIX = 'access_bot_';

export interface MetricOptions<L extends string> {
  /** Without the `access_bot_` prefix, which is added. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds in the metric's unit (seconds for latencies). */
  buckets?: number[];
}

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called at each scrape to set the gauge's current values (queue depths, lag): a gauge read from
   * Redis is then as fresh as the scrape and costs nothing between scrapes. A collector that fails
   * leaves the last values and is not allowed to fail the scrape.
   */
  collect?: (gauge: Gauge<L>) => Promise<void> | void;
}

/** Latency buckets in seconds, from a fast Redis round trip to a slow Slack call under 429s. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Human decision times in seconds: a minute to a day. */
export const DECISION_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];

/**
 * One process's Prometheus metrics. Each process (and each test's app) has its own registry, never
 * prom-client's global one, so two apps in one test process never collide. Rooms register their
 * metrics through counter/histogram/gauge; asking twice for one name returns the same metric, so a
 * room can register lazily without coordinating with the others.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter<string> | Histogram<string> | Gauge<string>>();

  /** `process` labels every series (`bot`, `worker`, `start`), so one dashboard can sum or split them. */
  constructor(options: { process?: string; processMetrics?: boolean } = {}) {
    if (options.process) this.registry.setDefaultLabels({ process: options.process });
    // CPU, memory, event-loop lag, GC, handles: what an operator looks at first when a process is slow.
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.getOrCreate(options.name, 'counter', () => {
      return new Counter<L>({ name: METRIC_PREFIX + options.name, help: options.help, labelNames: options.labelNames ?? [], registers: [this.registry] });
    }) as Counter<L>;
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.getOrCreate(options.name, 'histogram', () => {
      return new Histogram<L>({
        name: METRIC_PREFIX + options.name,
        help: options.help,
        labelNames: options.labelNames ?? [],
        buckets: options.buckets ?? LATENCY_BUCKETS,
        registers: [this.registry],
      });
    }) as Histogram<L>;
  }

  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    return this.getOrCreate(options.name, 'gauge', () => {
      const collect = options.collect;
      return new Gauge<L>({
        name: METRIC_PREFIX + options.name,
        help: options.help,
        labelNames: options.labelNames ?? [],
        registers: [this.registry],
        ...(collect
          ? {
              async collect(this: Gauge<L>) {
                try {
                  await collect(this);
                } catch {
                  // A scrape while Redis is down still returns the process metrics and the counters.
                }
              },
            }
          : {}),
      });
    }) as Gauge<L>;
  }

  /**
   * One read shared by several gauges' collect callbacks in the same scrape. prom-client collects
   * every metric at once, so a gauge set from inside another gauge's collect would be read before it
   * is set; instead each collects from this shared read, which runs once per scrape.
   */
  static shared<T>(read: () => Promise<T>): () => Promise<T> {
    let inFlight: Promise<T> | undefined;
    return () => {
      inFlight ??= read().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    };
  }

  /** The exposition text, as Prometheus scrapes it. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** `GET /metrics`. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      this.text().then(
        (body) => {
          res.setHeader('Cache-Control', 'no-store');
          res.type(this.registry.contentType).send(body);
        },
        (err: unknown) => next(err),
      );
    };
  }

  private getOrCreate(name: string, kind: string, create: () => Counter<string> | Histogram<string> | Gauge<string>) {
    const existing = this.metrics.get(name);
    if (existing) {
      const existingKind = existing instanceof Counter ? 'counter' : existing instanceof Histogram ? 'histogram' : 'gauge';
      if (existingKind !== kind) throw new Error(`metric ${name} is already registered as a ${existingKind}`);
      return existing;
    }
    const created = create();
    this.metrics.set(name, created);
    return created;
  }
}
