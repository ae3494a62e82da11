import type { Redis } from 'ioredis';
import type { RedisKeys } from '../store/redis-keys';
import { MetricsRegistry } from './metrics-registry';

/** Stream id → the epoch ms Redis stored it at. */
const idTime = (id: string) => Number(id.split('-')[0]);

/**
 * How far each audit sink (a consumer group on the audit stream: jsonl, webhook, postgres) trails
 * the log, read at scrape: events not yet shipped (waiting plus taken but unacknowledged), and the
 * age of the oldest of them. An age that grows means events are not leaving the machine.
 */
export class AuditSinkMetrics {
  constructor(metrics: MetricsRegistry, redis: Redis, keys: RedisKeys, clock: () => number = Date.now) {
    const read = MetricsRegistry.shared(async () => {
      const groups = (await redis.xinfo('GROUPS', keys.auditStream).catch(() => [])) as unknown[][];
      const sinks: { sink: string; events: number; seconds: number }[] = [];
      for (const fields of groups) {
        const info = new Map<string, unknown>();
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
        const group = String(info.get('name'));
        const lastDelivered = String(info.get('last-delivered-id') ?? '0-0');
        const pending = Number(info.get('pending') ?? 0);
        const [next] = await redis.xrange(keys.auditStream, `(${lastDelivered}`, '+', 'COUNT', 1);
        // Redis 7 keeps the group's lag; on 6.2 it is counted from the stream.
        const lagField = info.get('lag');
        const waiting = next === undefined ? 0 : typeof lagField === 'number' ? lagField : (await redis.xrange(keys.auditStream, `(${lastDelivered}`, '+')).length;
        let oldest = next ? idTime(next[0]) : undefined;
        if (pending > 0) {
          const summary = (await redis.xpending(keys.auditStream, group)) as [number, string | null, string | null, unknown];
          if (summary[1]) oldest = Math.min(oldest ?? Infinity, idTime(summary[1]));
        }
        sinks.push({ sink: group.replace(/^sink-/, ''), events: waiting + pending, seconds: oldest === undefined ? 0 : Math.max(0, clock() - oldest) / 1000 });
      }
      return sinks;
    });
    metrics.gauge({
      name: 'audit_sink_lag_events',
      help: 'Audit events not yet shipped to a sink (waiting plus unacknowledged)',
      labelNames: ['sink'],
      collect: async (gauge) => {
        for (const s of await read()) gauge.set({ sink: s.sink }, s.events);
      },
    });
    metrics.gauge({
      name: 'audit_sink_lag_seconds',
      help: 'Age of the oldest audit event not yet shipped to a sink, 0 when it has everything',
      labelNames: ['sink'],
      collect: async (gauge) => {
        for (const s of await read()) gauge.set({ sink: s.sink }, s.seconds);
      },
    });
  }
}
