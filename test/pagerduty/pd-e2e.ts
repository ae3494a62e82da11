import { randomBytes } from 'node:crypto';
import { createPagerDutyIntegration, type PagerDutyIntegration } from '../../src/pagerduty/pagerduty-integration';
import { PAGERDUTY_WEBHOOK_PATH } from '../../src/pagerduty/pagerduty-webhook-route';
import { FakePagerDutyApi, type FakePagerDutyOptions } from '../fakes/pagerduty-api';
import type { FakeSlackUser, FakeSlackUsergroup } from '../fakes/slack-api';
import { E2e } from '../slack/e2e-harness';
import { PD_FROM } from './pd-fixtures';

/**
 * The Slack end-to-end harness (a real `access-bot start`: Bolt, worker, Redis) with PagerDuty on,
 * pointed at the PagerDuty fake through pdjs and our port, the webhook mounted on the bot.
 */
export class PdE2e {
  private constructor(
    readonly e2e: E2e,
    readonly pd: FakePagerDutyApi,
    readonly integration: PagerDutyIntegration,
    readonly secret: string,
  ) {}

  static async start(options: {
    workflows: unknown;
    users: FakeSlackUser[];
    usergroups: FakeSlackUsergroup[];
    pagerduty: FakePagerDutyOptions;
    env?: Record<string, string>;
  }): Promise<PdE2e> {
    const pd = new FakePagerDutyApi(options.pagerduty);
    const url = await pd.start();
    const secret = randomBytes(24).toString('base64url');
    let integration: PagerDutyIntegration | undefined;
    const started = E2e.start({
      workflows: options.workflows,
      users: options.users,
      usergroups: options.usergroups,
      env: {
        PAGERDUTY_TOKEN: pd.token,
        PAGERDUTY_API_URL: url,
        PAGERDUTY_FROM_EMAIL: PD_FROM,
        PAGERDUTY_WEBHOOK_SECRET: secret,
        PAGERDUTY_TIMEOUT: '1500ms',
        ...options.env,
      },
      setup: async (ctx) => {
        const settings = ctx.env.pagerduty;
        if (!settings) throw new Error('the PagerDuty e2e env must turn PagerDuty on');
        const created = createPagerDutyIntegration(ctx, settings);
        integration = created;
        await created.check();
        return { mounts: [created.mount] };
      },
    });
    let e2e: E2e;
    try {
      e2e = await started;
    } catch (err) {
      await pd.stop();
      throw err;
    }
    if (!integration) throw new Error('PagerDuty integration not created');
    return new PdE2e(e2e, pd, integration, secret);
  }

  get webhookUrl(): string {
    return `http://127.0.0.1:${this.e2e.bot.port}${PAGERDUTY_WEBHOOK_PATH}`;
  }

  /** Delivers a signed v3 webhook for an event on an incident, as it stands in the fake now. */
  deliver(eventType: string, incidentId: string, options: { eventId?: string; secrets?: string[]; signature?: string } = {}) {
    const body = this.pd.webhookBody(eventType, incidentId, options.eventId);
    return FakePagerDutyApi.deliver(this.webhookUrl, body, options.secrets ?? [this.secret], options.signature);
  }

  async stop(): Promise<void> {
    await this.e2e.stop();
    await this.pd.stop();
  }
}
