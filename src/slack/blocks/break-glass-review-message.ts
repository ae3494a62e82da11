import type { Resource } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';
import type { KnownBlock, SlackMessage } from './approval-message';
import { code, escapeText, formatDuration, mention, quote, requestSummary, SLACK_LIMITS, slackTime, truncate } from './format';

/** The button that opens the review-notes modal (fixed with its handler); value = request id. */
export const CLOSE_REVIEW_ACTION_ID = 'access.close_review';

/** Asks a reviewer to close the post-incident review of a break-glass grant: what was taken, for which incident, and a button. */
export function breakGlassReviewMessage(request: AccessRequest, resource: Resource | undefined, reminder?: number): SlackMessage {
  const summary = requestSummary(request, resource);
  const bg = request.breakGlass;
  const how = bg?.onIncident ? 'was granted by PagerDuty incident' : 'broke glass for';
  const incident = bg?.incidentId ? `${how} ${code(bg.incidentId)}${bg.service ? ` (service ${code(bg.service)})` : ''}` : 'broke glass (no incident)';
  const window =
    request.approvedAt !== undefined && request.expiresAt !== undefined ? ` from ${slackTime(request.approvedAt)} until ${slackTime(request.expiresAt)}` : '';
  const head = reminder !== undefined ? `:bell: *Reminder ${reminder}*: this post-incident review is still open.\n` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Post-incident review: ${request.resource}`, SLACK_LIMITS.headerText) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `${head}:memo: ${summary.requester} ${incident} and had access to ${summary.resource} for ${formatDuration(request.grantedMs)}${window}, without approval.\n` +
            'Close the review with what was done and why it was needed.',
          SLACK_LIMITS.sectionText,
        ),
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`*Reason*\n${summary.reason}`, SLACK_LIMITS.sectionText) } },
    {
      type: 'actions',
      elements: [{ type: 'button', action_id: CLOSE_REVIEW_ACTION_ID, value: request.id, style: 'primary', text: { type: 'plain_text', text: 'Close review' } }],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${escapeText(request.id)}\`` }] },
  ];
  return {
    text: truncate(
      `${reminder !== undefined ? `Reminder ${reminder}: ` : ''}Post-incident review open: ${mention(request.requester.id)} had break-glass access to ${escapeText(request.resource)}`,
      SLACK_LIMITS.fallbackText,
    ),
    blocks,
  };
}

/** Said where the break-glass alert went once a reviewer closed the review. */
export function breakGlassReviewClosedText(request: AccessRequest): string {
  const review = request.breakGlass?.review;
  return (
    `:white_check_mark: Post-incident review of ${code(request.id)} (${mention(request.requester.id)}, ${escapeText(request.resource)}) closed` +
    `${review ? ` by ${mention(review.by)}:\n${quote(review.notes, 1500)}` : '.'}`
  );
}
