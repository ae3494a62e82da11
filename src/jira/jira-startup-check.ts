import type { Policy } from '../config/policy';
import type { Logger } from '../log/logger';
import { JiraAuthError } from './errors/jira-auth-error';
import { JiraSetupError } from './errors/jira-setup-error';
import type { JiraClient } from './jira-client';

export interface JiraCheckResult {
  lines: string[];
  /** Workflows whose project, issue type and statuses all exist. */
  usable: string[];
  unusable: string[];
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * At start: the credentials work (`/myself`; refused credentials stop the start), and for every
 * workflow approving in Jira, its project exists, has its issue type, and that type's workflow has
 * the approved and denied statuses (and the expired one, when set). Says which workflows are usable.
 * Jira not answering does not stop the start: the follow queue and the poll keep trying.
 */
export async function checkJira(client: JiraClient, policy: Policy, logger: Logger): Promise<JiraCheckResult> {
  const result: JiraCheckResult = { lines: [], usable: [], unusable: [] };
  try {
    const me = await client.myself();
    result.lines.push(`jira: signed in as ${me.displayName ?? me.emailAddress ?? me.accountId} (accountId ${me.accountId}); its own moves are never taken as reviews`);
  } catch (err) {
    if (err instanceof JiraAuthError) throw new JiraSetupError([err.message]);
    const reason = err instanceof Error ? err.message : String(err);
    logger.warn({ reason }, 'Jira did not answer the start-up check');
    result.lines.push(`jira: not reachable at start (${reason}); issues are created and decisions read once it answers`);
    return result;
  }
  for (const workflow of policy.workflows.values()) {
    const jira = workflow.approval.jira;
    if (!jira) continue;
    const problems: string[] = [];
    const project = await client.project(jira.project);
    if (!project) problems.push(`project ${jira.project} does not exist (or ${'the access-bot account'} cannot see it)`);
    else {
      const types = (await client.projectStatuses(jira.project)) ?? [];
      const type = types.find((t) => same(t.name, jira.issue_type));
      if (!type) problems.push(`project ${jira.project} has no issue type "${jira.issue_type}" (it has: ${types.map((t) => t.name).join(', ') || 'none'})`);
      else {
        const wanted = [jira.approved_status, jira.denied_status, ...(jira.expired_status ? [jira.expired_status] : [])];
        for (const status of wanted)
          if (!type.statuses.some((s) => same(s.name, status)))
            problems.push(`issue type "${jira.issue_type}" in ${jira.project} has no status "${status}" (it has: ${type.statuses.map((s) => s.name).join(', ')})`);
      }
    }
    if (problems.length === 0) {
      result.usable.push(workflow.name);
      result.lines.push(
        `jira: workflow ${workflow.name} usable: project ${jira.project}, issue type "${jira.issue_type}", statuses "${jira.approved_status}" (approve) and "${jira.denied_status}" (deny)${jira.expired_status ? `, "${jira.expired_status}" (ended)` : ''}`,
      );
    } else {
      result.unusable.push(workflow.name);
      result.lines.push(`jira: workflow ${workflow.name} NOT usable: ${problems.join('; ')}. Its requests cannot be decided in Jira until this is fixed.`);
    }
  }
  return result;
}
