import type { Actor, IncidentFact, OnCallFact } from '../engine/types';
import type { Logger } from '../log/logger';
import type { OnCall, OnCallContext } from '../requests/ports';
import { TtlCache } from '../slack/ttl-cache';
import type { PagerDutyClient } from './pagerduty-client';
import { IncidentSchema, NoteSchema, OnCallSchema, ServiceSchema, UserSchema, type PdIncident, type PdUser } from './pagerduty-schemas';

export interface PagerDutyOnCallOptions {
  client: PagerDutyClient;
  logger: Logger;
  /** How long the on-call context of approval messages is reused. Default 30 s. */
  contextTtlMs?: number;
  clock?: () => number;
}

const OPEN_STATUSES = ['triggered', 'acknowledged'];

/**
 * The OnCall port on PagerDuty REST v2. People are matched by email: a Slack user's email counts
 * only when Slack confirmed it, and a PagerDuty user only when their email is exactly it. Decisions
 * (break-glass, incident grants, the worker's re-check) read PagerDuty now; only the on-call context
 * shown in messages is cached, briefly.
 */
export class PagerDutyOnCall implements OnCall {
  readonly enabled = true;
  private readonly client: PagerDutyClient;
  private readonly logger: Logger;
  private readonly contexts: TtlCache<string, OnCallContext>;
  private readonly clock: () => number;

  constructor(options: PagerDutyOnCallOptions) {
    this.client = options.client;
    this.logger = options.logger.child({ component: 'pagerduty-oncall' });
    this.clock = options.clock ?? Date.now;
    this.contexts = new TtlCache(options.contextTtlMs ?? 30_000, this.clock, 1_000);
  }

  async oncallFor(actor: Actor, services: string[]): Promise<OnCallFact[]> {
    if (!actor.email || actor.emailVerified !== true || services.length === 0) return [];
    const [user, policies] = await Promise.all([this.userByEmail(actor.email), this.policiesOf(services)]);
    if (!user) {
      this.logger.info({ actor: actor.id }, 'no PagerDuty user has this Slack user\'s email');
      return [];
    }
    const policyIds = [...new Set(policies.values())];
    if (policyIds.length === 0) return [];
    const entries = await this.client.list('/oncalls', 'oncalls', OnCallSchema, `on-calls of ${user.id}`, {
      'user_ids[]': [user.id],
      'escalation_policy_ids[]': policyIds,
    });
    const facts: OnCallFact[] = [];
    for (const entry of entries) {
      // Filter again: an entry of someone else or another policy never counts, whatever the API did with the query.
      if (entry.user.id !== user.id) continue;
      for (const [service, policy] of policies) {
        if (policy !== entry.escalation_policy.id) continue;
        facts.push({
          service,
          escalationPolicy: policy,
          level: entry.escalation_level,
          pagerdutyUser: user.id,
          ...(entry.schedule?.id ? { schedule: entry.schedule.id } : {}),
          ...(entry.start ? { start: entry.start } : {}),
          ...(entry.end ? { end: entry.end } : {}),
        });
      }
    }
    return facts;
  }

  async activeIncidents(services: string[]): Promise<IncidentFact[]> {
    if (services.length === 0) return [];
    const incidents = await this.client.list('/incidents', 'incidents', IncidentSchema, `open incidents of ${services.join(',')}`, {
      'service_ids[]': services,
      'statuses[]': OPEN_STATUSES,
      sort_by: 'created_at:desc',
    });
    return incidents.filter((i) => services.includes(i.service.id) && OPEN_STATUSES.includes(i.status)).map((i) => toFact(i));
  }

  async oncallEmails(escalationPolicy: string, levels: number[]): Promise<string[]> {
    const entries = await this.client.list('/oncalls', 'oncalls', OnCallSchema, `on-call of ${escalationPolicy}`, {
      'escalation_policy_ids[]': [escalationPolicy],
      'include[]': ['users'],
    });
    const wanted = entries.filter((e) => e.escalation_policy.id === escalationPolicy && levels.includes(e.escalation_level));
    const emails = await Promise.all(wanted.map(async (e) => e.user.email ?? (await this.userById(e.user.id))?.email));
    return [...new Set(emails.flatMap((e) => (e ? [e.toLowerCase()] : [])))];
  }

  async incident(id: string): Promise<IncidentFact | undefined> {
    const incident = await this.client.getOne(`/incidents/${encodeURIComponent(id)}`, 'incident', IncidentSchema, `incident ${id}`);
    if (!incident) return undefined;
    const assignees = await Promise.all(
      incident.assignments.map(async (a) => {
        const user = await this.userById(a.assignee.id);
        return { id: a.assignee.id, ...(user ? { email: user.email.toLowerCase() } : {}) };
      }),
    );
    return { ...toFact(incident), assignees };
  }

  context(service: string): Promise<OnCallContext> {
    return this.contexts.get(service, async () => {
      const found = await this.client.getOne(`/services/${encodeURIComponent(service)}`, 'service', ServiceSchema, `service ${service}`);
      if (!found) return { service, oncall: [], incidents: [] };
      const [entries, incidents] = await Promise.all([
        this.client.list('/oncalls', 'oncalls', OnCallSchema, `on-call of ${found.escalation_policy.id}`, {
          'escalation_policy_ids[]': [found.escalation_policy.id],
          'include[]': ['users'],
        }),
        this.activeIncidents([service]),
      ]);
      const oncall = entries
        .filter((e) => e.escalation_policy.id === found.escalation_policy.id && e.escalation_level <= 2)
        .map((e) => ({
          level: e.escalation_level,
          ...(e.user.name || e.user.summary ? { name: (e.user.name ?? e.user.summary) as string } : {}),
          ...(e.user.email ? { email: e.user.email.toLowerCase() } : {}),
        }));
      return { service, ...(found.name ? { serviceName: found.name } : {}), oncall, incidents };
    });
  }

  async postNote(incidentId: string, content: string): Promise<void> {
    await this.client.post(`/incidents/${encodeURIComponent(incidentId)}/notes`, { note: { content: content.slice(0, 25_000) } }, 'note', NoteSchema, `a note on ${incidentId}`);
  }

  /** The PagerDuty user whose email is exactly this one (case-insensitive); `query` also matches names and parts. */
  private async userByEmail(email: string): Promise<PdUser | undefined> {
    const wanted = email.trim().toLowerCase();
    const users = await this.client.list('/users', 'users', UserSchema, 'users by email', { query: wanted });
    return users.find((u) => u.email.toLowerCase() === wanted);
  }

  private userById(id: string): Promise<PdUser | undefined> {
    return this.client.getOne(`/users/${encodeURIComponent(id)}`, 'user', UserSchema, `user ${id}`);
  }

  /** service id → its escalation policy id, for the services that exist. */
  private async policiesOf(services: string[]): Promise<Map<string, string>> {
    const found = await Promise.all(
      services.map(async (s) => [s, await this.client.getOne(`/services/${encodeURIComponent(s)}`, 'service', ServiceSchema, `service ${s}`)] as const),
    );
    const policies = new Map<string, string>();
    for (const [service, value] of found) {
      if (value) policies.set(service, value.escalation_policy.id);
      else this.logger.warn({ service }, 'PagerDuty has no service with this id');
    }
    return policies;
  }
}

function toFact(i: PdIncident): IncidentFact {
  const created = Date.parse(i.created_at);
  return {
    id: i.id,
    service: i.service.id,
    status: i.status,
    number: i.incident_number,
    title: i.title,
    ...(i.urgency ? { urgency: i.urgency } : {}),
    ...(Number.isFinite(created) ? { createdAt: created } : {}),
    ...(i.html_url ? { url: i.html_url } : {}),
    assignees: i.assignments.map((a) => ({ id: a.assignee.id })),
  };
}
