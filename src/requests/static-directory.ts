import type { Approvers } from '../config/workflow-schema';
import type { Actor } from '../engine/types';
import type { Directory } from './ports';

/**
 * A directory from a fixed list of people: for the CLI (`workflows simulate`, `cert sign`) where
 * identities come from flags, and for installations without Slack. Unknown ids are people with no
 * groups. Emails in approver lists resolve to the listed person with that email.
 */
export class StaticDirectory implements Directory {
  private readonly people = new Map<string, Actor>();

  constructor(people: Actor[] = []) {
    for (const p of people) this.people.set(p.id, p);
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
    const groups = new Set((approvers.slack_groups ?? []).map((g) => g.toLowerCase()));
    for (const p of this.people.values()) if (p.groups.some((g) => groups.has(g.toLowerCase()))) ids.add(p.id);
    return [...ids];
  }
}
