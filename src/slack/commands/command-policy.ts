import { formatDuration } from '../../config/duration';
import type { Policy } from '../../config/policy';
import type { CommandPolicy } from './access-command-parser';

/** The parser's view of the policy: resource names, each resource's ticket pattern and maximum. */
export function commandPolicy(policy: Policy): CommandPolicy {
  const workflowOf = (name: string) => {
    const resource = policy.resources.get(name);
    return resource ? policy.workflows.get(resource.workflow) : undefined;
  };
  return {
    isResource: (name) => policy.resources.has(name),
    resourceNames: () => [...policy.resources.keys()],
    ticketPattern: (name) => {
      const pattern = workflowOf(name)?.ticket?.pattern;
      return pattern !== undefined ? new RegExp(pattern) : undefined;
    },
    maxDuration: (name) => {
      const resource = policy.resources.get(name);
      return resource ? formatDuration(resource.duration.max) : undefined;
    },
  };
}

/**
 * A ticket reference to show in an example: a word of the workflow's hint that its pattern
 * accepts ("A Jira key such as OPS-1234" gives OPS-1234), else a placeholder.
 */
export function ticketExample(policy: Policy, resourceName: string): string {
  const resource = policy.resources.get(resourceName);
  const spec = resource ? policy.workflows.get(resource.workflow)?.ticket : undefined;
  if (!spec?.pattern) return '<ticket>';
  const pattern = new RegExp(spec.pattern);
  const word = (spec.hint ?? '')
    .split(/\s+/)
    .map((w) => w.replace(/^[("'[]+/, '').replace(/[)"'\].,;:!?]+$/, ''))
    .find((w) => w !== '' && pattern.test(w));
  return word ?? '<ticket>';
}

/**
 * What people are told a pattern wants: the workflow's hint, in words. A regular expression means
 * nothing to most requesters, so it is never shown; without a hint they are told whom to ask
 * (and `workflows check` warns the author).
 */
export function patternHint(spec: { hint?: string; pattern?: string } | undefined): string {
  if (!spec) return '';
  if (spec.hint) return spec.hint;
  return spec.pattern ? 'It must follow a format this workflow sets; an access-bot admin can tell you which.' : '';
}
