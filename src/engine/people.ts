import type { Approvers, People } from '../config/workflow-schema';
import type { Actor } from './types';

/**
 * The actor id of a Jira account that maps to no Slack user (its email hidden or unknown to Slack):
 * `jira:<accountId>`. Such an actor can approve only where `jira_account_ids` lists the account.
 */
export const JIRA_ACTOR_PREFIX = 'jira:';

/** An email reference matches only a confirmed email: anyone can type someone else's address into a profile. */
function matchesUser(actor: Actor, ref: string): boolean {
  if (ref.includes('@')) return actor.emailVerified === true && actor.email !== undefined && actor.email.toLowerCase() === ref.toLowerCase();
  return actor.id === ref;
}

/** Slack user group ids: `S` and uppercase letters and digits. Handles are lowercase, so never look like this. */
export const GROUP_ID_PATTERN = /^S[A-Z0-9]{2,}$/;

/**
 * A reference shaped like a group id matches only the group with exactly that id; anything else is
 * a handle and matches only handles (case-insensitive, with or without @). Comparing a reference
 * against ids and handles alike let anyone who may create a user group name one after an admin
 * group's id (`s04t8kq1n2p`) and be taken for its members.
 */
export function matchesGroup(actor: Pick<Actor, 'groups'>, ref: string): boolean {
  if (GROUP_ID_PATTERN.test(ref)) return actor.groups.includes(ref);
  const handle = ref.replace(/^@/, '').toLowerCase();
  return actor.groups.some((g) => !GROUP_ID_PATTERN.test(g) && g.toLowerCase() === handle);
}

/** Whether the actor is among `people` (everyone but guests, listed users, members of listed groups). */
export function isInPeople(actor: Actor, people: People | undefined): boolean {
  if (!people) return false;
  if (people.everyone === true && !actor.guest) return true;
  return (
    (people.users ?? []).some((u) => matchesUser(actor, u)) ||
    (people.slack_groups ?? []).some((g) => matchesGroup(actor, g))
  );
}

/**
 * Direct membership in an approver set; PagerDuty on-call is resolved by the caller into ids. A
 * Jira account listed in `jira_account_ids` matches only the account the Jira adapter read from the
 * issue's changelog (`actor.jiraAccountId`), never a Slack id.
 */
export function isNamedApprover(actor: Actor, approvers: Approvers): boolean {
  return (
    (approvers.users ?? []).some((u) => matchesUser(actor, u)) ||
    (approvers.slack_groups ?? []).some((g) => matchesGroup(actor, g)) ||
    (actor.jiraAccountId !== undefined && (approvers.jira_account_ids ?? []).includes(actor.jiraAccountId))
  );
}

/** Human summary of an approver set, for messages: "@db-leads, U012ABC, on-call of PXYZ123". */
export function describeApprovers(approvers: Approvers): string {
  const parts = [
    ...(approvers.slack_groups ?? []).map((g) => (GROUP_ID_PATTERN.test(g) ? g : `@${g}`)),
    ...(approvers.users ?? []),
    ...(approvers.pagerduty_oncall
      ? [`on-call of ${approvers.pagerduty_oncall.escalation_policy} (level ${approvers.pagerduty_oncall.levels.join(', ')})`]
      : []),
    ...(approvers.jira_account_ids?.length ? [`Jira account${approvers.jira_account_ids.length === 1 ? '' : 's'} ${approvers.jira_account_ids.join(', ')}`] : []),
  ];
  return parts.join(', ');
}
