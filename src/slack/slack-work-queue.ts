import type { MetricsRegistry } from '../metrics/metrics-registry';
import { runInWorkSlot } from '../requests/work-slot';

/**
 * The work a Slack request asks for after its ack, a few at a time. A burst of commands or clicks
 * (an incident: hundreds within seconds) would otherwise start all of its work at once, and the
 * event loop, busy with it, would answer the next requests' acks seconds late: Slack gives an ack
 * 3 s, then shows the person an error. With this queue the acks go out at once and the work follows
 * in order. Work that must run at once (opening a modal: trigger ids expire after 3 s) bypasses it.
 * A slot bounds the work up to the commit: the request service gives it back once the transition
 * and its durable effects are in (see work-slot.ts), before the Slack messages that follow.
 */
export class SlackWorkQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency = 8,
    metrics?: MetricsRegistry,
  ) {
    metrics?.gauge({
      name: 'slack_work_backlog',
      help: 'Acked Slack commands and clicks whose work waits for a slot in this bot',
      collect: (gauge) => gauge.set(this.waiting.length),
    });
  }

  get backlog(): number {
    return this.waiting.length;
  }

  /** Runs `work` in a slot; the slot is given back when it ends, or earlier through releaseWorkSlot(). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    return runInWorkSlot(() => {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }, work);
  }
}
