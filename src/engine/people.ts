import type { Approvers, People } from '../config/workflow-schema';
import type { Actor } from './types';

function matchesUser(actor: Actor, ref: string): boolean {
  if (ref.includes('@')) return actor.email !== undefined && actor.email.toLowerCase() === ref.toLowerCase();
  return actor.id === ref;
}

function matchesGroup(actor: Actor, ref: string): boolean {
  const wanted = ref.toLowerCase();
  return actor.groups.some((g) => g.toLowerCase() === wanted);
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

/** Direct membership in an approver set; PagerDuty on-call is resolved by the caller into ids. */
export function isNamedApprover(actor: Actor, approvers: Approvers): boolean {
  return (
    (approvers.users ?? []).some((u) => matchesUser(actor, u)) ||
    (approvers.slack_groups ?? []).some((g) => matchesGroup(actor, g))
  );
}

/** Human summary of an approver set, for messages: "@db-leads, U012ABC, on-call of PXYZ123". */
export function describeApprovers(approvers: Approvers): string {
  const parts = [
    ...(approvers.slack_groups ?? []).map((g) => (/^S[A-Z0-9]+$/.test(g) ? g : `@${g}`)),
    ...(approvers.users ?? []),
    ...(approvers.pagerduty_oncall
      ? [`on-call of ${approvers.pagerduty_oncall.escalation_policy} (level ${approvers.pagerduty_oncall.levels.join(', ')})`]
      : []),
  ];
  return parts.join(', ');
}
