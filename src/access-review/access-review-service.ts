import type { Redis } from 'ioredis';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { AuditEvent } from '../audit/audit-event';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { AccessReview, Policy } from '../config/policy';
import { isInPeople } from '../engine/people';
import type { Channel } from '../engine/types';
import type { Logger } from '../log/logger';
import { accessTotals, grantsIn } from '../reports/access-review-report';
import { AuditAnalysis } from '../reports/audit-analysis';
import type { ReportPeriod } from '../reports/report-period';
import type { Directory } from '../requests/ports';
import type { RedisKeys } from '../store/redis-keys';
import { campaignId, type ReviewAnswer, type ReviewCampaign, type ReviewItem } from './access-review-campaign';
import { PendingChangeStore, type PendingChange } from './pending-change-store';
import { lastCompletePeriod } from './review-period';
import type { ReviewPoster } from './review-poster';

export interface AccessReviewDeps {
  redis: Redis;
  keys: RedisKeys;
  audit: RedisAuditLog;
  policy: () => Policy;
  directory: Directory;
  poster: () => ReviewPoster | undefined;
  /** The audit log to read who held what: the archive when there is one (Redis may keep less than a period). */
  events: () => AsyncIterable<AuditEvent>;
  logger: Logger;
  clock?: () => number;
}

export type AnswerResult =
  | { status: 'ok'; campaign: ReviewCampaign; item: ReviewItem; answer: ReviewAnswer; change?: PendingChange }
  | { status: 'noop'; campaign: ReviewCampaign; item: ReviewItem; answer: ReviewAnswer; message: string }
  | { status: 'refused'; code: string; message: string; campaign?: ReviewCampaign };

const CAMPAIGN_FIELD = 'c';
const answerField = (n: number) => `a:${n}`;

/**
 * Periodic access reviews: for each `reviews:` entry, once per period, every reviewer gets the
 * people who held each resource, with Keep and Remove. Each answer is recorded once (the first
 * reviewer to answer an item decides it), audited, and a Remove becomes a pending change for the
 * admins; access-bot never edits the workflow files itself.
 */
export class AccessReviewService {
  readonly changes: PendingChangeStore;
  private readonly clock: () => number;

  constructor(private readonly deps: AccessReviewDeps) {
    this.clock = deps.clock ?? Date.now;
    this.changes = new PendingChangeStore(deps.redis, deps.keys, deps.audit, this.clock);
  }

  /** Starts every review whose last complete period has no campaign yet. Safe on every replica. */
  async startDue(now = this.clock()): Promise<ReviewCampaign[]> {
    const started: ReviewCampaign[] = [];
    for (const review of this.deps.policy().reviews?.values() ?? []) {
      const campaign = await this.start(review, lastCompletePeriod(review.cadence, now));
      if (campaign) started.push(campaign);
    }
    return started;
  }

  /** Creates the campaign (once across replicas), audits it and sends it to every reviewer. */
  async start(review: AccessReview, period: ReportPeriod): Promise<ReviewCampaign | undefined> {
    const now = this.clock();
    const id = campaignId(review.name, period);
    const key = this.deps.keys.accessReview(id);
    if ((await this.deps.redis.hexists(key, CAMPAIGN_FIELD)) === 1) return undefined;
    const poster = this.deps.poster();
    if (!poster) {
      this.deps.logger.warn({ review: review.name }, 'access review due, but Slack is off: nobody to send it to');
      return undefined;
    }
    const campaign: ReviewCampaign = {
      id,
      review: review.name,
      ...(review.description ? { description: review.description } : {}),
      period,
      createdAt: now,
      reviewers: await this.deps.directory.resolveApprovers(review.reviewers),
      items: await this.holders(period, review.resources),
    };
    if ((await this.deps.redis.hsetnx(key, CAMPAIGN_FIELD, JSON.stringify(campaign))) === 0) return undefined;
    await this.deps.audit.append(
      [
        {
          type: A.accessReviewStarted,
          actor: { id: 'system', via: 'system' },
          data: {
            campaign: id,
            review: review.name,
            period: period.label,
            since: period.since,
            until: period.until,
            reviewers: campaign.reviewers,
            items: campaign.items.length,
            resources: [...new Set(campaign.items.map((i) => i.resource))],
          },
        },
      ],
      now,
    );
    for (const reviewer of campaign.reviewers) {
      try {
        await poster.sendReview(reviewer, campaign);
      } catch (err) {
        this.deps.logger.error({ err, reviewer, campaign: id }, 'could not send an access review');
      }
    }
    return campaign;
  }

  private async holders(period: ReportPeriod, resources?: string[]): Promise<ReviewItem[]> {
    const analysis = new AuditAnalysis(period);
    for await (const e of this.deps.events()) analysis.add(e);
    const emails = new Map<string, string>();
    for (const r of analysis.requests.values()) if (r.requester?.email) emails.set(r.requester.id, r.requester.email);
    const wanted = resources ? new Set(resources) : undefined;
    return accessTotals(grantsIn(analysis, period), period)
      .filter((t) => !wanted || wanted.has(t.resource))
      .sort((a, b) => a.resource.localeCompare(b.resource) || a.person.localeCompare(b.person))
      .map((t, n) => ({ n, user: t.person, ...(emails.has(t.person) ? { email: emails.get(t.person)! } : {}), resource: t.resource, grants: t.grants, hours: t.hours, lastGrantAt: t.lastGrantAt }));
  }

  async get(id: string): Promise<{ campaign: ReviewCampaign; answers: Map<number, ReviewAnswer> } | undefined> {
    const all = await this.deps.redis.hgetall(this.deps.keys.accessReview(id));
    if (!all[CAMPAIGN_FIELD]) return undefined;
    const answers = new Map<number, ReviewAnswer>();
    for (const [field, json] of Object.entries(all)) if (field.startsWith('a:')) answers.set(Number(field.slice(2)), JSON.parse(json) as ReviewAnswer);
    return { campaign: JSON.parse(all[CAMPAIGN_FIELD]) as ReviewCampaign, answers };
  }

  async answer(id: string, n: number, decision: 'keep' | 'remove', actorId: string, via: Channel): Promise<AnswerResult> {
    const now = this.clock();
    const found = await this.get(id);
    const refuse = async (code: string, message: string, campaign?: ReviewCampaign, item?: ReviewItem): Promise<AnswerResult> => {
      await this.deps.audit.append(
        [{ type: A.accessReviewAnswerRefused, actor: { id: actorId, via }, data: { code, message, campaign: id, decision, ...(item ? { user: item.user, resource: item.resource } : {}) } }],
        now,
      );
      return { status: 'refused', code, message, ...(campaign ? { campaign } : {}) };
    };
    if (!found) return refuse('REVIEW_NOT_FOUND', `There is no access review ${id}.`);
    const { campaign } = found;
    const item = campaign.items[n];
    if (!item) return refuse('REVIEW_NOT_FOUND', `Access review ${id} has no item ${n}.`, campaign);
    if (!campaign.reviewers.includes(actorId)) return refuse('NOT_REVIEWER', `You are not a reviewer of ${campaign.review}.`, campaign, item);
    if (item.user === actorId) return refuse('SELF_APPROVAL', 'You cannot review your own access; another reviewer decides it.', campaign, item);

    const answer: ReviewAnswer = { decision, by: actorId, at: now };
    const key = this.deps.keys.accessReview(id);
    let change: PendingChange | undefined;
    if (decision === 'remove') {
      change = await this.pendingChange(campaign, item, actorId, now);
      answer.change = change.id;
    }
    if ((await this.deps.redis.hsetnx(key, answerField(n), JSON.stringify(answer))) === 0) {
      const existing = JSON.parse((await this.deps.redis.hget(key, answerField(n))) ?? '{}') as ReviewAnswer;
      const what = existing.decision === 'keep' ? 'kept' : 'marked for removal';
      if (existing.by === actorId) return { status: 'noop', campaign, item, answer: existing, message: `You already ${what} this.` };
      return refuse('ALREADY_ANSWERED', `<@${existing.by}> already ${what} this access.`, campaign, item);
    }
    if (change) await this.changes.add(change);
    await this.deps.audit.append(
      [
        {
          type: A.accessReviewAnswered,
          actor: { id: actorId, via },
          data: { campaign: id, review: campaign.review, period: campaign.period.label, user: item.user, resource: item.resource, decision, ...(change ? { change: change.id } : {}) },
        },
      ],
      now,
    );
    if (change) {
      try {
        await this.deps.poster()?.notifyAdmins(change);
      } catch (err) {
        this.deps.logger.error({ err, change: change.id }, 'could not tell the admins about a pending change');
      }
    }
    return { status: 'ok', campaign, item, answer, ...(change ? { change } : {}) };
  }

  /** Says which mapping in the workflow files lets this person request the resource. */
  private async pendingChange(campaign: ReviewCampaign, item: ReviewItem, by: string, now: number): Promise<PendingChange> {
    const policy = this.deps.policy();
    const resource = policy.resources.get(item.resource);
    const workflow = resource ? policy.workflows.get(resource.workflow) : undefined;
    let instruction: string;
    if (!workflow) instruction = `resource ${item.resource} is no longer in the workflow files: nothing to change`;
    else {
      const actor = await this.deps.directory.actor(item.user);
      const req = workflow.requesters;
      const where = `workflows.${workflow.name}.requesters in ${workflow.source.file}`;
      const byUser = (req.users ?? []).filter((u) => isInPeople(actor, { users: [u] }));
      const byGroup = (req.slack_groups ?? []).filter((g) => isInPeople(actor, { slack_groups: [g] }));
      const parts: string[] = [];
      if (byUser.length) parts.push(`remove ${byUser.join(', ')} from ${where} (users)`);
      if (byGroup.length) parts.push(`take ${item.user} out of Slack group ${byGroup.map((g) => (/^S[A-Z0-9]+$/.test(g) ? g : `@${g}`)).join(', ')}, or the group out of ${where} (slack_groups)`);
      if (req.everyone && !actor.guest) parts.push(`${where} says everyone: narrow it to the people who need ${item.resource}`);
      instruction = parts.length ? parts.join('; ') : `${item.user} is no longer named in ${where}: nothing to change`;
    }
    return {
      id: `chg-${campaign.id}-${item.n}`,
      state: 'open',
      user: item.user,
      ...(item.email ? { userEmail: item.email } : {}),
      resource: item.resource,
      ...(workflow ? { workflow: workflow.name } : {}),
      instruction,
      review: campaign.review,
      campaign: campaign.id,
      period: campaign.period.label,
      requestedBy: by,
      at: now,
    };
  }
}
