import type { Queue } from 'bullmq';
import { MetricsRegistry } from './metrics-registry';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

/**
 * BullMQ queues as gauges, read at scrape: jobs by state, and the age of the oldest job waiting
 * to run (the first thing to alert on: work is arriving faster than workers take it, or no worker
 * is taking it at all). Every process reports the same Redis-wide values: use max() across replicas.
 */
export class QueueMetrics {
  constructor(metrics: MetricsRegistry, queues: () => Queue[], clock: () => number = Date.now) {
    const read = MetricsRegistry.shared(() =>
      Promise.all(
        queues().map(async (queue) => {
          const counts = await queue.getJobCounts(...STATES);
          const [oldest] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
          return { name: queue.name, counts, oldestAgeSeconds: oldest ? Math.max(0, clock() - oldest.timestamp) / 1000 : 0 };
        }),
      ),
    );
    metrics.gauge({
      name: 'queue_jobs',
      help: 'Jobs in a BullMQ queue by state (Redis-wide)',
      labelNames: ['queue', 'state'],
      collect: async (gauge) => {
        for (const q of await read()) for (const state of STATES) gauge.set({ queue: q.name, state }, q.counts[state] ?? 0);
      },
    });
    metrics.gauge({
      name: 'queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting to run in a BullMQ queue, 0 when none waits (Redis-wide)',
      labelNames: ['queue'],
      collect: async (gauge) => {
        for (const q of await read()) gauge.set({ queue: q.name }, q.oldestAgeSeconds);
      },
    });
  }
}
