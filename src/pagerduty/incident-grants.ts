import type { Redis } from 'ioredis';
import type { Policy, Workflow } from '../config/policy';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { endsWithIncident, incidentGrantServices, isOpenIncident } from '../engine/events/incident-grant';
import type { AccessRequest, AuditInput, IncidentFact } from '../engine/types';
import type { Logger } from '../log/logger';
import type { AuditAppender, Directory, Notifier, OnCall, RequestStore } from '../requests/ports';
import type { RequestService } from '../requests/request-service';
import type { RedisKeys } from '../store/redis-keys';
import { reasonOf } from './pagerduty-client';
import { INCIDENT_EVENT_TYPES, type WebhookEvent } from './webhook-event';

export interface IncidentGrantsDeps {
  policy: () => Policy;
  oncall: OnCall;
  service: RequestService;
  store: Pick<RequestStore, 'openRequestFor'> & { listActiveEndingBy(until: number, limit: number): Promise<AccessRequest[]> };
  directory: Directory;
  notifier: Notifier;
  audit: AuditAppender;
  redis: Redis;
  keys: RedisKeys;
  logger: Logger;
  clock?: () => number;
}

/** How long the record of an incident's grants and waiting assignees is kept after its last change. */
const STATE_TTL_S = 14 * 86_400;

/**
 * Access granted by PagerDuty incidents (`break_glass.on_incident`). A webhook event only says which
 * incident to look at: the incident is re-read from the API, and then each assignee who maps (by a
 * Slack-confirmed email) to a Slack user gets a grant for every resource of each workflow that names
 * the incident's service. An assignee without a key is told how to add one, and the grant follows
 * when they do while the incident is open. When the incident resolves its grants end (revoked, or
 * shortened to the workflow's grace). Grants are found in the request store and waiting assignees
 * in Redis, shared by every bot replica; `sweep()` re-reads the incidents of live grants, so a lost
 * resolve event still ends them.
 */
export class IncidentGrants {
  private readonly logger: Logger;
  private readonly clock: () => number;

  constructor(private readonly deps: IncidentGrantsDeps) {
    this.logger = deps.logger.child({ component: 'pagerduty-incidents' });
    this.clock = deps.clock ?? Date.now;
  }

  /** Whether any workflow grants access for incidents or ties break-glass to them (else events need no API call at all). */
  get active(): boolean {
    return [...this.deps.policy().workflows.values()].some((w) => incidentGrantServices(w).length > 0 || w.break_glass?.require_active_incident === true);
  }

  /** A verified, first-seen webhook event. Throws when PagerDuty cannot be asked (logged by the caller). */
  async onEvent(event: WebhookEvent): Promise<void> {
    if (event.resourceType !== 'incident' || !(INCIDENT_EVENT_TYPES as readonly string[]).includes(event.type)) return;
    if (!this.active) return;
    const incident = await this.deps.oncall.incident(event.resourceId);
    if (!incident) {
      this.logger.warn({ incident: event.resourceId, event: event.id }, 'webhook names an incident PagerDuty does not know');
      return;
    }
    await this.apply(incident);
  }

  /** Acts on the incident as just read: grants while it is open, ends its grants once it resolved. */
  async apply(incident: IncidentFact, onlySlackUser?: string): Promise<void> {
    if (isOpenIncident(incident)) {
      await this.grantAssignees(incident, onlySlackUser);
      // Reassigned or escalated past someone: the grant the incident made them ends (the engine
      // revokes only grants whose assignee the incident no longer lists).
      if (onlySlackUser === undefined && incident.assignees !== undefined) await this.endGrants(incident);
    } else if (incident.status === 'resolved') await this.endGrants(incident);
  }

  /** A person registered a key: incidents that are waiting for it, still open and still assigning them, grant now. */
  async onKeyRegistered(userId: string): Promise<void> {
    const waiting = await this.deps.redis.smembers(this.awaitingKey(userId));
    for (const incidentId of waiting) {
      try {
        const incident = await this.deps.oncall.incident(incidentId);
        if (!incident || !isOpenIncident(incident)) {
          await this.deps.redis.srem(this.awaitingKey(userId), incidentId);
          continue;
        }
        await this.apply(incident, userId);
      } catch (err) {
        this.logger.warn({ err, userId, incident: incidentId, reason: reasonOf(err) }, 'could not grant a waiting incident assignee');
      }
    }
  }

  /** Re-reads every incident that holds live grants; a resolved one ends them (backstop for a lost or failed event). */
  async sweep(): Promise<number> {
    let ended = 0;
    const byIncident = await this.liveGrantsByIncident();
    for (const incidentId of byIncident.keys()) {
      try {
        const incident = await this.deps.oncall.incident(incidentId);
        if (incident && isOpenIncident(incident)) continue;
        // An incident PagerDuty no longer knows grants nothing either.
        ended += await this.endGrants(incident ?? { id: incidentId, service: '', status: 'resolved' });
      } catch (err) {
        this.logger.warn({ incident: incidentId, reason: reasonOf(err) }, 'incident sweep: PagerDuty could not be asked');
      }
    }
    return ended;
  }

  /**
   * Live grants that end with their incident (granted by it, or break-glass resting on it), by
   * incident: read from the request store, so a crash between a grant and any index loses nothing.
   */
  private async liveGrantsByIncident(): Promise<Map<string, AccessRequest[]>> {
    const byIncident = new Map<string, AccessRequest[]>();
    const policy = this.deps.policy();
    for (const request of await this.deps.store.listActiveEndingBy(Number.MAX_SAFE_INTEGER, 10_000)) {
      const incidentId = request.breakGlass?.incidentId;
      if (!incidentId || !endsWithIncident(request, policy.workflows.get(request.workflow))) continue;
      byIncident.set(incidentId, [...(byIncident.get(incidentId) ?? []), request]);
    }
    return byIncident;
  }

  private async grantAssignees(incident: IncidentFact, onlySlackUser?: string): Promise<void> {
    const policy = this.deps.policy();
    const workflows = [...policy.workflows.values()].filter((w) => incidentGrantServices(w).includes(incident.service));
    if (workflows.length === 0) return;
    const resources = [...policy.resources.values()].filter((r) => workflows.some((w) => w.name === r.workflow));
    for (const assignee of incident.assignees ?? []) {
      const slackUserId = assignee.email ? (await this.deps.directory.resolveApprovers({ users: [assignee.email] }))[0] : undefined;
      if (!slackUserId) {
        await this.refusal(incident, assignee.id, undefined, 'NO_SLACK_USER', 'No Slack user with a confirmed email matches this PagerDuty user.');
        continue;
      }
      if (onlySlackUser !== undefined && slackUserId !== onlySlackUser) continue;
      const needKey: string[] = [];
      for (const resource of resources) {
        // Every later event of the incident (acknowledged, escalated…) finds the grant it made: nothing to do.
        const open = await this.deps.store.openRequestFor(slackUserId, resource.name, true);
        if (open?.breakGlass?.incidentId === incident.id) continue;
        const result = await this.deps.service.grantForIncident({ resource: resource.name, slackUserId, assignee: assignee.id, incident });
        if (result.status === 'ok') {
          this.logger.info({ incident: incident.id, requestId: result.request.id, slackUserId, resource: resource.name }, 'incident grant');
        } else if (result.status === 'refused' && result.code === 'KEY_REQUIRED') {
          needKey.push(resource.name);
        }
      }
      if (needKey.length > 0) await this.askForKey(incident, slackUserId, needKey, workflows);
      else await this.deps.redis.srem(this.awaitingKey(slackUserId), incident.id);
    }
  }

  /** Tells an assignee once per incident how to add a key; the grant follows when they do (onKeyRegistered). */
  private async askForKey(incident: IncidentFact, userId: string, resources: string[], workflows: Workflow[]): Promise<void> {
    const { redis } = this.deps;
    await redis.multi().sadd(this.awaitingKey(userId), incident.id).expire(this.awaitingKey(userId), STATE_TTL_S).exec();
    const told = await redis.set(this.toldKey(incident.id, userId), '1', 'EX', STATE_TTL_S, 'NX');
    if (told !== 'OK') return;
    const label = incident.number !== undefined ? `#${incident.number}` : incident.id;
    const text =
      `:rotating_light: PagerDuty incident ${label}${incident.title ? ` (${incident.title.slice(0, 150)})` : ''} is assigned to you, ` +
      `and ${resources.map((r) => `\`${r}\``).join(', ')} ${resources.length === 1 ? 'is' : 'are'} granted to its responders (workflow ${workflows.map((w) => w.name).join(', ')}). ` +
      'You have no registered key for it: add one with `/access key add <your public key>` (e.g. the contents of ~/.ssh/id_ed25519.pub) ' +
      'and your certificate follows here at once, while the incident is open.';
    try {
      await this.deps.notifier.direct(userId, text);
    } catch (err) {
      this.logger.warn({ err, userId, incident: incident.id }, 'could not tell an incident assignee to add a key');
    }
  }

  private async endGrants(incident: IncidentFact): Promise<number> {
    const grants = (await this.liveGrantsByIncident()).get(incident.id) ?? [];
    let ended = 0;
    for (const grant of grants) {
      const result = await this.deps.service.endIncidentGrant(grant.id, incident);
      if (result.status !== 'ok') continue;
      ended++;
      this.logger.info({ incident: incident.id, incidentStatus: incident.status, requestId: grant.id }, 'incident grant ended (incident resolved, or the person unassigned)');
    }
    return ended;
  }

  private async refusal(incident: IncidentFact, assignee: string, userId: string | undefined, code: string, message: string): Promise<void> {
    const event: AuditInput = {
      type: A.incidentGrantRefused,
      actor: { id: 'pagerduty', via: 'pagerduty' },
      data: { code, message, incident: incident.id, incidentStatus: incident.status, service: incident.service, assignee, ...(userId ? { requester: userId } : {}) },
    };
    await this.deps.audit.append([event], this.clock());
  }

  /** Adapter state (`{prefix}:ad:pagerduty:…`): the family the Redis ACL rules give the bot. */
  private get base(): string {
    return `${this.deps.keys.base}:ad:pagerduty`;
  }
  private awaitingKey(userId: string): string {
    return `${this.base}:awaiting-key:${userId}`;
  }
  private toldKey(incidentId: string, userId: string): string {
    return `${this.base}:incident:${incidentId}:told:${userId}`;
  }
}
