import type { MetricsRegistry } from '../metrics/metrics-registry';

/**
 * What this process asked of Slack's Web API: calls by method, 429 answers by method, and how many
 * calls are waiting for their method's rate window (the backlog). Kept by the SlackRateGate, read
 * by the metrics endpoint and the benchmark.
 */
export class SlackCallStats {
  private readonly callCounts = new Map<string, number>();
  private readonly rateLimitedCounts = new Map<string, number>();
  private waitingNow = 0;
  private waitingPeak = 0;

  /**
   * With a registry: `access_bot_slack_api_backlog`. Calls and 429s by method are counted by the
   * metrics' own fetch under the gate (`access_bot_external_calls_total{service="slack"}`).
   */
  constructor(metrics?: MetricsRegistry) {
    metrics?.gauge({
      name: 'slack_api_backlog',
      help: 'Slack Web API calls waiting for their method\'s rate window in this process',
      collect: (gauge) => gauge.set(this.waitingNow),
    });
  }

  called(method: string): void {
    this.callCounts.set(method, (this.callCounts.get(method) ?? 0) + 1);
  }

  rateLimited(method: string): void {
    this.rateLimitedCounts.set(method, (this.rateLimitedCounts.get(method) ?? 0) + 1);
  }

  startWaiting(): void {
    this.waitingNow += 1;
    if (this.waitingNow > this.waitingPeak) this.waitingPeak = this.waitingNow;
  }

  stopWaiting(): void {
    this.waitingNow -= 1;
  }

  /** Calls waiting for their rate window now. */
  get backlog(): number {
    return this.waitingNow;
  }

  get peakBacklog(): number {
    return this.waitingPeak;
  }

  calls(): Record<string, number> {
    return Object.fromEntries(this.callCounts);
  }

  rateLimits(): Record<string, number> {
    return Object.fromEntries(this.rateLimitedCounts);
  }
}
