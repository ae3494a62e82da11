import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { AppContext } from '../../app/app-context';
import type { Logger } from '../../log/logger';
import type { AppHome } from '../app-home';
import { actionResultText, notDoneText } from '../commands/result-text';
import type { RequestModal } from '../modals/request-modal';
import { clickSourceOf, type ClickerReply, type ClickSource } from './clicker-reply';
import { RequestIdValue } from './decision-actions';
import { ACTION_IDS } from './interaction-ids';

/**
 * The requester's own buttons, in the App Home and in DMs: Revoke (end access early), Cancel
 * (withdraw a pending request), and the Home's "Request access". The service decides who may;
 * a refusal is audited there and explained here.
 */
export class GrantActions {
  constructor(
    private readonly ctx: AppContext,
    private readonly home: AppHome,
    private readonly reply: ClickerReply,
    private readonly requestModal: RequestModal,
    private readonly logger: Logger,
  ) {}

  register(app: App): void {
    for (const kind of ['revoke', 'cancel'] as const) {
      app.action<BlockAction<ButtonAction>>(ACTION_IDS[kind], async ({ ack, body, action, respond }) => {
        await ack();
        const source = clickSourceOf(body, respond);
        try {
          await this.act(kind, source, action.value);
        } catch (err) {
          await this.reply.failed(source, err, kind);
        }
      });
    }

    app.action<BlockAction<ButtonAction>>(ACTION_IDS.openRequest, async ({ ack, body, client }) => {
      await ack();
      await this.requestModal.open(client, body.trigger_id, body.user.id);
    });
  }

  private async act(kind: 'revoke' | 'cancel', source: ClickSource, value: string | undefined): Promise<void> {
    const id = RequestIdValue.safeParse(value);
    if (!id.success) {
      this.logger.warn({ value, kind }, 'button without a request id');
      await this.reply.send(source, ':warning: This button does not name a request.');
      return;
    }
    const result =
      kind === 'revoke' ? await this.ctx.service.revoke(id.data, source.userId, 'slack') : await this.ctx.service.cancel(id.data, source.userId, 'slack');
    if (source.home) {
      await this.home.refresh(source.userId, actionResultText(kind, result, this.ctx.policy));
      return;
    }
    // On a DM the notifier has already told the requester of a success; only a refusal needs saying.
    if (result.status !== 'ok') await this.reply.send(source, notDoneText(result));
    await this.home.refresh(source.userId);
  }
}
