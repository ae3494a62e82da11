import type { App, ViewOutput, webApi } from '@slack/bolt';
import type { AppContext } from '../../app/app-context';
import type { AccessRequest } from '../../engine/types';
import type { Logger } from '../../log/logger';
import type { ServiceResult } from '../../requests/request-service';
import { ACTION_IDS, DENY_REASON_BLOCK, VIEW_IDS } from '../actions/interaction-ids';
import type { AppHome } from '../app-home';
import { notDoneText } from '../commands/result-text';
import { truncate } from '../blocks/format';
import { settleWithin } from './ack-deadline';
import { onViewSubmission, type ViewAck } from './view-submission';
import { denyReasonModalView, parseDenyReasonMetadata, type DenyReasonMetadata } from './deny-reason-modal-view';


/**
 * The deny-reason modal: opened by the Deny button, its submission is the denial. A refusal (not an
 * approver, already decided) comes back inline on the reason field; the service has audited it.
 */
export class DenyReasonModal {
  constructor(
    private readonly ctx: AppContext,
    private readonly home: AppHome,
    private readonly logger: Logger,
  ) {}

  async open(client: webApi.WebClient, triggerId: string, request: AccessRequest, metadata: DenyReasonMetadata): Promise<void> {
    await client.views.open({ trigger_id: triggerId, view: denyReasonModalView(request, this.ctx.policy, metadata) });
  }

  register(app: App): void {
    onViewSubmission(app, VIEW_IDS.denyReason, {
      logger: this.logger,
      what: 'deny-reason',
      errorBlock: DENY_REASON_BLOCK,
      submit: (userId, view, client, ack) => this.onSubmit(userId, view, client, ack),
    });
  }

  private async onSubmit(userId: string, view: ViewOutput, client: webApi.WebClient, ack: ViewAck): Promise<void> {
    const metadata = parseDenyReasonMetadata(view.private_metadata);
    if (!metadata) {
      this.logger.warn({ userId }, 'deny-reason modal without a readable request id');
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'This form lost track of its request; click Deny on the request again.' } });
      return;
    }
    const raw: unknown = view.state.values[DENY_REASON_BLOCK]?.[ACTION_IDS.reasonInput]?.value;
    const reason = typeof raw === 'string' ? raw.trim() : '';
    if (reason === '') {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'Say why, so the requester knows what to change.' } });
      return;
    }

    const outcome = await settleWithin(this.ctx.service.review(metadata.requestId, userId, 'deny', 'slack', reason));
    if (outcome.settled) {
      const result = outcome.value;
      if (result.status === 'ok') await ack();
      else await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: truncate(result.message, 1000) } });
      await this.home.refresh(userId);
      return;
    }
    await ack();
    const result = await outcome.later;
    if (result.status !== 'ok') await this.tellLate(client, userId, metadata, result);
    await this.home.refresh(userId);
  }

  /** The modal is closed by now: the refusal goes where Deny was clicked. */
  private async tellLate(
    client: webApi.WebClient,
    userId: string,
    metadata: DenyReasonMetadata,
    result: Exclude<ServiceResult, { status: 'ok' }>,
  ): Promise<void> {
    const text = `Your denial of \`${metadata.requestId}\` was not recorded. ${notDoneText(result)}`;
    if (metadata.channel) {
      try {
        await client.chat.postEphemeral({ channel: metadata.channel, user: userId, text });
        return;
      } catch (err) {
        this.logger.debug({ err }, 'could not post the late denial outcome in the channel');
      }
    }
    await this.home.refresh(userId, text);
  }
}
