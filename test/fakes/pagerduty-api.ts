import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pagerDutySignature } from '../../src/pagerduty/webhook-signature';

/**
 * A strict loopback fake of the PagerDuty REST API v2 routes access-bot uses, and a sender of signed
 * Webhooks v3 deliveries. Point PAGERDUTY_API_URL at start()'s URL (http://127.0.0.1:<port>: not a
 * `.com` host, so pdjs's `.all()` would break here as it does on the EU service through a proxy).
 *
 * Like PagerDuty it: requires `Authorization: Token token=<key>` (401 otherwise) and the v2 Accept
 * header; pages lists with offset/limit/more (limit at most 100, offset + limit at most 10,000);
 * takes array filters only as `name[]` (a bare `service_ids=` is ignored, so the list is unfiltered);
 * answers 404 with PagerDuty's error body for unknown ids; refuses a note without a `From:` header
 * naming a user of the account (400); answers 429 with Retry-After past its rate limit.
 * It cannot reproduce: schedules and layers (on-calls are given as they would be computed), time
 * ranges (`since`/`until`), cursor pagination, webhook retries and delivery order, account abilities.
 */

export interface FakePdUser {
  id: string;
  email: string;
  name: string;
}
export interface FakePdService {
  id: string;
  name: string;
  escalationPolicy: string;
}
export interface FakePdEscalationPolicy {
  id: string;
  name: string;
}
export interface FakePdOnCall {
  escalationPolicy: string;
  level: number;
  user: string;
  schedule?: string;
}
export interface FakePdIncident {
  id: string;
  number: number;
  title: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  urgency: 'high' | 'low';
  service: string;
  assignees: string[];
  createdAt: string;
}
export interface FakePdNote {
  incident: string;
  content: string;
  from: string;
  at: number;
}
export interface RecordedPdCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  status: number;
  at: number;
}

export interface FakePagerDutyOptions {
  token?: string;
  users?: FakePdUser[];
  services?: FakePdService[];
  escalationPolicies?: FakePdEscalationPolicy[];
  oncalls?: FakePdOnCall[];
  incidents?: FakePdIncident[];
  /** Requests per second before 429 (PagerDuty's REST limit is per key per minute); default: none. */
  rateLimitPerSecond?: number;
}

type Failure = { kind: 'status'; status: number; path?: RegExp } | { kind: 'hang'; path?: RegExp };

export class FakePagerDutyApi {
  readonly token: string;
  readonly users = new Map<string, FakePdUser>();
  readonly services = new Map<string, FakePdService>();
  readonly escalationPolicies = new Map<string, FakePdEscalationPolicy>();
  oncalls: FakePdOnCall[];
  readonly incidents = new Map<string, FakePdIncident>();
  readonly notes: FakePdNote[] = [];
  readonly recorded: RecordedPdCall[] = [];
  private readonly failures: Failure[] = [];
  private failAll: Failure | undefined;
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  private windowStart = 0;
  private inWindow = 0;
  private nextIncident = 100;

  constructor(private readonly options: FakePagerDutyOptions = {}) {
    this.token = options.token ?? 'pd-fake-api-key-0123456789';
    for (const u of options.users ?? []) this.users.set(u.id, u);
    for (const s of options.services ?? []) this.services.set(s.id, s);
    for (const p of options.escalationPolicies ?? []) this.escalationPolicies.set(p.id, p);
    this.oncalls = [...(options.oncalls ?? [])];
    for (const i of options.incidents ?? []) this.incidents.set(i.id, i);
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    if (!this.server) throw new Error('FakePagerDutyApi not started');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** The next request (whose path matches, when given) answers this status, with PagerDuty's error body. */
  failNext(status: number, path?: RegExp): void {
    this.failures.push({ kind: 'status', status, ...(path ? { path } : {}) });
  }

  /** The next request (whose path matches) never gets an answer, until stop() or unhang(). */
  hangNext(path?: RegExp): void {
    this.failures.push({ kind: 'hang', ...(path ? { path } : {}) });
  }

  /** Every request answers `status` (or hangs) until healed. */
  breakAll(failure: { status: number } | 'hang'): void {
    this.failAll = failure === 'hang' ? { kind: 'hang' } : { kind: 'status', status: failure.status };
  }

  heal(): void {
    this.failAll = undefined;
    this.failures.length = 0;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  calls(path?: RegExp): RecordedPdCall[] {
    return this.recorded.filter((c) => path === undefined || path.test(c.path));
  }

  // ---- incidents and webhooks -----------------------------------------------------------------

  /** Opens an incident (status triggered) on a service, assigned to these users. */
  trigger(service: string, assignees: string[], title = 'Something is on fire', urgency: 'high' | 'low' = 'high'): FakePdIncident {
    const number = this.nextIncident++;
    const incident: FakePdIncident = { id: `Q${number}INC`, number, title, status: 'triggered', urgency, service, assignees, createdAt: new Date().toISOString() };
    this.incidents.set(incident.id, incident);
    return incident;
  }

  /** Assigns the incident to these users instead (a reassignment, or an escalation to the next level). */
  reassign(id: string, assignees: string[]): FakePdIncident {
    const incident = this.incidents.get(id);
    if (!incident) throw new Error(`no incident ${id}`);
    incident.assignees = [...assignees];
    return incident;
  }

  setStatus(id: string, status: FakePdIncident['status']): FakePdIncident {
    const incident = this.incidents.get(id);
    if (!incident) throw new Error(`no incident ${id}`);
    incident.status = status;
    return incident;
  }

  /** The v3 webhook body PagerDuty sends for an event on an incident (as it stands now). */
  webhookBody(eventType: string, incidentId: string, eventId = `01${Math.random().toString(36).slice(2, 12).toUpperCase()}`): string {
    const incident = this.incidents.get(incidentId);
    if (!incident) throw new Error(`no incident ${incidentId}`);
    const service = this.services.get(incident.service);
    return JSON.stringify({
      event: {
        id: eventId,
        event_type: eventType,
        resource_type: 'incident',
        occurred_at: new Date().toISOString(),
        agent: null,
        client: null,
        data: {
          id: incident.id,
          type: 'incident',
          self: `${this.url}/incidents/${incident.id}`,
          html_url: `https://example.pagerduty.com/incidents/${incident.id}`,
          number: incident.number,
          status: incident.status,
          incident_key: null,
          created_at: incident.createdAt,
          title: incident.title,
          service: { id: incident.service, type: 'service_reference', summary: service?.name ?? incident.service },
          assignees: incident.assignees.map((u) => ({ id: u, type: 'user_reference', summary: this.users.get(u)?.name ?? u })),
          escalation_policy: service ? { id: service.escalationPolicy, type: 'escalation_policy_reference' } : null,
          teams: [],
          priority: null,
          urgency: incident.urgency,
          conference_bridge: null,
          resolve_reason: null,
        },
      },
    });
  }

  /**
   * POSTs a webhook delivery as PagerDuty does: `X-PagerDuty-Signature: v1=<hmac>[,v1=…]`, one per
   * secret (two during rotation), plus its other headers. `signature` overrides the header.
   */
  static async deliver(url: string, body: string, secrets: string[], signature?: string): Promise<{ status: number; body: string }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'PagerDuty-Webhook/V3.0',
        'x-webhook-id': `wh-${Date.now()}`,
        'x-webhook-subscription': 'PSUB123',
        'x-pagerduty-signature': signature ?? pagerDutySignature(body, secrets),
      },
      body,
    });
    return { status: res.status, body: await res.text() };
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.recorded.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, message: string, code: number, errors: string[] = []) => send(status, { error: { message, code, errors } });

    const index = this.failures.findIndex((f) => f.path === undefined || f.path.test(url.pathname));
    const failure = index >= 0 ? this.failures.splice(index, 1)[0] : this.failAll;
    if (failure?.kind === 'hang') {
      this.recorded.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, status: 0, at: Date.now() });
      this.hanging.add(res);
      return;
    }
    if (failure?.kind === 'status') return error(failure.status, failure.status >= 500 ? 'Internal Server Error' : 'Error', 9999);

    if (req.headers.authorization !== `Token token=${this.token}`) return error(401, 'Unauthorized', 2006);
    const accept = req.headers.accept ?? '';
    if (accept !== '' && accept.includes('vnd.pagerduty') && !accept.includes('version=2')) return error(406, 'Not Acceptable', 2001);
    if (this.options.rateLimitPerSecond !== undefined) {
      const now = Date.now();
      if (now - this.windowStart >= 1000) {
        this.windowStart = now;
        this.inWindow = 0;
      }
      if (++this.inWindow > this.options.rateLimitPerSecond) return send(429, { error: { message: 'Rate Limit Exceeded', code: 2020 } }, { 'retry-after': '1' });
    }

    const q = url.searchParams;
    const list = <T>(key: string, items: T[]) => {
      const limit = Math.min(Number(q.get('limit') ?? 25) || 25, 100);
      const offset = Number(q.get('offset') ?? 0) || 0;
      if (offset + limit > 10_000) return error(400, 'Invalid Input Provided', 2001, ['Offset must be less than 10000.']);
      const page = items.slice(offset, offset + limit);
      return send(200, { [key]: page, limit, offset, more: offset + limit < items.length, total: null });
    };
    const arrayParam = (name: string) => q.getAll(`${name}[]`);
    const parts = url.pathname.split('/').filter(Boolean);

    if (req.method === 'GET' && url.pathname === '/abilities') return list('abilities', ['teams', 'urgencies']);
    if (req.method === 'GET' && url.pathname === '/users') {
      const query = (q.get('query') ?? '').toLowerCase();
      const found = [...this.users.values()].filter((u) => u.email.toLowerCase().includes(query) || u.name.toLowerCase().includes(query));
      return list('users', found.map((u) => this.userBody(u)));
    }
    if (req.method === 'GET' && parts[0] === 'users' && parts.length === 2) {
      const user = this.users.get(parts[1]!);
      return user ? send(200, { user: this.userBody(user) }) : error(404, 'Not Found', 2100);
    }
    if (req.method === 'GET' && parts[0] === 'services' && parts.length === 2) {
      const service = this.services.get(parts[1]!);
      if (!service) return error(404, 'Not Found', 2100);
      return send(200, {
        service: { id: service.id, type: 'service', name: service.name, status: 'active', escalation_policy: { id: service.escalationPolicy, type: 'escalation_policy_reference' } },
      });
    }
    if (req.method === 'GET' && parts[0] === 'escalation_policies' && parts.length === 2) {
      const policy = this.escalationPolicies.get(parts[1]!);
      return policy ? send(200, { escalation_policy: { id: policy.id, type: 'escalation_policy', name: policy.name } }) : error(404, 'Not Found', 2100);
    }
    if (req.method === 'GET' && url.pathname === '/oncalls') {
      const policies = arrayParam('escalation_policy_ids');
      const users = arrayParam('user_ids');
      const includeUsers = arrayParam('include').includes('users');
      const found = this.oncalls.filter((o) => (policies.length === 0 || policies.includes(o.escalationPolicy)) && (users.length === 0 || users.includes(o.user)));
      return list(
        'oncalls',
        found.map((o) => {
          const user = this.users.get(o.user);
          return {
            escalation_policy: { id: o.escalationPolicy, type: 'escalation_policy_reference', summary: this.escalationPolicies.get(o.escalationPolicy)?.name },
            escalation_level: o.level,
            schedule: o.schedule ? { id: o.schedule, type: 'schedule_reference' } : null,
            user: includeUsers && user ? this.userBody(user) : { id: o.user, type: 'user_reference', summary: user?.name },
            start: new Date(Date.now() - 3_600_000).toISOString(),
            end: new Date(Date.now() + 3_600_000).toISOString(),
          };
        }),
      );
    }
    if (req.method === 'GET' && url.pathname === '/incidents') {
      const services = arrayParam('service_ids');
      const statuses = arrayParam('statuses');
      const found = [...this.incidents.values()]
        .filter((i) => (services.length === 0 || services.includes(i.service)) && (statuses.length === 0 || statuses.includes(i.status)))
        .sort((a, b) => b.number - a.number);
      return list('incidents', found.map((i) => this.incidentBody(i)));
    }
    if (req.method === 'GET' && parts[0] === 'incidents' && parts.length === 2) {
      const incident = this.incidents.get(parts[1]!);
      return incident ? send(200, { incident: this.incidentBody(incident) }) : error(404, 'Not Found', 2100);
    }
    if (req.method === 'POST' && parts[0] === 'incidents' && parts[2] === 'notes' && parts.length === 3) {
      const incident = this.incidents.get(parts[1]!);
      if (!incident) return error(404, 'Not Found', 2100);
      const from = String(req.headers.from ?? '');
      const requester = [...this.users.values()].find((u) => u.email.toLowerCase() === from.toLowerCase());
      if (!requester) return error(400, 'Invalid Input Provided', 2001, ['Requester User Not Found']);
      let content: unknown;
      try {
        content = (JSON.parse(rawBody) as { note?: { content?: unknown } }).note?.content;
      } catch {
        return error(400, 'Invalid Input Provided', 2001, ['Body is not JSON']);
      }
      if (typeof content !== 'string' || content.length === 0 || content.length > 25_000) return error(400, 'Invalid Input Provided', 2001, ['Note content is invalid']);
      const note: FakePdNote = { incident: incident.id, content, from, at: Date.now() };
      this.notes.push(note);
      return send(201, { note: { id: `N${this.notes.length}`, content, created_at: new Date().toISOString(), user: { id: requester.id, type: 'user_reference' } } });
    }
    return error(404, 'Not Found', 2100);
  }

  private userBody(u: FakePdUser) {
    return { id: u.id, type: 'user', name: u.name, email: u.email, summary: u.name, html_url: `https://example.pagerduty.com/users/${u.id}` };
  }

  private incidentBody(i: FakePdIncident) {
    const service = this.services.get(i.service);
    return {
      id: i.id,
      type: 'incident',
      incident_number: i.number,
      title: i.title,
      status: i.status,
      urgency: i.urgency,
      created_at: i.createdAt,
      html_url: `https://example.pagerduty.com/incidents/${i.id}`,
      service: { id: i.service, type: 'service_reference', summary: service?.name },
      escalation_policy: service ? { id: service.escalationPolicy, type: 'escalation_policy_reference' } : null,
      assignments: i.assignees.map((u) => ({ at: i.createdAt, assignee: { id: u, type: 'user_reference', summary: this.users.get(u)?.name } })),
    };
  }
}
