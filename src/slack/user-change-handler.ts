import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../log/logger';
import type { OffboardingService } from '../requests/offboarding-service';

/** The part of a `user_change` event read here: which account changed, and whether Slack says it is deactivated. */
const UserChangeEvent = z.object({ user: z.object({ id: z.string().regex(/^[UW][A-Z0-9]{2,}$/), deleted: z.boolean().optional() }) });

/**
 * Slack sends `user_change` when an account changes, deactivation included. A deactivated
 * account's access is removed at once (OffboardingService asks users.info again before acting:
 * the event is a hint). Other changes (a new title, a photo) are none of our business.
 */
export class UserChangeHandler {
  constructor(
    private readonly offboarding: OffboardingService,
    private readonly logger: Logger,
  ) {}

  register(app: App): void {
    app.event('user_change', async ({ event }) => {
      const parsed = UserChangeEvent.safeParse(event);
      if (!parsed.success) {
        this.logger.warn({ issues: parsed.error.issues.map((i) => i.message) }, 'user_change event without a readable user; ignored');
        return;
      }
      if (parsed.data.user.deleted !== true) return;
      const report = await this.offboarding.checkAndOffboard(parsed.data.user.id, 'user_change');
      if (!report) this.logger.info({ user: parsed.data.user.id }, 'user_change said deactivated, but users.info does not: nothing done');
    });
  }
}
