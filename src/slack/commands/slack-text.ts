import { formatDuration } from '../../config/duration';
import type { Policy } from '../../config/policy';
import type { Approvers } from '../../config/workflow-schema';
import { describeState } from '../../engine/request-machine';
import type { AccessRequest } from '../../engine/types';
import type { Logger } from '../../log/logger';
import type { Directory } from '../../requests/ports';
import { escapeText, mention, slackTime, truncate } from '../blocks/format';

/**
 * Text pieces for the replies, modals and App Home of the interactive side, on top of the shared
 * formatters (blocks/format.ts). Anything a person typed goes through escapeText() before it is put
 * in mrkdwn, so a reason cannot ping @channel.
 */

/** `45m`, `1h5m`: time left in whole minutes, rounded up; under a minute says so. */
export function timeLeft(ms: number): string {
  if (ms <= 0) return 'ended';
  if (ms < 60_000) return 'less than a minute';
  return formatDuration(Math.ceil(ms / 60_000) * 60_000);
}

/** User group id → handle, from the directory: group ids are shown as `@handle`. */
export type GroupLabels = ReadonlyMap<string, string>;

/** The directory's group handles; none (ids shown as they are) when it has none or cannot answer. */
export async function groupLabelsOf(directory: Directory, logger?: Logger): Promise<GroupLabels> {
  if (!directory.groupHandles) return new Map();
  try {
    return await directory.groupHandles();
  } catch (err) {
    logger?.warn({ err }, 'could not read user group handles; showing group ids');
    return new Map();
  }
}

/** `@security-team` for a group id the directory knows, `@leads` for a handle, the id itself otherwise. */
export function groupText(ref: string, groups?: GroupLabels): string {
  if (!/^S[A-Z0-9]+$/.test(ref)) return `@${escapeText(ref)}`;
  const handle = groups?.get(ref);
  return handle ? `@${escapeText(handle)}` : escapeText(ref);
}

/** An approver set for people to read: `@leads, @Bob, on-call of PABC123`. Mentions of users render as names and notify nobody here. */
export function approversText(approvers: Approvers, groups?: GroupLabels): string {
  const parts = [
    ...(approvers.slack_groups ?? []).map((g) => groupText(g, groups)),
    ...(approvers.users ?? []).map((u) => (u.includes('@') ? escapeText(u) : mention(u))),
    ...(approvers.pagerduty_oncall ? [`the on-call of ${escapeText(approvers.pagerduty_oncall.escalation_policy)}`] : []),
  ];
  return parts.join(', ') || 'nobody';
}

/** Which stage a pending request waits on, and who decides it: `leads (1 of 2 approvals, @db-leads)`. */
export function stageSummary(request: AccessRequest, policy: Policy, groups?: GroupLabels): string {
  const workflow = policy.workflows.get(request.workflow);
  const stage = workflow?.stages[request.stage];
  if (!workflow || !stage) return `stage ${request.stage + 1}`;
  const approvals = new Set(request.reviews.filter((r) => r.stage === request.stage && r.decision === 'approve').map((r) => r.by)).size;
  const count = stage.approvals > 1 ? `${approvals} of ${stage.approvals} approvals, ` : '';
  return `${escapeText(stage.name)} (${count}${approversText(stage.approvers, groups)})`;
}

/** One mrkdwn line about a request, for lists: `ar-… · *prod-db* · 1h · pending, stage leads (@db-leads)`. */
export function requestLine(request: AccessRequest, policy: Policy, now: number, groups?: GroupLabels): string {
  const head = `\`${request.id}\` · *${escapeText(request.resource)}* · ${formatDuration(request.grantedMs)}`;
  switch (request.state) {
    case 'pending':
      return `${head} · waiting for ${stageSummary(request, policy, groups)}`;
    case 'approved':
    case 'issued':
      return request.expiresAt !== undefined
        ? `${head} · ${request.state === 'approved' ? 'approved, certificate on its way' : 'active'} · ${timeLeft(request.expiresAt - now)} left (until ${slackTime(request.expiresAt)})`
        : `${head} · ${request.state}`;
    default:
      return `${head} · ${describeState(request.state)}${request.closedAt !== undefined ? ` ${slackTime(request.closedAt)}` : ''}${
        request.closeReason ? `: ${escapeText(truncate(request.closeReason, 200))}` : ''
      }`;
  }
}
