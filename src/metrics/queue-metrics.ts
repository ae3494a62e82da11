import type { Queue } from 'bullmq';
import type { MetricsRegistry } from './metrics-registry';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

/**
 * BullMQ queues as gauges, read at scrape: jobs by state, and the age of the oldest job waiting
 * to run (the first thing to alert on: work is arriving faster than workers take it, or no worker
 * is taking it at all). Every process reports the same Redis-wide values: use max() across replicas.
 */
export class QueueMetrics {
  constructor(metrics: MetricsRegistry, queues: () => Queue[], clock: () => number = Date.now) {
    const depth = metrics.gauge({ name: 'queue_jobs', help: 'Jobs in a BullMQ queue by state (Redis-wide)', labelNames: ['queue', 'state'] });
    metrics.gauge({
      name: 'queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting to run in a BullMQ queue, 0 when none waits (Redis-wide)',
      labelNames: ['queue'],
      collect: async (gauge) => {
        for (const queue of queues()) {
          const counts = await queue.getJobCounts(...STATES);
          for (const state of STATES) depth.set({ queue: queue.name, state }, counts[state] ?? 0);
          // The wait list is pushed on the left: the oldest waiting job is its last entry.
          const [oldest] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true);
          gauge.set({ queue: queue.name }, oldest ? Math.max(0, clock() - oldest.timestamp) / 1000 : 0);
        }
      },
    });
  }
}
