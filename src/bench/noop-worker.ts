import { Worker } from 'bullmq';
import { createRedis } from '../app/redis-connection';

/**
 * The baseline for the issuance benchmark: a worker process with the same BullMQ settings that
 * does nothing with each job. Run by src/bench/issuance-bench.ts as a child process.
 */
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const worker = new Worker(process.env.BENCH_QUEUE ?? 'noop', async () => null, {
  connection: createRedis(url, { forBlocking: true }),
  prefix: process.env.BENCH_PREFIX ?? 'bench',
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 64),
});
process.once('SIGTERM', () => {
  worker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
