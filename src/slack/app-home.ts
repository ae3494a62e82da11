import type { App, webApi } from '@slack/bolt';
import type { AppContext } from '../app/app-context';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import { appHomeView } from './blocks/app-home-view';
import { groupLabelsOf } from './commands/slack-text';

const ACTIVE_STATES: ReadonlySet<AccessRequest['state']> = new Set(['approved', 'issued']);

/**
 * The App Home tab. Published when the user opens it and again after anything they do (a request,
 * a decision, a revoke), from Redis each time: the tab never shows state older than its last render.
 */
export class AppHome {
  constructor(
    private readonly ctx: AppContext,
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  register(app: App): void {
    app.event('app_home_opened', async ({ event }) => {
      if (event.tab !== 'home') return;
      await this.publish(event.user);
    });
  }

  /** Requests the Home shows for this user, newest first. */
  async dataFor(userId: string): Promise<{ grants: AccessRequest[]; pending: AccessRequest[]; approvals: AccessRequest[] }> {
    const [mine, approvals] = await Promise.all([
      this.ctx.store.listByRequester(userId, 200),
      this.ctx.store.listPendingForApprover(userId),
    ]);
    const now = this.clock();
    return {
      grants: mine.filter((r) => ACTIVE_STATES.has(r.state) && (r.expiresAt ?? Infinity) > now),
      pending: mine.filter((r) => r.state === 'pending'),
      approvals: approvals.filter((r) => r.requester.id !== userId),
    };
  }

  async publish(userId: string, notice?: string): Promise<void> {
    const [data, groups] = await Promise.all([this.dataFor(userId), groupLabelsOf(this.ctx.directory, this.logger)]);
    const view = appHomeView({ userId, now: this.clock(), policy: this.ctx.policy, groups, ...data, ...(notice ? { notice } : {}) });
    await this.client.views.publish({ user_id: userId, view });
  }

  /** publish() for after an action: a failure is logged, never shown as the action failing. */
  async refresh(userId: string, notice?: string): Promise<void> {
    try {
      await this.publish(userId, notice);
    } catch (err) {
      this.logger.warn({ err, userId }, 'could not refresh the App Home');
    }
  }
}
