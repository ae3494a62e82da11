import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AccessReviewService } from '../../access-review/access-review-service';
import type { Logger } from '../../log/logger';
import { accessReviewMessageFor, parseReviewButtonValue, REVIEW_ACTION_IDS } from '../blocks/access-review-message';
import { callSlack } from '../slack-web-api';
import { clickSourceOf, type ClickerReply } from './clicker-reply';

/**
 * Keep / Remove on an access review DM. The service records the first answer per item, audits it,
 * and makes a Remove a pending change for the admins; here the message is redrawn with the answer,
 * and a refusal (not a reviewer, own access, answered by someone else) is told to the clicker.
 */
export class AccessReviewActions {
  constructor(
    private readonly service: AccessReviewService,
    private readonly reply: ClickerReply,
    private readonly logger: Logger,
  ) {}

  register(app: App): void {
    for (const decision of ['keep', 'remove'] as const) {
      app.action<BlockAction<ButtonAction>>(REVIEW_ACTION_IDS[decision], async ({ ack, body, action, client, respond }) => {
        await ack();
        const source = clickSourceOf(body, respond);
        try {
          const target = parseReviewButtonValue(action.value);
          if (!target) {
            this.logger.warn({ value: action.value }, 'access review button without a campaign');
            await this.reply.send(source, ':warning: This button does not name an access review.');
            return;
          }
          const result = await this.service.answer(target.campaignId, target.n, decision, source.userId, 'slack');
          if (result.status === 'refused') {
            await this.reply.send(source, `:no_entry_sign: ${result.message}`);
            if (result.code !== 'ALREADY_ANSWERED') return;
          }
          if (result.status === 'noop') await this.reply.send(source, result.message);
          if (source.channel && source.messageTs) {
            const state = await this.service.get(target.campaignId);
            if (!state) return;
            const message = accessReviewMessageFor(state.campaign, source.userId, state.answers, target.n);
            await callSlack('chat.update', () => client.chat.update({ channel: source.channel!, ts: source.messageTs!, text: message.text, blocks: message.blocks as never }));
          }
        } catch (err) {
          await this.reply.failed(source, err, `access review ${decision}`);
        }
      });
    }
  }
}
