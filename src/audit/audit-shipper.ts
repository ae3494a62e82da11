import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import type { RedisKeys } from '../store/redis-keys';
import type { AuditEvent } from './audit-event';
import { parseStreamEntry } from './redis-audit-log';
import type { AuditSink } from './sinks/audit-sink';

type StreamReply = [string, [string, string[]][]][] | null;

/**
 * Ships the audit stream to a sink through a Redis consumer group named after the sink: every
 * replica may run a shipper, each event goes to one of them, and a batch a crashed replica held is
 * claimed again after `claimIdleMs`. Delivery is at-least-once, in order within a batch.
 */
export class AuditShipper {
  private running = false;
  private loop?: Promise<void>;

  constructor(
    /** A connection of its own: XREADGROUP blocks it. */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly sink: AuditSink,
    private readonly logger: Logger,
    private readonly options: { consumer: string; batch?: number; blockMs?: number; claimIdleMs?: number; retryMs?: number },
  ) {}

  private get group(): string {
    return `sink-${this.sink.name}`;
  }

  async start(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.auditStream, this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.sink.close();
  }

  private async run(): Promise<void> {
    const batch = this.options.batch ?? 200;
    while (this.running) {
      try {
        const claimed = await this.claimStale(batch);
        const fresh = claimed.length ? [] : await this.readNew(batch);
        const entries = claimed.length ? claimed : fresh;
        if (entries.length === 0) continue;
        await this.sink.write(entries.map((e) => e.event));
        await this.redis.xack(this.keys.auditStream, this.group, ...entries.map((e) => e.id));
      } catch (err) {
        this.logger.error({ err, sink: this.sink.name }, 'audit shipping failed; will retry');
        await new Promise((r) => setTimeout(r, this.options.retryMs ?? 1000));
      }
    }
  }

  private async readNew(count: number): Promise<{ id: string; event: AuditEvent }[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      this.group,
      this.options.consumer,
      'COUNT',
      count,
      'BLOCK',
      this.options.blockMs ?? 1000,
      'STREAMS',
      this.keys.auditStream,
      '>',
    )) as StreamReply;
    return (reply?.[0]?.[1] ?? []).map(([id, fields]) => ({ id, event: parseStreamEntry(id, fields) }));
  }

  /** Entries another consumer (or this one, before a failure) took and never acknowledged. */
  private async claimStale(count: number): Promise<{ id: string; event: AuditEvent }[]> {
    const reply = (await this.redis.xautoclaim(
      this.keys.auditStream,
      this.group,
      this.options.consumer,
      this.options.claimIdleMs ?? 30_000,
      '0',
      'COUNT',
      count,
    )) as [string, [string, string[]][]];
    return (reply[1] ?? []).filter((e) => e && e[1]).map(([id, fields]) => ({ id, event: parseStreamEntry(id, fields) }));
  }
}
