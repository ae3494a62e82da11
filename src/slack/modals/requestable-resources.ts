import type { Policy, Resource, Workflow } from '../../config/policy';
import { mayRequest } from '../../engine/simulate';
import type { Actor } from '../../engine/types';

export interface ResourceGroup {
  workflow: Workflow;
  resources: Resource[];
}

/** Slack's limit for the options of one select menu; past it the picker loads options as you type. */
export const STATIC_SELECT_LIMIT = 100;

/** The resources this person may request (the workflow's `requesters`), grouped by workflow, in name order. */
export function requestableResources(policy: Policy, actor: Actor): ResourceGroup[] {
  const byWorkflow = new Map<string, Resource[]>();
  for (const resource of policy.resources.values()) {
    if (!mayRequest(policy, actor, resource.name)) continue;
    const list = byWorkflow.get(resource.workflow) ?? [];
    list.push(resource);
    byWorkflow.set(resource.workflow, list);
  }
  const groups: ResourceGroup[] = [];
  for (const [name, resources] of byWorkflow) {
    const workflow = policy.workflows.get(name);
    if (workflow) groups.push({ workflow, resources: resources.sort((a, b) => a.name.localeCompare(b.name)) });
  }
  return groups.sort((a, b) => a.workflow.name.localeCompare(b.workflow.name));
}

export function countResources(groups: ResourceGroup[]): number {
  return groups.reduce((n, g) => n + g.resources.length, 0);
}

/** Groups keeping only resources whose name or description contains `query`, at most `limit` resources in all. */
export function filterResources(groups: ResourceGroup[], query: string, limit = STATIC_SELECT_LIMIT): ResourceGroup[] {
  const q = query.trim().toLowerCase();
  const out: ResourceGroup[] = [];
  let left = limit;
  for (const group of groups) {
    if (left <= 0) break;
    const matching = group.resources
      .filter((r) => q === '' || r.name.includes(q) || r.description.toLowerCase().includes(q))
      .slice(0, left);
    if (matching.length > 0) {
      out.push({ workflow: group.workflow, resources: matching });
      left -= matching.length;
    }
  }
  return out;
}
