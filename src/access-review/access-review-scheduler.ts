import type { Logger } from '../log/logger';
import type { AccessReviewService } from './access-review-service';

/**
 * Starts due reviews now and then (every worker runs one; a campaign is created once across
 * replicas). A worker that was down at the start of a period catches up when it comes back.
 */
export class AccessReviewScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    readonly service: AccessReviewService,
    private readonly logger: Logger,
  ) {}

  runDue(now?: number) {
    return this.service.startDue(now);
  }

  start(everyMs: number): void {
    const run = () => {
      if (this.running) return;
      this.running = this.service
        .startDue()
        .then((started) => {
          for (const c of started) this.logger.info({ campaign: c.id, reviewers: c.reviewers.length, items: c.items.length }, 'access review started');
        })
        .catch((err: unknown) => this.logger.error({ err }, 'starting due access reviews failed'))
        .finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
