import { formatDuration } from '../../config/duration';
import type { Policy } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';
import type { ServiceResult } from '../../requests/request-service';
import { escapeText, slackTime } from '../blocks/format';
import { revocationEffect } from '../blocks/requester-messages';
import { stageSummary, type GroupLabels } from './slack-text';

/** What became of a request someone just submitted, said to them. */
export function submittedText(request: AccessRequest, policy: Policy, groups?: GroupLabels): string {
  const what = request.extension
    ? `Extension \`${request.id}\` of \`${request.extension.of}\` (*${escapeText(request.resource)}*, ${formatDuration(request.grantedMs)} more)`
    : `Request \`${request.id}\` for *${escapeText(request.resource)}* (${formatDuration(request.grantedMs)})`;
  if (request.state === 'pending')
    return `:hourglass_flowing_sand: ${what} is waiting for approval: ${stageSummary(request, policy, groups)}. I will send you a DM when it is decided.`;
  const how = request.breakGlass ? 'under break-glass (a post-incident review follows)' : request.autoApproved ? 'automatically' : '';
  const until = request.expiresAt !== undefined ? ` until ${slackTime(request.expiresAt)}` : '';
  return `:white_check_mark: ${what} is approved ${how}${until}. Your certificate is on its way by DM.`.replace(/ {2,}/g, ' ');
}

/** A refusal or no-op, said to the person who tried. */
export function notDoneText(result: Exclude<ServiceResult, { status: 'ok' }>): string {
  return result.status === 'refused' ? `:no_entry_sign: ${escapeText(result.message)}` : `:information_source: ${escapeText(result.message)}`;
}

export function submitResultText(result: ServiceResult, policy: Policy, groups?: GroupLabels): string {
  return result.status === 'ok' ? submittedText(result.request, policy, groups) : notDoneText(result);
}

/** The outcome of cancel, revoke, approve or deny, said to the person who did it. */
export function actionResultText(
  action: 'cancel' | 'revoke' | 'approve' | 'deny',
  result: ServiceResult,
  policy: Policy,
  options: { now?: number; krlRefreshMs?: number; publicUrl?: string } = {},
): string {
  if (result.status !== 'ok') return notDoneText(result);
  const r = result.request;
  const subject = `\`${r.id}\` (*${escapeText(r.resource)}* for <@${r.requester.id}>)`;
  switch (action) {
    case 'cancel':
      return `:wastebasket: Request ${subject} is cancelled.`;
    case 'revoke':
      return `:lock: Access ${subject} is revoked. ${revocationEffect(r, policy.resources.get(r.resource), options.now ?? r.updatedAt, options.krlRefreshMs, options.publicUrl)}`;
    case 'approve':
      return r.state === 'pending'
        ? `:ballot_box_with_check: You approved ${subject}; it now waits for ${stageSummary(r, policy)}.`
        : `:white_check_mark: You approved ${subject}.`;
    case 'deny':
      return `:x: You denied ${subject}.`;
  }
}
