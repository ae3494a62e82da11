import type { AccessRequest, RequesterNotice } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Notifier } from '../requests/ports';

/**
 * The notifier of a process with Jira on: every message effect of a request on a Jira workflow also
 * enqueues a follow-up of its issue (created when its first stage starts, then a comment per step
 * and the status the request reaches), after the Slack side ran so the issue can link the Slack
 * message. Enqueueing is all that happens here: Jira itself is called by the follow queue.
 */
export class JiraFollowingNotifier implements Notifier {
  constructor(
    private readonly inner: Notifier,
    private readonly follow: (request: AccessRequest, kind?: 'follow' | 'remind') => Promise<void>,
    private readonly approvesInJira: (request: AccessRequest) => boolean,
    private readonly logger: Logger,
    /** The request as stored once its issue is recorded, or as it is after a short wait (Jira slow or down). */
    private readonly withIssue?: (request: AccessRequest) => Promise<AccessRequest>,
  ) {}

  private async then(request: AccessRequest, run: () => Promise<void>, kind: 'follow' | 'remind' = 'follow'): Promise<void> {
    let failure: unknown;
    try {
      await run();
    } catch (err) {
      failure = err;
    }
    if (this.approvesInJira(request)) {
      try {
        await this.follow(request, kind);
      } catch (err) {
        this.logger.error({ err, requestId: request.id }, 'could not enqueue the Jira follow-up');
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  approvers(request: AccessRequest, stage: number, reason: 'new' | 'escalated' | 'reminder'): Promise<void> {
    if (reason === 'reminder') return this.then(request, () => this.inner.approvers(request, stage, reason), 'remind');
    return this.then(request, () => this.inner.approvers(request, stage, reason));
  }

  updateApprovalMessages(request: AccessRequest): Promise<void> {
    return this.then(request, () => this.inner.updateApprovalMessages(request));
  }

  async requester(request: AccessRequest, notice: RequesterNotice): Promise<void> {
    // The "waiting for approval" DM goes out as the issue is being created: it waits a moment for
    // the key, so the requester's first message links the issue too. In the background, so a slow
    // Jira never holds up the answer to the person who just asked.
    if (notice === 'pending' && this.withIssue && this.approvesInJira(request) && !request.jiraIssue) {
      const withIssue = this.withIssue;
      void withIssue(request)
        .catch(() => request)
        .then((latest) => this.inner.requester(latest, notice))
        .catch((err: unknown) => this.logger.error({ err, requestId: request.id }, 'the requester\'s waiting-for-approval DM failed'));
      return;
    }
    if (notice === 'pending' || notice === 'expiring') return this.inner.requester(request, notice);
    return this.then(request, () => this.inner.requester(request, notice));
  }

  breakGlass(request: AccessRequest): Promise<void> {
    return this.inner.breakGlass(request);
  }

  breakGlassReview(request: AccessRequest, phase: 'opened' | 'reminder' | 'closed', n?: number): Promise<void> {
    return this.inner.breakGlassReview(request, phase, n);
  }

  direct(userId: string, text: string): Promise<void> {
    return this.inner.direct(userId, text);
  }
}
