import type { Approvers } from '../config/workflow-schema';
import { matchesGroup } from '../engine/people';
import type { Actor } from '../engine/types';
import type { Directory } from './ports';

/**
 * A directory from a fixed list of people: for the CLI (`workflows simulate`, `cert sign`) where
 * identities come from flags, and for installations without Slack. Unknown ids are people with no
 * groups. Emails in approver lists resolve to the listed person with that email.
 */
export class StaticDirectory implements Directory {
  private readonly people = new Map<string, Actor>();

  /** The people come from an operator (CLI flags, a test): their emails count as confirmed unless said otherwise. */
  constructor(people: Actor[] = []) {
    for (const p of people) this.people.set(p.id, { ...p, ...(p.email && p.emailVerified === undefined ? { emailVerified: true } : {}) });
  }

  async actor(userId: string): Promise<Actor> {
    return this.people.get(userId) ?? { id: userId, groups: [] };
  }

  async resolveApprovers(approvers: Approvers): Promise<string[]> {
    const ids = new Set<string>();
    for (const ref of approvers.users ?? []) {
      if (!ref.includes('@')) ids.add(ref);
      else for (const p of this.people.values()) if (p.email?.toLowerCase() === ref.toLowerCase()) ids.add(p.id);
    }
    for (const p of this.people.values()) if ((approvers.slack_groups ?? []).some((g) => matchesGroup(p, g))) ids.add(p.id);
    return [...ids];
  }
}
