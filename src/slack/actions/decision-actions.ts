import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { AppContext } from '../../app/app-context';
import type { Logger } from '../../log/logger';
import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import type { AppHome } from '../app-home';
import { SlackWorkQueue } from '../slack-work-queue';
import { actionResultText, notDoneText } from '../commands/result-text';
import type { DenyReasonModal } from '../modals/deny-reason-modal';
import { clickSourceOf, type ClickerReply, type ClickSource } from './clicker-reply';
import { ACTION_IDS } from './interaction-ids';

export const RequestIdValue = z.string().regex(REQUEST_ID_PATTERN);

/**
 * Approve and Deny, on approval messages, `/access pending` replies and the App Home. Both ack at
 * once. Approve is one review through the service (its compare-and-set makes double clicks and
 * simultaneous approvers one decision); Deny opens the reason modal, whose submission decides.
 */
export class DecisionActions {
  constructor(
    private readonly ctx: AppContext,
    private readonly home: AppHome,
    private readonly reply: ClickerReply,
    private readonly denyModal: DenyReasonModal,
    private readonly logger: Logger,
    /** Post-ack work, a few at a time, so 500 approvals clicked at once are all acked at once. */
    private readonly work: SlackWorkQueue = new SlackWorkQueue(),
  ) {}

  register(app: App): void {
    app.action<BlockAction<ButtonAction>>(ACTION_IDS.approve, async ({ ack, body, action, respond }) => {
      await ack();
      const source = clickSourceOf(body, respond);
      try {
        await this.work.run(() => this.approve(source, action.value));
      } catch (err) {
        await this.reply.failed(source, err, 'approve');
      }
    });

    app.action<BlockAction<ButtonAction>>(ACTION_IDS.deny, async ({ ack, body, action, client, respond }) => {
      await ack();
      const source = clickSourceOf(body, respond);
      try {
        await this.deny(source, action.value, client, body.trigger_id);
      } catch (err) {
        await this.reply.failed(source, err, 'deny');
      }
    });
  }

  private async approve(source: ClickSource, value: string | undefined): Promise<void> {
    const id = RequestIdValue.safeParse(value);
    if (!id.success) {
      this.logger.warn({ value }, 'approve button without a request id');
      await this.reply.send(source, ':warning: This button does not name a request.');
      return;
    }
    const result = await this.ctx.service.review(id.data, source.userId, 'approve', 'slack');
    if (result.status !== 'ok') {
      await this.reply.send(source, notDoneText(result));
      if (!source.home) await this.home.refresh(source.userId);
      return;
    }
    // The approval messages are updated by the notifier; the Home shows what the click did.
    await this.home.refresh(source.userId, source.home ? actionResultText('approve', result, this.ctx.policy) : undefined);
  }

  private async deny(source: ClickSource, value: string | undefined, client: webApi.WebClient, triggerId: string): Promise<void> {
    const id = RequestIdValue.safeParse(value);
    if (!id.success) {
      this.logger.warn({ value }, 'deny button without a request id');
      await this.reply.send(source, ':warning: This button does not name a request.');
      return;
    }
    const request = await this.ctx.store.get(id.data);
    const workflow = request ? this.ctx.policy.workflows.get(request.workflow) : undefined;
    const cannotDecide = !request || request.state !== 'pending' || (request.requester.id === source.userId && workflow?.self_approval !== true);
    if (cannotDecide) {
      // No reason to ask for: the service refuses (and audits) without changing anything.
      const result = await this.ctx.service.review(id.data, source.userId, 'deny', 'slack');
      await this.reply.send(source, result.status === 'ok' ? actionResultText('deny', result, this.ctx.policy) : notDoneText(result));
      return;
    }
    await this.denyModal.open(client, triggerId, request, {
      requestId: request.id,
      ...(source.channel ? { channel: source.channel } : {}),
      ...(source.messageTs ? { ts: source.messageTs } : {}),
    });
  }
}
