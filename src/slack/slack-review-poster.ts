import type { ReviewCampaign } from '../access-review/access-review-campaign';
import type { PendingChange } from '../access-review/pending-change-store';
import type { ReviewPoster } from '../access-review/review-poster';
import type { Policy } from '../config/policy';
import type { Directory } from '../requests/ports';
import { SlackApiError } from './errors/slack-api-error';
import { accessReviewMessages } from './blocks/access-review-message';
import { escapeText, mention } from './blocks/format';
import { callSlack, type WebClient } from './slack-web-api';

/** Access reviews by DM: each reviewer gets the campaign's messages; admins are told of each removal asked for. */
export class SlackReviewPoster implements ReviewPoster {
  constructor(
    private readonly client: WebClient,
    private readonly directory: Directory,
    private readonly policy: () => Policy,
  ) {}

  async sendReview(reviewerId: string, campaign: ReviewCampaign): Promise<void> {
    const channel = await this.openDm(reviewerId);
    for (const message of accessReviewMessages(campaign, reviewerId)) {
      await callSlack('chat.postMessage', () => this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false }));
    }
  }

  async notifyAdmins(change: PendingChange): Promise<void> {
    const admins = this.policy().admins;
    const ids = await this.directory.resolveApprovers({ ...(admins.users ? { users: admins.users } : {}), ...(admins.slack_groups ? { slack_groups: admins.slack_groups } : {}) });
    const text =
      `:clipboard: Access review *${escapeText(change.review)}* (${escapeText(change.period)}): ${mention(change.requestedBy)} asked to remove ${mention(change.user)}'s access to *${escapeText(change.resource)}*.\n` +
      `To do: ${escapeText(change.instruction)}.\n` +
      `Then close it: \`access-bot report pending-changes --close ${escapeText(change.id)} --note "<what you changed>"\``;
    const failures: unknown[] = [];
    for (const admin of ids) {
      try {
        const channel = await this.openDm(admin);
        await callSlack('chat.postMessage', () => this.client.chat.postMessage({ channel, text, unfurl_links: false }));
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw failures[0];
  }

  private async openDm(userId: string): Promise<string> {
    const opened = await callSlack('conversations.open', () => this.client.conversations.open({ users: userId }));
    const id = (opened as { channel?: { id?: unknown } }).channel?.id;
    if (typeof id !== 'string') throw new SlackApiError('conversations.open', 'unexpected_response');
    return id;
  }
}
