import type { App, BlockAction, ButtonAction, ViewOutput, types, webApi } from '@slack/bolt';
import type { AppContext } from '../../app/app-context';
import type { AccessRequest } from '../../engine/types';
import type { Logger } from '../../log/logger';
import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import { ACTION_IDS, REVIEW_NOTES_BLOCK, VIEW_IDS } from '../actions/interaction-ids';
import type { AppHome } from '../app-home';
import { requestSummaryText } from '../blocks/app-home-view';
import { truncate } from '../blocks/format';
import { notDoneText } from '../commands/result-text';
import { settleWithin } from './ack-deadline';
import { onViewSubmission, type ViewAck } from './view-submission';

/**
 * Closing a post-incident review of break-glass access in Slack: "Close review" on the reviewer's DM
 * opens a modal for the notes (what was done and why), whose submission closes the review. Who may
 * close it (a reviewer or an admin, never the person who broke glass) is the engine's call; a refusal
 * comes back on the notes field, audited.
 */
export class BreakGlassReviewModal {
  constructor(
    private readonly ctx: AppContext,
    private readonly home: AppHome,
    private readonly logger: Logger,
  ) {}

  register(app: App): void {
    app.action<BlockAction<ButtonAction>>(ACTION_IDS.closeReview, async ({ ack, body, action, client }) => {
      await ack();
      const id = action.value ?? '';
      const request = REQUEST_ID_PATTERN.test(id) ? await this.ctx.store.get(id) : undefined;
      if (!request) {
        this.logger.warn({ value: action.value }, 'Close review without a known request');
        return;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: this.view(request) });
    });
    onViewSubmission(app, VIEW_IDS.breakGlassReview, {
      logger: this.logger,
      what: 'break-glass review',
      errorBlock: REVIEW_NOTES_BLOCK,
      submit: (userId, view, _client, ack) => this.onSubmit(userId, view, ack),
    });
  }

  private view(request: AccessRequest): types.ModalView {
    return {
      type: 'modal',
      callback_id: VIEW_IDS.breakGlassReview,
      title: { type: 'plain_text', text: 'Post-incident review' },
      submit: { type: 'plain_text', text: 'Close review' },
      close: { type: 'plain_text', text: 'Cancel' },
      private_metadata: request.id,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: requestSummaryText(request, this.ctx.policy) } },
        {
          type: 'input',
          block_id: REVIEW_NOTES_BLOCK,
          label: { type: 'plain_text', text: 'What was done with the access, and why was it needed?' },
          element: { type: 'plain_text_input', action_id: ACTION_IDS.reviewNotesInput, multiline: true, max_length: 4000 },
        },
      ],
    };
  }

  private async onSubmit(userId: string, view: ViewOutput, ack: ViewAck): Promise<void> {
    const requestId = view.private_metadata;
    if (!REQUEST_ID_PATTERN.test(requestId)) {
      await ack({ response_action: 'errors', errors: { [REVIEW_NOTES_BLOCK]: 'This form lost track of its request; click Close review again.' } });
      return;
    }
    const raw: unknown = view.state.values[REVIEW_NOTES_BLOCK]?.[ACTION_IDS.reviewNotesInput]?.value;
    const notes = typeof raw === 'string' ? raw : '';
    const outcome = await settleWithin(this.ctx.service.reviewBreakGlass(requestId, userId, 'slack', notes));
    if (outcome.settled) {
      const result = outcome.value;
      if (result.status === 'ok') await ack();
      else await ack({ response_action: 'errors', errors: { [REVIEW_NOTES_BLOCK]: truncate(result.message, 1000) } });
      return;
    }
    await ack();
    const result = await outcome.later;
    if (result.status !== 'ok') await this.home.refresh(userId, `Your review of \`${requestId}\` was not recorded. ${notDoneText(result)}`);
  }
}
