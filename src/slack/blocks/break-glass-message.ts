import type { Resource } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';
import type { KnownBlock, SlackMessage } from './approval-message';
import { code, escapeText, formatDuration, mention, requestSummary, SLACK_LIMITS, slackTime, truncate } from './format';

/** The loud notice to the break-glass channel and people: who took what, for which incident, and that a review follows. */
export function breakGlassMessage(request: AccessRequest, resource: Resource | undefined): SlackMessage {
  const summary = requestSummary(request, resource);
  const bg = request.breakGlass;
  const until = request.expiresAt !== undefined ? `, until ${slackTime(request.expiresAt)}` : '';
  const incident = bg?.incidentId
    ? `Incident ${code(bg.incidentId)}${bg.service ? ` on service ${code(bg.service)}` : ''}`
    : 'No incident given';
  const review = bg?.reviewRequired
    ? ':memo: *A post-incident review is required*: a break-glass reviewer or an admin closes it with what was done and why.'
    : 'No post-incident review is required by this workflow.';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`🚨 Break-glass: ${request.resource}`, SLACK_LIMITS.headerText) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:rotating_light: *${summary.requester} broke glass* and has access to ${summary.resource} ` +
            `for ${formatDuration(request.grantedMs)}${until}, without approval.\n${incident}.`,
          SLACK_LIMITS.sectionText,
        ),
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`*Reason*\n${summary.reason}`, SLACK_LIMITS.sectionText) } },
    { type: 'section', text: { type: 'mrkdwn', text: review } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${escapeText(request.id)}\` · ${slackTime(request.createdAt)}` }] },
  ];
  return {
    text: `Break-glass: ${mention(request.requester.id)} took access to ${escapeText(request.resource)} (${bg?.incidentId ? `incident ${escapeText(bg.incidentId)}` : 'no incident'})`,
    blocks,
  };
}
