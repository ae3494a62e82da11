import { verifyAdminAttestation } from '../ca/admin-attestation';
import type { CaMaterial } from '../ca/ca-directory';
import type { Policy } from '../config/policy';
import { verifyGrant, type GrantCheck, type GrantFacts } from '../engine/grant-verification';
import type { AccessRequest, Actor, IncidentFact } from '../engine/types';
import type { Directory, OnCall } from '../requests/ports';
import { JIRA_ACTOR_PREFIX } from '../engine/people';

export interface GrantVerifierDeps {
  policy: () => Policy;
  directory: Directory;
  oncall: OnCall;
  ca: () => CaMaterial;
  /** The stored record of the grant an extension extends. */
  request: (id: string) => Promise<AccessRequest | undefined>;
  clock?: () => number;
}

/**
 * Gathers, from the worker's own sources, what `verifyGrant` needs: the requester and each
 * approver as the directory sees them now, on-call approvers resolved now, PagerDuty's on-call for
 * break-glass, the CA-derived admin attestation. Nothing is taken from the record but its claims.
 * Lookups that fail (Slack or PagerDuty down) throw, so the job retries rather than refusing.
 */
export class GrantVerifier {
  private readonly clock: () => number;

  constructor(private readonly deps: GrantVerifierDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  async verify(request: AccessRequest): Promise<GrantCheck> {
    const policy = this.deps.policy();
    const { directory } = this.deps;
    const workflow = policy.workflows.get(request.workflow);
    const requester: Actor = request.adminIssued ? { id: request.requester.id, groups: [] } : await directory.actor(request.requester.id);

    const reviewers = new Map<string, Actor>();
    const resolvedApprovers: string[][] = [];
    if (!request.adminIssued && !request.breakGlass && !request.autoApproved && workflow) {
      const approvals = request.reviews.filter((r) => r.decision === 'approve');
      const ids = [...new Set(approvals.map((r) => r.by))];
      // A Jira account with no Slack user behind it (`jira:<accountId>`) is no one the directory
      // knows: it counts only where the workflow lists that account in `jira_account_ids`.
      const slackIds = ids.filter((id) => !id.startsWith(JIRA_ACTOR_PREFIX));
      for (const actor of await Promise.all(slackIds.map((id) => directory.actor(id)))) reviewers.set(actor.id, actor);
      for (const id of ids) if (id.startsWith(JIRA_ACTOR_PREFIX)) reviewers.set(id, { id, groups: [] });
      for (const r of approvals) {
        const reviewer = reviewers.get(r.by);
        if (r.via === 'jira' && r.jiraAccountId && reviewer && (!r.by.startsWith(JIRA_ACTOR_PREFIX) || r.by === `${JIRA_ACTOR_PREFIX}${r.jiraAccountId}`))
          reviewers.set(r.by, { ...reviewer, jiraAccountId: r.jiraAccountId });
      }
      await Promise.all(
        workflow.stages.map(async (stage, i) => {
          // Named users and groups are checked against each reviewer directly; only an on-call set
          // has to be resolved (it changes with the schedule, so it is resolved now).
          resolvedApprovers[i] = stage.approvers.pagerduty_oncall ? await directory.resolveApprovers({ pagerduty_oncall: stage.approvers.pagerduty_oncall }) : [];
        }),
      );
    }

    let oncall: GrantFacts['oncall'];
    let incident: IncidentFact | null | undefined;
    const bg = workflow?.break_glass;
    if (request.breakGlass && bg && this.deps.oncall.enabled) {
      if (request.breakGlass.onIncident) {
        // Granted by an incident: the incident as PagerDuty tells it now, not as the record says.
        incident = request.breakGlass.incidentId ? ((await this.deps.oncall.incident(request.breakGlass.incidentId)) ?? null) : null;
      } else {
        const [entries, activeIncidents] = await Promise.all([
          this.deps.oncall.oncallFor(requester, bg.pagerduty_services),
          this.deps.oncall.activeIncidents(bg.pagerduty_services),
        ]);
        oncall = { services: [...new Set(entries.map((e) => e.service))], entries, activeIncidents };
      }
    }

    const parent = request.extension ? await this.deps.request(request.extension.of) : undefined;
    return verifyGrant(request, {
      policy,
      now: this.clock(),
      requester,
      reviewers,
      resolvedApprovers,
      ...(parent ? { parent } : {}),
      adminAttested: request.adminIssued ? verifyAdminAttestation(request, this.deps.ca()) : false,
      ...(oncall ? { oncall } : {}),
      ...(incident !== undefined ? { incident } : {}),
    });
  }
}
