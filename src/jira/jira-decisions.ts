import type { Policy } from '../config/policy';
import type { Logger } from '../log/logger';
import type { RequestService, ServiceResult } from '../requests/request-service';
import type { RequestStore } from '../requests/ports';
import type { JiraClient } from './jira-client';
import { doc, adfText, paragraph } from './jira-document';
import type { JiraIssueState } from './jira-issue-state';
import { requestIdOf, type JiraIssues } from './jira-issues';
import type { ChangelogHistory } from './jira-schemas';

export interface JiraDecisionsDeps {
  client: JiraClient;
  issues: JiraIssues;
  state: JiraIssueState;
  store: Pick<RequestStore, 'get'>;
  service: Pick<RequestService, 'reviewInJira'>;
  policy: () => Policy;
  /** The Slack user with this (Jira-shown) email, if any: confirmed and active, as the directory decides. */
  userIdByEmail: (email: string) => Promise<string | undefined>;
  /** The accountId access-bot acts as in Jira (from /myself): its own moves are never reviews. */
  selfAccountId: () => Promise<string | undefined>;
  logger: Logger;
}

export type IssueOutcome =
  | 'not-ours'
  | 'no-request'
  | 'no-decision'
  | 'own-move'
  | 'already-handled'
  | 'inconsistent'
  | ServiceResult['status'];

/**
 * What a Jira issue's status says, as read from the API now (never from a webhook body): the newest
 * status change in the changelog, by whom, becomes a review through the request service with
 * `via: 'jira'`, counted like a click in Slack. Refused moves are explained on the issue and undone;
 * an approval that does not finish its stage is undone too, so the next approver can move it again.
 * Each changelog entry is acted on once across replicas, and the request's compare-and-set makes a
 * second submission of the same review a no-op in any case.
 */
export class JiraDecisions {
  constructor(private readonly deps: JiraDecisionsDeps) {}

  async onIssue(idOrKey: string): Promise<IssueOutcome> {
    const { client, logger } = this.deps;
    const issue = await client.issue(idOrKey);
    if (!issue) return 'not-ours';
    const requestId = requestIdOf(issue);
    if (!requestId) return 'not-ours';
    const request = await this.deps.store.get(requestId);
    if (!request) return 'no-request';
    const known = (await this.deps.state.issue(requestId))?.key ?? request.jiraIssue?.key;
    if (known !== issue.key) {
      logger.warn({ requestId, issue: issue.key, known }, 'a Jira issue names a request that is not its own; ignored');
      return 'not-ours';
    }
    const jira = this.deps.policy().workflows.get(request.workflow)?.approval.jira;
    const status = issue.fields?.status?.name;
    if (!jira || !status) return 'no-decision';
    const decision =
      status.toLowerCase() === jira.approved_status.toLowerCase() ? 'approve' : status.toLowerCase() === jira.denied_status.toLowerCase() ? 'deny' : undefined;
    if (!decision) return 'no-decision';

    const history = (await client.recentHistory(issue.key)).find((h) => h.items.some((i) => i.field === 'status'));
    const change = history?.items.find((i) => i.field === 'status');
    if (!history || !change) return 'inconsistent';
    // The changelog must agree with the status just read; if not, Jira is mid-update: look again later.
    if ((change.toString ?? '').toLowerCase() !== status.toLowerCase()) return 'inconsistent';
    const accountId = history.author?.accountId;
    if (!accountId) return 'inconsistent';
    if (accountId === (await this.deps.selfAccountId())) return 'own-move';
    if (!(await this.deps.state.claimHistory(requestId, history.id))) return 'already-handled';

    try {
      return await this.act(requestId, issue.key, history, accountId, decision, change.fromString ?? undefined);
    } catch (err) {
      await this.deps.state.releaseHistory(requestId, history.id).catch(() => undefined);
      throw err;
    }
  }

  private async act(requestId: string, key: string, history: ChangelogHistory, accountId: string, decision: 'approve' | 'deny', previous: string | undefined): Promise<IssueOutcome> {
    const { client } = this.deps;
    const user = await client.user(accountId);
    const email = user?.emailAddress?.trim();
    const slackUserId = email ? await this.deps.userIdByEmail(email) : undefined;
    const name = user?.displayName ?? history.author?.displayName;
    const comment = decision === 'deny' ? await this.newestCommentBy(key, accountId) : undefined;
    const result = await this.deps.service.reviewInJira(
      requestId,
      { accountId, ...(slackUserId ? { slackUserId } : {}), ...(name ? { name } : {}) },
      decision,
      comment,
    );
    const who = name ?? `account ${accountId}`;
    if (result.status === 'refused') {
      const unmatched = slackUserId
        ? ''
        : ` (${who} could not be matched to a Slack user: ${email ? `no active Slack user has the email ${email}` : 'Jira does not show their email to access-bot'}; list their accountId ${accountId} in the stage's jira_account_ids to let them decide in Jira)`;
      await this.undo(key, previous, `access-bot did not accept this move by ${who}: ${result.message}${unmatched} The request is unchanged.`);
      return 'refused';
    }
    if (result.status === 'noop' && result.request?.state === 'pending') {
      await this.undo(key, previous, `${who}: ${result.message} The request still waits for other approvers, who move this issue again.`);
      return 'noop';
    }
    if (result.status === 'ok' && decision === 'approve' && result.request.state === 'pending') {
      await this.undo(
        key,
        previous,
        `Approval by ${who} counted. The request still waits for more approvals (stage ${result.request.stage + 1}); the next approver moves this issue again.`,
      );
    }
    return result.status;
  }

  /** The newest comment by this account, as plain text: the reason of a deny. */
  private async newestCommentBy(key: string, accountId: string): Promise<string | undefined> {
    const comments = await this.deps.client.recentComments(key);
    const mine = comments.find((c) => c.author?.accountId === accountId);
    const text = adfText(mine?.body).trim();
    return text ? text.slice(0, 1000) : undefined;
  }

  /** Explains on the issue, and moves it back to where it was when its workflow allows. */
  private async undo(key: string, previous: string | undefined, explanation: string): Promise<void> {
    let back = '';
    if (previous) {
      try {
        await this.deps.issues.moveTo(key, previous);
        back = ` The issue was moved back to "${previous}".`;
      } catch (err) {
        this.deps.logger.warn({ err, issue: key, previous }, 'could not move the Jira issue back');
        back = ` The issue could not be moved back to "${previous}" (its workflow offers no such transition); move it back by hand.`;
      }
    }
    await this.deps.client.addComment(key, doc(paragraph(`${explanation}${back}`)));
  }
}
