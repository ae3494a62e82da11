import type { App, webApi } from '@slack/bolt';
import type { AppContext } from '../app/app-context';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import { appHomeView, HOME_LIST_LIMIT } from './blocks/app-home-view';
import { groupLabelsOf } from './commands/slack-text';

const ACTIVE_STATES: ReadonlySet<AccessRequest['state']> = new Set(['approved', 'issued']);

/** After a change, the Home of someone who has opened it is published once this long after the last change. */
export const HOME_DEBOUNCE_MS = 3_000;

/**
 * The App Home tab, published lazily: when the user opens it (app_home_opened renders it from
 * Redis, so it is never older than the moment they look), at once with a notice when they acted
 * in the Home itself, and otherwise after a change only if they have ever opened it, debounced so
 * a burst of clicks is one publish. Nobody who never looks at the Home costs a views.publish.
 */
export class AppHome {
  private readonly due = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: AppContext,
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly debounceMs = HOME_DEBOUNCE_MS,
  ) {}

  register(app: App): void {
    app.event('app_home_opened', async ({ event }) => {
      if (event.tab !== 'home') return;
      await this.ctx.redis.hset(this.ctx.keys.slackHomeOpened, event.user, String(this.clock()));
      this.cancel(event.user);
      await this.publish(event.user);
    });
  }

  /** Stops pending publishes (the bot is stopping). */
  stop(): void {
    for (const userId of [...this.due.keys()]) this.cancel(userId);
  }

  private cancel(userId: string): void {
    const timer = this.due.get(userId);
    if (timer) clearTimeout(timer);
    this.due.delete(userId);
  }

  /** Requests the Home shows for this user, newest first. */
  async dataFor(userId: string): Promise<{ grants: AccessRequest[]; pending: AccessRequest[]; approvals: AccessRequest[]; approvalsTotal: number }> {
    // The Home shows HOME_LIST_LIMIT approvals and the true total; reading more would be wasted.
    const [mine, approvals, approvalsTotal] = await Promise.all([
      this.ctx.store.listByRequester(userId, 200),
      this.ctx.store.listPendingForApprover(userId, HOME_LIST_LIMIT + 5),
      this.ctx.store.countPendingForApprover(userId),
    ]);
    const now = this.clock();
    return {
      grants: mine.filter((r) => ACTIVE_STATES.has(r.state) && (r.expiresAt ?? Infinity) > now),
      pending: mine.filter((r) => r.state === 'pending'),
      approvals: approvals.filter((r) => r.requester.id !== userId),
      approvalsTotal,
    };
  }

  async publish(userId: string, notice?: string): Promise<void> {
    const [data, groups] = await Promise.all([this.dataFor(userId), groupLabelsOf(this.ctx.directory, this.logger)]);
    const view = appHomeView({ userId, now: this.clock(), policy: this.ctx.policy, groups, ...data, ...(notice ? { notice } : {}) });
    await this.client.views.publish({ user_id: userId, view });
  }

  /**
   * After an action. With a notice (the person acted in the Home): published now. Without: the
   * Home changed, published after the debounce if the person has ever opened it. A failure is
   * logged, never shown as the action failing.
   */
  async refresh(userId: string, notice?: string): Promise<void> {
    try {
      if (notice !== undefined) {
        this.cancel(userId);
        await this.publish(userId, notice);
        return;
      }
      if (!(await this.ctx.redis.hexists(this.ctx.keys.slackHomeOpened, userId))) return;
      this.cancel(userId);
      const timer = setTimeout(() => {
        this.due.delete(userId);
        this.publish(userId).catch((err: unknown) => this.logger.warn({ err, userId }, 'could not refresh the App Home'));
      }, this.debounceMs);
      timer.unref();
      this.due.set(userId, timer);
    } catch (err) {
      this.logger.warn({ err, userId }, 'could not refresh the App Home');
    }
  }
}
