import { createRedis } from '../app/redis-connection';
import { benchAuditAppend } from './audit-bench';

/**
 * `npm run bench:audit`: what the audit log costs Redis. Point BENCH_AUDIT_REDIS_URL at a Redis
 * nobody else uses (its CPU counters are read whole), e.g. `redis-server --port 6390 --save ''`.
 * Env: BENCH_AUDIT_EVENTS (20000 per round), BENCH_ROUNDS (3).
 */
async function main(): Promise<void> {
  const url = process.env.BENCH_AUDIT_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedis(url, { name: 'access-bot-bench' });
  try {
    const rounds = [];
    for (let i = 0; i < Number(process.env.BENCH_ROUNDS ?? 3); i++) rounds.push(await benchAuditAppend(redis, Number(process.env.BENCH_AUDIT_EVENTS ?? 20_000)));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const report = {
      auditAppend: {
        redisCpuMicrosPerEvent: median(rounds.map((r) => r.redisCpuMicrosPerEvent)),
        scriptMicrosPerEvent: median(rounds.map((r) => r.scriptMicrosPerEvent)),
        rounds,
        note: 'one event per append, 32 appenders; format 1 (two Lua SHA-256 blocks) measured 119 µs per event on this machine',
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await redis.quit();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
