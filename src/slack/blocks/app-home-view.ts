import type { types } from '@slack/bolt';
import { formatDuration } from '../../config/duration';
import type { Policy } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';
import { ACTION_IDS } from '../actions/interaction-ids';
import { escapeText, slackTime, truncate } from './format';
import { approvalFacts, recentGrantsText } from '../../requests/approval-facts';
import { stageSummary, timeLeft, type GroupLabels } from '../commands/slack-text';
import { certificateMrkdwn, extensionMrkdwn, riskText, windowMrkdwn } from './approval-message';

export interface AppHomeData {
  userId: string;
  now: number;
  policy: Policy;
  /** The user's approved and issued grants. */
  grants: AccessRequest[];
  /** The user's own pending requests. */
  pending: AccessRequest[];
  /** Pending requests whose current stage the user may decide (the newest; `approvalsTotal` counts all). */
  approvals: AccessRequest[];
  /** How many wait for the user's decision in all. */
  approvalsTotal?: number;
  /** The outcome of something the user just did here (mrkdwn). */
  notice?: string;
  /** Group ids shown as their handles. */
  groups?: GroupLabels;
}

/** A Home tab holds at most 100 blocks; each list shows this many items and counts the rest. */
export const HOME_LIST_LIMIT = 15;

function plain(text: string): types.PlainTextElement {
  return { type: 'plain_text', text, emoji: true };
}

function mrkdwnSection(text: string, blockId?: string): types.SectionBlock {
  return { type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text: truncate(text, 3000) } };
}

function header(text: string): types.HeaderBlock {
  return { type: 'header', text: plain(text) };
}

function more(count: number, shown: number, where: string): types.KnownBlock[] {
  return count > shown ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${count - shown} more: ${where}` }] }] : [];
}

/**
 * What an approver needs to decide, the same facts as the approval message: risk first, who, what
 * the certificate carries and allows, the window, an extension's parent, history, why, which stage.
 */
export function requestSummaryText(request: AccessRequest, policy: Policy, now: number = request.updatedAt, groups?: GroupLabels): string {
  const facts = approvalFacts(request, policy.resources.get(request.resource), now);
  const lines: string[] = [];
  const risk = riskText(facts);
  if (risk) lines.push(risk);
  lines.push(
    `<@${request.requester.id}> asks for *${escapeText(request.resource)}* · \`${request.id}\``,
    certificateMrkdwn(facts),
    `Window: ${windowMrkdwn(facts)}`,
  );
  const extension = extensionMrkdwn(facts);
  if (extension) lines.push(extension);
  const history = recentGrantsText(facts);
  if (history) lines.push(`History: ${escapeText(history)}`);
  if (request.ticket) lines.push(`Ticket: ${escapeText(request.ticket)}`);
  lines.push(`>${escapeText(truncate(request.reason || '(no reason given)', 500)).replace(/\n/g, '\n>')}`);
  lines.push(`Stage: ${stageSummary(request, policy, groups)} · requested ${slackTime(request.createdAt)}`);
  return lines.join('\n');
}

/** The summary and Approve / Deny buttons of one request waiting for the reader's decision. */
export function approvalItemBlocks(request: AccessRequest, policy: Policy, blockPrefix: string, now?: number, groups?: GroupLabels): types.KnownBlock[] {
  return [
    mrkdwnSection(requestSummaryText(request, policy, now, groups), `${blockPrefix}.summary.${request.id}`),
    {
      type: 'actions',
      block_id: `${blockPrefix}.decide.${request.id}`,
      elements: [
        { type: 'button', action_id: ACTION_IDS.approve, text: plain('Approve'), style: 'primary', value: request.id },
        { type: 'button', action_id: ACTION_IDS.deny, text: plain('Deny'), style: 'danger', value: request.id },
      ],
    },
  ];
}

function grantBlock(grant: AccessRequest, now: number): types.SectionBlock {
  const ends = grant.expiresAt;
  const when = ends !== undefined ? `${timeLeft(ends - now)} left, until ${slackTime(ends)}` : 'no end time';
  const status = grant.state === 'approved' ? 'approved, certificate on its way' : 'active';
  return {
    ...mrkdwnSection(`*${escapeText(grant.resource)}* · ${status} · ${when}\n\`${grant.id}\``, `home.grant.${grant.id}`),
    accessory: {
      type: 'button',
      action_id: ACTION_IDS.revoke,
      text: plain('Revoke'),
      style: 'danger',
      value: grant.id,
      confirm: {
        title: plain('Revoke this access?'),
        text: { type: 'mrkdwn', text: `Your certificate for *${escapeText(grant.resource)}* stops being accepted at once.` },
        confirm: plain('Revoke'),
        deny: plain('Keep it'),
        style: 'danger',
      },
    },
  };
}

function pendingBlock(request: AccessRequest, policy: Policy, groups?: GroupLabels): types.SectionBlock {
  return {
    ...mrkdwnSection(
      `*${escapeText(request.resource)}* for ${formatDuration(request.grantedMs)} · waiting for ${stageSummary(request, policy, groups)}\n\`${request.id}\` · requested ${slackTime(request.createdAt)}`,
      `home.pending.${request.id}`,
    ),
    accessory: { type: 'button', action_id: ACTION_IDS.cancel, text: plain('Cancel'), value: request.id },
  };
}

/** The App Home tab: active access with Revoke, own pending requests with Cancel, approvals waiting with Approve / Deny. */
export function appHomeView(data: AppHomeData): types.HomeView {
  const { policy, now } = data;
  const blocks: types.KnownBlock[] = [
    {
      type: 'actions',
      block_id: 'home.top',
      elements: [{ type: 'button', action_id: ACTION_IDS.openRequest, text: plain('Request access'), style: 'primary' }],
    },
  ];
  if (data.notice) blocks.push(mrkdwnSection(data.notice, 'home.notice'));

  blocks.push(header('Your active access'));
  if (data.grants.length === 0) blocks.push(mrkdwnSection('_None right now._'));
  for (const grant of data.grants.slice(0, HOME_LIST_LIMIT)) blocks.push(grantBlock(grant, now));
  blocks.push(...more(data.grants.length, HOME_LIST_LIMIT, '`/access list`'));

  blocks.push({ type: 'divider' }, header('Your pending requests'));
  if (data.pending.length === 0) blocks.push(mrkdwnSection('_None._ Use *Request access* above or `/access`.'));
  for (const request of data.pending.slice(0, HOME_LIST_LIMIT)) blocks.push(pendingBlock(request, policy, data.groups));
  blocks.push(...more(data.pending.length, HOME_LIST_LIMIT, '`/access list`'));

  blocks.push({ type: 'divider' }, header('Waiting for your approval'));
  if (data.approvals.length === 0) blocks.push(mrkdwnSection('_Nothing waiting for you._'));
  const shown = data.approvals.slice(0, HOME_LIST_LIMIT);
  for (const request of shown) blocks.push(...approvalItemBlocks(request, policy, 'home', now, data.groups));
  const total = Math.max(data.approvalsTotal ?? 0, data.approvals.length);
  if (total > shown.length)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Showing ${shown.length} of ${total} waiting for you · \`/access pending\` pages through them all (\`/access pending 2\`…)` }],
    });

  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Updated ${slackTime(now)} · \`/access help\` lists every command` }] });
  return { type: 'home', blocks };
}
