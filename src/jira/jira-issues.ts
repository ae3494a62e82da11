import type { Policy, Workflow } from '../config/policy';
import { describeApprovers, JIRA_ACTOR_PREFIX } from '../engine/people';
import { doc, paragraph } from './jira-document';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Directory, OnCall } from '../requests/ports';
import type { RequestService } from '../requests/request-service';
import { JiraApiError } from './errors/jira-api-error';
import { JiraCreateUnconfirmedError } from './errors/jira-create-unconfirmed-error';
import { REQUEST_PROPERTY, type JiraClient } from './jira-client';
import type { JiraIssueState } from './jira-issue-state';
import { BASE_LABEL, followUpComments, issueDescription, issueSummary, requestLabel, targetStatus } from './jira-issue-text';
import type { JiraIssue } from './jira-schemas';

/** How long Jira Cloud's search may miss an issue after it was created: no second create before then. */
export const DEFAULT_INDEX_LAG_MS = 60_000;

export interface JiraIssuesDeps {
  client: JiraClient;
  state: JiraIssueState;
  service: Pick<RequestService, 'get' | 'recordJiraIssue'>;
  policy: () => Policy;
  directory: Directory;
  oncall: OnCall;
  /** A link to the request's approval message in Slack, when there is one. */
  slackLink?: (requestId: string) => Promise<string | undefined>;
  logger: Logger;
  clock?: () => number;
  indexLagMs?: number;
}

/** The request id carried by an issue: its entity property (as access-bot set it), else its label. */
export function requestIdOf(issue: JiraIssue): string | undefined {
  const property = issue.properties?.[REQUEST_PROPERTY] as { requestId?: unknown } | undefined;
  if (typeof property?.requestId === 'string' && /^ar-[a-z0-9]{1,40}$/.test(property.requestId)) return property.requestId;
  const label = (issue.fields?.labels ?? []).find((l) => l.startsWith(`${BASE_LABEL}-ar-`));
  const id = label?.slice(BASE_LABEL.length + 1);
  return id && /^ar-[a-z0-9]{1,40}$/.test(id) ? id : undefined;
}

/**
 * One Jira issue per request, and the issue following the request: created when a stage of a
 * workflow approving in Jira starts, never twice (looked up by label before every create, and no
 * second create while an unanswered one may still show up in Jira's lagging search), then a comment
 * per later step and a move to the approved, denied or expired status as the request gets there,
 * wherever it was decided. Every step is idempotent; the follow queue retries it with backoff.
 */
export class JiraIssues {
  private readonly clock: () => number;
  private readonly indexLagMs: number;

  constructor(private readonly deps: JiraIssuesDeps) {
    this.clock = deps.clock ?? Date.now;
    this.indexLagMs = deps.indexLagMs ?? DEFAULT_INDEX_LAG_MS;
  }

  private workflowOf(request: AccessRequest): Workflow | undefined {
    const workflow = this.deps.policy().workflows.get(request.workflow);
    return workflow?.approval.jira ? workflow : undefined;
  }

  /** The request's issue: known, found by its label, or (while pending) created now. Undefined for workflows not approving in Jira. */
  async ensureIssue(request: AccessRequest): Promise<{ key: string; id: string } | undefined> {
    const workflow = this.workflowOf(request);
    const jira = workflow?.approval.jira;
    if (!workflow || !jira) return undefined;
    const known = await this.deps.state.issue(request.id);
    if (known) {
      if (!request.jiraIssue) await this.deps.service.recordJiraIssue(request.id, { ...known, url: this.deps.client.browseUrl(known.key) });
      return known;
    }
    const sentAt = await this.deps.state.createSentAt(request.id);
    const found = await this.find(request.id, jira.project);
    if (found) {
      await this.remember(request, found, sentAt !== undefined);
      return found;
    }
    if (request.state !== 'pending') return undefined;
    if (sentAt !== undefined && this.clock() - sentAt < this.indexLagMs) throw new JiraCreateUnconfirmedError(request.id);

    const resource = this.deps.policy().resources.get(request.resource);
    const [oncall, slackLink] = await Promise.all([this.oncallText(resource?.pagerduty_service), this.deps.slackLink?.(request.id).catch(() => undefined)]);
    // Recorded before the call: if the answer is lost (a timeout after Jira made the issue), the
    // next attempt knows a create may have happened and waits for the search to show it.
    await this.deps.state.markCreateSent(request.id, this.clock());
    const created = await this.deps.client.createIssue({
      project: jira.project,
      issueType: jira.issue_type,
      summary: issueSummary(request),
      description: issueDescription(
        request,
        resource,
        workflow,
        { jiraUrl: this.deps.client.url, ...(oncall ? { oncall } : {}), ...(slackLink ? { slackLink } : {}) },
        this.clock(),
      ),
      labels: [BASE_LABEL, requestLabel(request.id)],
      property: { requestId: request.id, resource: request.resource, requester: request.requester.id },
    });
    await this.remember(request, created, false);
    this.deps.logger.info({ requestId: request.id, issue: created.key }, 'Jira issue created');
    return created;
  }

  private async remember(request: AccessRequest, issue: { key: string; id: string }, afterLostAnswer: boolean): Promise<void> {
    await this.deps.state.setIssue(request.id, issue);
    await this.deps.service.recordJiraIssue(request.id, { ...issue, url: this.deps.client.browseUrl(issue.key), ...(afterLostAnswer ? { found: true } : {}) });
  }

  /** The request's issue by its label, checked against the entity property (a label anyone can type). Oldest wins. */
  async find(requestId: string, project: string): Promise<{ key: string; id: string } | undefined> {
    const issues = await this.deps.client.search(`project = "${project}" AND labels = "${requestLabel(requestId)}" ORDER BY created ASC`);
    const ours = issues.filter((i) => requestIdOf(i) === requestId && (i.properties?.[REQUEST_PROPERTY] as { requestId?: unknown } | undefined)?.requestId === requestId);
    const first = ours.sort((a, b) => Number(a.id) - Number(b.id))[0];
    return first ? { key: first.key, id: first.id } : undefined;
  }

  /**
   * Brings the issue in line with the request as stored now: creates it if due, posts each
   * follow-up comment not posted yet, and moves it to the status the request's state calls for.
   */
  async follow(requestId: string): Promise<void> {
    const request = await this.deps.service.get(requestId);
    if (!request) return;
    const workflow = this.workflowOf(request);
    if (!workflow) return;
    const issue = await this.ensureIssue(request);
    if (!issue) return;
    const state = this.deps.state;
    for (const { step, body } of await followUpComments(request, workflow, (id) => this.nameOf(id))) {
      if (await state.isDone(requestId, step)) continue;
      await this.deps.client.addComment(issue.key, body);
      await state.markDone(requestId, step, this.clock());
    }
    const target = targetStatus(request, workflow);
    if (target && !(await state.isDone(requestId, `moved:${request.state}`))) {
      await this.moveTo(issue.key, target);
      await state.markDone(requestId, `moved:${request.state}`, this.clock());
    }
  }

  /**
   * A stage reminder, on the issue (Jira notifies its watchers): who still has to decide. Posted
   * once per reminder (the request version it came with); nothing once the request moved on.
   */
  async remind(requestId: string, version: number): Promise<void> {
    const request = await this.deps.service.get(requestId);
    const workflow = request ? this.workflowOf(request) : undefined;
    if (!request || !workflow || request.state !== 'pending') return;
    const issue = await this.deps.state.issue(requestId);
    if (!issue || (await this.deps.state.isDone(requestId, `reminder:${version}`))) return;
    const stage = workflow.stages[request.stage];
    const approvals = new Set(request.reviews.filter((r) => r.stage === request.stage && r.decision === 'approve').map((r) => r.by)).size;
    const text = `Reminder: this request is still waiting for stage ${request.stage + 1}${stage ? ` (${stage.name}): ${approvals} of ${stage.approvals} approvals so far, from ${describeApprovers(stage.approvers)}` : ''}.`;
    await this.deps.client.addComment(issue.key, doc(paragraph(text)));
    await this.deps.state.markDone(requestId, `reminder:${version}`, this.clock());
  }

  /** Moves the issue to a status by a transition its workflow offers from where it is now. */
  async moveTo(key: string, status: string): Promise<'moved' | 'already'> {
    const issue = await this.deps.client.issue(key);
    if (issue?.fields?.status?.name.toLowerCase() === status.toLowerCase()) return 'already';
    const transitions = await this.deps.client.transitions(key);
    const transition = transitions.find((t) => t.to.name.toLowerCase() === status.toLowerCase());
    if (!transition)
      throw new JiraApiError(
        `moving ${key} to "${status}"`,
        400,
        `no transition leads there from "${issue?.fields?.status?.name ?? 'its status'}" (offered: ${transitions.map((t) => t.to.name).join(', ') || 'none'})`,
      );
    await this.deps.client.transition(key, transition.id);
    return 'moved';
  }

  private async nameOf(id: string): Promise<string> {
    if (id.startsWith(JIRA_ACTOR_PREFIX)) return `Jira account ${id.slice(JIRA_ACTOR_PREFIX.length)}`;
    if (id.startsWith('cli:')) return `${id.slice(4)} (CLI)`;
    if (id === 'system' || id === 'pagerduty') return 'access-bot';
    try {
      const actor = await this.deps.directory.actor(id);
      return actor.name ? `${actor.name}${actor.email ? ` <${actor.email}>` : ''}` : (actor.email ?? id);
    } catch {
      return id;
    }
  }

  private async oncallText(service: string | undefined): Promise<string | undefined> {
    if (!service || !this.deps.oncall.enabled) return undefined;
    try {
      const context = await this.deps.oncall.context(service);
      const who = context.oncall.map((o) => `level ${o.level}: ${o.name ?? o.email ?? 'unknown'}`).join('; ') || 'nobody on call';
      const incidents = context.incidents.length
        ? `; open incidents: ${context.incidents.map((i) => `#${i.number ?? i.id} ${i.title ?? ''} (${i.status})`.trim()).join(', ')}`
        : '; no open incidents';
      return `${context.serviceName ?? service}: ${who}${incidents}`;
    } catch (err) {
      this.deps.logger.warn({ err, service }, 'on-call context unavailable for the Jira issue');
      return `${service}: on-call unknown (PagerDuty did not answer)`;
    }
  }
}
