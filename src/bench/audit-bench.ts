import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { RedisKeys } from '../store/redis-keys';

export interface AppendCost {
  events: number;
  /** Redis script time per event (INFO commandstats, EVALSHA usec / events). */
  scriptMicrosPerEvent: number;
  /** Redis process CPU (user + sys) per event over the run, networking included. */
  redisCpuMicrosPerEvent: number;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

async function evalshaMicros(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(/^cmdstat_evalsha:calls=\d+,usec=(\d+)/m.exec(info)?.[1] ?? 0);
}

/**
 * What one audit append costs Redis: `events` appends of one event each (as a transition appends),
 * `parallel` at a time, measured on a Redis nobody else uses (its CPU counters are the whole
 * process). The events look like the real ones: a request id, an actor, a few data fields.
 */
export async function benchAuditAppend(redis: Redis, events: number, parallel = 32): Promise<AppendCost> {
  const keys = new RedisKeys(`bench-audit-${randomBytes(4).toString('hex')}`);
  const log = new RedisAuditLog(redis, keys);
  await log.append([{ type: 'bench.warmup', actor: { id: 'system', via: 'system' }, data: {} }], Date.now());
  const cpuBefore = await redisCpuSeconds(redis);
  const scriptBefore = await evalshaMicros(redis);
  let next = 0;
  const appendOne = async () => {
    for (let i = next++; i < events; i = next++) {
      await log.append(
        [{ type: 'request.approved', requestId: `r-${i}`, actor: { id: 'U0APPROVER', via: 'slack' }, data: { resource: 'prod-db', stage: 1, reviews: 2, durationMs: 3_600_000 } }],
        Date.now(),
      );
    }
  };
  await Promise.all(Array.from({ length: parallel }, appendOne));
  const cpu = (await redisCpuSeconds(redis)) - cpuBefore;
  const script = (await evalshaMicros(redis)) - scriptBefore;
  // The stream, its head and the index lists the events were pushed on.
  for (let cursor = '0'; ; ) {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.base}*`, 'COUNT', 1000);
    if (found.length) await redis.del(...found);
    cursor = next;
    if (cursor === '0') break;
  }
  return { events, scriptMicrosPerEvent: Number((script / events).toFixed(1)), redisCpuMicrosPerEvent: Number(((cpu * 1e6) / events).toFixed(1)) };
}
