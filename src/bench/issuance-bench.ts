import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { AppContext } from '../app/app-context';
import { createRedis } from '../app/redis-connection';
import { initCa } from '../ca/ca-directory';
import { sshPublicKeyFromKeyObject } from '../ca/ssh/ssh-public-key';
import { loadEnv } from '../config/env';
import { silentLogger } from '../log/logger';
import { StaticDirectory } from '../requests/static-directory';
import { cleanUpBench, percentile, perSecond, stopChild, waitFor } from './bench-support';

export interface IssuanceBenchResult {
  certificatesPerRound: number;
  workerProcesses: 1;
  concurrency: number;
  /** Median of the rounds. */
  certsPerSecond: number;
  rounds: number[];
  /** Median of the rounds. */
  baselineNoopJobsPerSecond: number;
  baselineRounds: number[];
  ratioToBaseline: number;
  latency: { ratePerSecond: number; samples: number; p50Ms: number; p99Ms: number; maxMs: number };
}

// A literal principal: the worker runs as a child process without Slack, so it has no directory to
// derive login names from (in production the worker asks Slack itself).
const WORKFLOW = `
resources:
  box:
    description: bench host
    workflow: auto
    duration: { default: 1h, max: 1h }
    ssh: { principals: [deploy] }
workflows:
  auto:
    requesters: { everyone: true }
    auto_approve: [ { requesters: { everyone: true }, max_duration: 1h } ]
    stages: [ { name: unused, approvers: { users: [UNOBODY] } } ]
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.env.BENCH_NODE ?? process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

/** No-op BullMQ jobs through one worker process: the ceiling the queue itself sets on this machine. */
async function baseline(url: string, jobs: number, concurrency: number, rounds: number): Promise<number[]> {
  const prefix = `bench-noop-${randomBytes(4).toString('hex')}`;
  const connection = createRedis(url, { forBlocking: true });
  const queue = new Queue('noop', { connection, prefix });
  const child = spawnNode(join(__dirname, 'noop-worker.js'), [], { REDIS_URL: url, BENCH_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency) });
  const results: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      await queue.pause();
      for (let i = 0; i < jobs; i += 1000)
        await queue.addBulk(
          Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ name: 'noop', data: {}, opts: { jobId: `n-${round}-${i + j}` } })),
        );
      await queue.resume();
      await waitFor(async () => (await queue.getCompletedCount()) >= jobs, 120_000, 'no-op jobs completing', 20);
      const done = await queue.getJobs(['completed'], 0, -1);
      results.push(perSecond(done.map((j) => j.finishedOn ?? 0)));
      await queue.clean(0, 0, 'completed');
    }
  } finally {
    await stopChild(child);
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
  return results;
}

/**
 * Approved-to-issued through the real pipeline: requests approved in this process, one
 * `access-bot worker` child process signing them (Redis, BullMQ, compare-and-set, audit chain).
 */
export async function benchIssuance(options: {
  url: string;
  certificates: number;
  rounds: number;
  concurrency: number;
  latencyRate: number;
  latencySeconds: number;
}): Promise<IssuanceBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-bench-'));
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'workflows', 'bench.yaml'), WORKFLOW);
  initCa(join(dir, 'ca'));
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: options.url,
    REDIS_PREFIX: prefix,
    WORKFLOWS_DIR: join(dir, 'workflows'),
    CA_DIR: join(dir, 'ca'),
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: String(options.concurrency),
    // The worker's health listener on any free port: another worker may hold 3001.
    WORKER_PORT: '0',
    EXPIRY_WARNING: '10m',
    // Every approval comes from its own person (one open request per person and resource), and the
    // bench is a burst far beyond any person's rate.
    RATE_LIMIT_REQUESTS: '999999/1m',
  };
  const ctx = await AppContext.create(loadEnv(env), silentLogger(), {
    directory: new StaticDirectory([]),
  });
  let worker: ChildProcess | undefined;
  try {
    const { publicKey } = generateKeyPairSync('ed25519');
    const keyLine = sshPublicKeyFromKeyObject(publicKey, 'bench');
    let people = 0;
    /** A new person with the bench key registered: each request is someone else's. */
    const submitAsNewPerson = async (reason: string) => {
      const id = `UBENCH${++people}`;
      const key = await ctx.keyService.register(id, keyLine, 'cli');
      return ctx.service.submit(id, { resource: 'box', reason, via: 'cli', keyFingerprint: key.fingerprint });
    };

    // Throughput: with the queue paused, approve N requests; then the (warm) worker drains them.
    worker = spawnNode(join(__dirname, '..', 'cli.js'), ['worker'], env);
    await waitFor(async () => (await ctx.published.read()) !== undefined, 30_000, 'worker start', 20);
    const rounds: number[] = [];
    let issuedSoFar = 0;
    for (let round = 0; round < options.rounds; round++) {
      await ctx.certificatesQueue.pause();
      const ids: string[] = [];
      for (let i = 0; i < options.certificates; i += 200) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(200, options.certificates - i) }, () => submitAsNewPerson('bench')),
        );
        for (const r of batch) if (r.status === 'ok') ids.push(r.request.id);
      }
      await ctx.certificatesQueue.resume();
      issuedSoFar += ids.length;
      await waitFor(async () => (await ctx.store.countByState('issued')) >= issuedSoFar, 300_000, 'issuance', 20);
      rounds.push(perSecond((await ctx.store.getMany(ids)).map((r) => r.certificate?.issuedAt ?? 0)));
    }

    // Latency: a steady stream of approvals with the worker running; approval to stored certificate.
    const latencyIds: string[] = [];
    const interval = 1000 / options.latencyRate;
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < options.latencySeconds * 1000) {
      const due = Math.floor((Date.now() - started) / interval);
      const batch = [];
      for (; sent < due; sent++) batch.push(submitAsNewPerson('latency'));
      for (const r of await Promise.all(batch)) if (r.status === 'ok') latencyIds.push(r.request.id);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(async () => (await ctx.store.countByState('issued')) >= issuedSoFar + latencyIds.length, 120_000, 'latency issuance', 20);
    const latencies = (await ctx.store.getMany(latencyIds))
      .map((r) => (r.certificate?.issuedAt ?? 0) - (r.approvedAt ?? 0))
      .sort((a, b) => a - b);

    await stopChild(worker);
    worker = undefined;
    const baselineRounds = await baseline(options.url, options.certificates, options.concurrency, options.rounds);
    const certsPerSecond = median(rounds);
    const baselineNoopJobsPerSecond = median(baselineRounds);
    return {
      certificatesPerRound: options.certificates,
      workerProcesses: 1,
      concurrency: options.concurrency,
      certsPerSecond,
      rounds,
      baselineNoopJobsPerSecond,
      baselineRounds,
      ratioToBaseline: Number((certsPerSecond / baselineNoopJobsPerSecond).toFixed(2)),
      latency: {
        ratePerSecond: options.latencyRate,
        samples: latencies.length,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies[latencies.length - 1] ?? 0,
      },
    };
  } finally {
    await stopChild(worker);
    await cleanUpBench(ctx, prefix, dir);
  }
}
