import type { AuditInput } from '../engine/types';
import type { RedisAuditLog } from './redis-audit-log';

/**
 * Audits events an outsider can trigger at will (forged webhook signatures) without letting them
 * flood the log: at most `perWindow` events per window per process; the next event written after
 * a suppressed burst carries `suppressed`, the count of events dropped since the last one written.
 */
export class RateLimitedAudit {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly audit: RedisAuditLog,
    private readonly perWindow = 30,
    private readonly windowMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether the event was written (false: counted as suppressed). */
  async append(event: AuditInput): Promise<boolean> {
    const now = this.clock();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.perWindow) {
      this.suppressed++;
      return false;
    }
    this.written++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    await this.audit.append([suppressed ? { ...event, data: { ...event.data, suppressed } } : event], now);
    return true;
  }
}
