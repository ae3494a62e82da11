import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jiraSignature } from '../../src/jira/webhook-signature';

/**
 * A strict loopback fake of the Jira Cloud REST v3 routes access-bot uses, and a sender of signed
 * admin webhooks. Point JIRA_URL at start()'s URL.
 *
 * Like Jira Cloud it: requires basic auth with the API user's email and token (401 otherwise);
 * takes descriptions and comments only as ADF documents (`doc`, version 1) and refuses an empty
 * text node (400); refuses a summary over 255 characters, a label with a space, an unknown project
 * or issue type; takes entity properties only as JSON objects (a bare string, or a form body: 415);
 * offers only the transitions of the issue type's workflow from the current status (anything else:
 * 400); shows embedded users (changelog and comment authors) without email, and `/user?accountId=`
 * with the email only when the person's profile lets it be seen; answers the enhanced search
 * (`/search/jql`) with only ids unless `fields` is given, pages it by token, and shows an issue in
 * search only `indexLagMs` after it was created (Jira's search index lags writes; a GET by key does
 * not). The JQL it understands is the few clauses access-bot writes (`project =`, `labels =`,
 * `updated >= -Nm`, `ORDER BY`); anything else is a 400, as Jira answers a query it cannot parse.
 * It cannot reproduce: workflow conditions and validators, permissions per project, rate limits
 * (429 with Retry-After), webhook retries and their order, ADF schema details beyond the above.
 */

export interface FakeJiraUser {
  accountId: string;
  displayName: string;
  email: string;
  /** false: the profile hides the email (the user endpoints leave `emailAddress` out). */
  emailVisible?: boolean;
}

export interface FakeJiraTransition {
  id: string;
  name: string;
  /** Status names it starts from; empty: from any status (a global transition). */
  from: string[];
  to: string;
}

export interface FakeJiraIssueType {
  id: string;
  name: string;
  statuses: string[];
  transitions: FakeJiraTransition[];
}

export interface FakeJiraProject {
  id: string;
  key: string;
  name: string;
  issueTypes: FakeJiraIssueType[];
}

export interface FakeJiraHistory {
  id: string;
  author: string;
  created: string;
  items: Array<{ field: string; fieldtype: string; from: string | null; fromString: string | null; to: string | null; toString: string | null }>;
}

export interface FakeJiraComment {
  id: string;
  author: string;
  body: AdfDoc;
  created: string;
}

type AdfDoc = { type: string; version?: number; content?: AdfDoc[]; text?: string; attrs?: Record<string, unknown>; marks?: unknown[] };

export interface FakeJiraIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  description: AdfDoc;
  labels: string[];
  status: string;
  properties: Record<string, unknown>;
  created: number;
  updated: number;
  /** When the search index shows it. */
  indexedAt: number;
  changelog: FakeJiraHistory[];
  comments: FakeJiraComment[];
}

export interface RecordedJiraCall {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  at: number;
}

export interface FakeJiraOptions {
  users: FakeJiraUser[];
  projects: FakeJiraProject[];
  /** The API user access-bot signs in as (basic auth: its email and this token). */
  apiUser: FakeJiraUser;
  apiToken?: string;
  /** How long a new issue stays out of search results. Default 0. */
  indexLagMs?: number;
}

type Failure = { status: number; path?: RegExp; method?: string } | { delayMs: number; path?: RegExp; method?: string };

/** A project with an Access Request type: To Do → Approved / Declined, back to To Do, and Done (expired). */
export function accessRequestProject(key = 'PLAT', typeName = 'Access Request'): FakeJiraProject {
  return {
    id: '10000',
    key,
    name: `${key} project`,
    issueTypes: [
      {
        id: '10001',
        name: typeName,
        statuses: ['To Do', 'Approved', 'Declined', 'Done'],
        transitions: [
          { id: '11', name: 'Approve', from: ['To Do'], to: 'Approved' },
          { id: '21', name: 'Decline', from: ['To Do'], to: 'Declined' },
          { id: '31', name: 'Reopen', from: ['Approved', 'Declined'], to: 'To Do' },
          { id: '41', name: 'Close', from: [], to: 'Done' },
          { id: '51', name: 'Decline after approval', from: ['Approved'], to: 'Declined' },
          { id: '61', name: 'Approve after decline', from: ['Declined'], to: 'Approved' },
        ],
      },
      { id: '10002', name: 'Task', statuses: ['To Do', 'Done'], transitions: [{ id: '41', name: 'Close', from: [], to: 'Done' }] },
    ],
  };
}

export class FakeJiraApi {
  readonly apiToken: string;
  readonly users = new Map<string, FakeJiraUser>();
  readonly issues = new Map<string, FakeJiraIssue>();
  readonly recorded: RecordedJiraCall[] = [];
  indexLagMs: number;
  private readonly failures: Failure[] = [];
  private down: number | undefined;
  private server: Server | undefined;
  private nextIssue = 10100;
  private nextHistory = 20000;
  private nextComment = 30000;
  private readonly counters = new Map<string, number>();

  constructor(private readonly options: FakeJiraOptions) {
    this.apiToken = options.apiToken ?? 'jira-fake-api-token-0123456789';
    this.indexLagMs = options.indexLagMs ?? 0;
    for (const u of [...options.users, options.apiUser]) this.users.set(u.accountId, u);
  }

  get apiUser(): FakeJiraUser {
    return this.options.apiUser;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    if (!this.server) throw new Error('FakeJiraApi not started');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** The next matching request answers this status. */
  failNext(status: number, path?: RegExp, method?: string): void {
    this.failures.push({ status, ...(path ? { path } : {}), ...(method ? { method } : {}) });
  }

  /** The next matching request is carried out, but its answer comes only after `delayMs` (a client timeout then loses it). */
  delayNext(delayMs: number, path?: RegExp, method?: string): void {
    this.failures.push({ delayMs, ...(path ? { path } : {}), ...(method ? { method } : {}) });
  }

  /** Every request answers `status` (503: Jira down) until heal(). */
  breakAll(status = 503): void {
    this.down = status;
  }

  heal(): void {
    this.down = undefined;
    this.failures.length = 0;
  }

  calls(path?: RegExp, method?: string): RecordedJiraCall[] {
    return this.recorded.filter((c) => (path === undefined || path.test(c.path)) && (method === undefined || c.method === method));
  }

  // ---- people acting in Jira -------------------------------------------------------------------

  issue(keyOrId: string): FakeJiraIssue | undefined {
    return this.issues.get(keyOrId) ?? [...this.issues.values()].find((i) => i.key === keyOrId);
  }

  /** Issues carrying this label. */
  issuesLabelled(label: string): FakeJiraIssue[] {
    return [...this.issues.values()].filter((i) => i.labels.includes(label));
  }

  /** A person moves the issue to a status through the workflow (refused like Jira when no transition leads there). */
  move(keyOrId: string, status: string, byAccountId: string): FakeJiraHistory {
    const issue = this.mustIssue(keyOrId);
    const transition = this.available(issue).find((t) => t.to === status);
    if (!transition) throw new Error(`no transition from ${issue.status} to ${status} on ${issue.key}`);
    return this.applyTransition(issue, transition, byAccountId);
  }

  /** A person comments (plain text, stored as ADF). */
  comment(keyOrId: string, byAccountId: string, text: string): FakeJiraComment {
    const issue = this.mustIssue(keyOrId);
    const comment: FakeJiraComment = {
      id: String(this.nextComment++),
      author: byAccountId,
      body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] },
      created: this.stamp(),
    };
    issue.comments.push(comment);
    issue.updated = Date.now();
    return comment;
  }

  /** The plain text of every comment on an issue, oldest first. */
  commentTexts(keyOrId: string): string[] {
    return this.mustIssue(keyOrId).comments.map((c) => adfText(c.body).trim());
  }

  /**
   * The body Jira sends for `jira:issue_updated` about this issue as it stands now; `claim`
   * overrides the status it states (a body that disagrees with the API).
   */
  webhookBody(keyOrId: string, claim?: { status?: string }): string {
    const issue = this.mustIssue(keyOrId);
    return JSON.stringify({
      timestamp: Date.now(),
      webhookEvent: 'jira:issue_updated',
      issue_event_type_name: 'issue_generic',
      user: { accountId: this.options.apiUser.accountId },
      issue: { id: issue.id, key: issue.key, fields: { status: { name: claim?.status ?? issue.status }, labels: issue.labels, summary: issue.summary } },
      changelog: { id: issue.changelog.at(-1)?.id ?? '0', items: [{ field: 'status', toString: claim?.status ?? issue.status }] },
    });
  }

  /** Delivers a webhook as Jira does: X-Hub-Signature over the raw body, and a delivery identifier. */
  static async deliver(
    url: string,
    body: string,
    secret: string | undefined,
    options: { identifier?: string; signature?: string } = {},
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-atlassian-webhook-identifier': options.identifier ?? randomUUID(),
    };
    const signature = options.signature ?? (secret !== undefined ? jiraSignature(body, secret) : undefined);
    if (signature !== undefined) headers['x-hub-signature'] = signature;
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text() };
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const record = (status: number) => this.recorded.push({ method, path: url.pathname, query: url.searchParams, status, at: Date.now() });
    const send = (status: number, body?: unknown) => {
      record(status);
      res.statusCode = status;
      if (body === undefined) {
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const error = (status: number, ...messages: string[]) => send(status, { errorMessages: messages, errors: {} });

    if (!this.authorized(req.headers.authorization)) {
      record(401);
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Basic realm="protected-area"');
      res.end('Client must be authenticated to access this resource.');
      return;
    }
    if (this.down !== undefined) return error(this.down, 'Service unavailable');
    const failure = this.takeFailure(url.pathname, method);
    if (failure && 'status' in failure) return error(failure.status, `Injected ${failure.status}`);
    const delayMs = failure && 'delayMs' in failure ? failure.delayMs : 0;
    const reply = (status: number, body?: unknown) => {
      if (delayMs === 0) return send(status, body);
      setTimeout(() => {
        if (!res.destroyed) send(status, body);
        else record(status);
      }, delayMs);
    };

    const path = url.pathname;
    let json: unknown;
    if (method === 'POST' || method === 'PUT') {
      if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) return error(415, 'Unsupported media type: send application/json');
      try {
        json = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        return error(400, 'Unexpected character in the JSON body');
      }
    }

    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/rest/api/3/myself') return reply(200, this.userJson(this.options.apiUser, true));
    if (method === 'GET' && path === '/rest/api/3/user') {
      const user = this.users.get(url.searchParams.get('accountId') ?? '');
      if (!user) return error(404, `Specified user does not exist or you do not have required permissions`);
      return reply(200, this.userJson(user, true));
    }
    if (method === 'GET' && (m = /^\/rest\/api\/3\/project\/([^/]+)\/statuses$/.exec(path))) {
      const project = this.project(decodeURIComponent(m[1]!));
      if (!project) return error(404, `No project could be found with key '${m[1]}'.`);
      return reply(
        200,
        project.issueTypes.map((t) => ({ id: t.id, name: t.name, subtask: false, statuses: t.statuses.map((s) => ({ id: this.statusId(s), name: s })) })),
      );
    }
    if (method === 'GET' && (m = /^\/rest\/api\/3\/project\/([^/]+)$/.exec(path))) {
      const project = this.project(decodeURIComponent(m[1]!));
      if (!project) return error(404, `No project could be found with key '${m[1]}'.`);
      return reply(200, { id: project.id, key: project.key, name: project.name });
    }
    if (method === 'POST' && path === '/rest/api/3/issue') return this.createIssue(json, reply, error);
    if (method === 'GET' && path === '/rest/api/3/search/jql') return this.search(url.searchParams, reply, error);
    if ((m = /^\/rest\/api\/3\/issue\/([^/]+)(\/.*)?$/.exec(path))) {
      const issue = this.issue(decodeURIComponent(m[1]!));
      if (!issue) return error(404, 'Issue does not exist or you do not have permission to see it.');
      const rest = m[2] ?? '';
      if (method === 'GET' && rest === '') return reply(200, this.issueJson(issue, url.searchParams.get('fields'), url.searchParams.get('properties')));
      if (method === 'GET' && rest === '/changelog') {
        const startAt = Number(url.searchParams.get('startAt') ?? 0);
        const maxResults = Math.min(100, Number(url.searchParams.get('maxResults') ?? 100));
        const values = issue.changelog.slice(startAt, startAt + maxResults).map((h) => ({ ...h, author: this.embeddedUser(h.author) }));
        return reply(200, { self: `${this.url}${path}`, startAt, maxResults, total: issue.changelog.length, isLast: startAt + maxResults >= issue.changelog.length, values });
      }
      if (method === 'GET' && rest === '/transitions')
        return reply(200, { expand: 'transitions', transitions: this.available(issue).map((t) => ({ id: t.id, name: t.name, to: { id: this.statusId(t.to), name: t.to } })) });
      if (method === 'POST' && rest === '/transitions') {
        const id = (json as { transition?: { id?: unknown } } | undefined)?.transition?.id;
        const transition = this.available(issue).find((t) => t.id === id);
        if (!transition) return error(400, `Transition id '${String(id)}' is not valid for this issue.`);
        this.applyTransition(issue, transition, this.options.apiUser.accountId);
        return reply(204);
      }
      if (method === 'POST' && rest === '/comment') {
        const body = (json as { body?: unknown } | undefined)?.body;
        const problem = adfProblem(body);
        if (problem) return send(400, { errorMessages: [], errors: { comment: `Comment body is not valid! ${problem}` } });
        const comment: FakeJiraComment = { id: String(this.nextComment++), author: this.options.apiUser.accountId, body: body as AdfDoc, created: this.stamp() };
        issue.comments.push(comment);
        issue.updated = Date.now();
        return reply(201, { id: comment.id, author: this.embeddedUser(comment.author), body: comment.body, created: comment.created });
      }
      if (method === 'GET' && rest === '/comment') {
        const newestFirst = url.searchParams.get('orderBy') === '-created';
        const list = [...issue.comments].sort((a, b) => (newestFirst ? Number(b.id) - Number(a.id) : Number(a.id) - Number(b.id)));
        const maxResults = Math.min(100, Number(url.searchParams.get('maxResults') ?? 50));
        return reply(200, {
          startAt: 0,
          maxResults,
          total: list.length,
          comments: list.slice(0, maxResults).map((c) => ({ id: c.id, author: this.embeddedUser(c.author), body: c.body, created: c.created })),
        });
      }
      if ((m = /^\/properties\/([^/]+)$/.exec(rest))) {
        const key = decodeURIComponent(m[1]!);
        if (method === 'PUT') {
          if (json === null || typeof json !== 'object' || Array.isArray(json)) return error(400, 'The property value must be a JSON object.');
          issue.properties[key] = json;
          return reply(200);
        }
        if (method === 'GET') {
          if (!(key in issue.properties)) return error(404, `The property with key '${key}' does not exist.`);
          return reply(200, { key, value: issue.properties[key] });
        }
      }
    }
    return error(404, `No route for ${method} ${path} in the Jira fake`);
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return false;
    return Buffer.from(m[1]!, 'base64').toString('utf8') === `${this.options.apiUser.email}:${this.apiToken}`;
  }

  private takeFailure(path: string, method: string): Failure | undefined {
    const i = this.failures.findIndex((f) => (!f.path || f.path.test(path)) && (!f.method || f.method === method));
    if (i < 0) return undefined;
    return this.failures.splice(i, 1)[0];
  }

  private createIssue(json: unknown, reply: (s: number, b?: unknown) => void, error: (s: number, ...m: string[]) => void): void {
    const body = json as { fields?: Record<string, unknown>; properties?: unknown } | undefined;
    const fields = body?.fields ?? {};
    const errors: Record<string, string> = {};
    const projectKey = (fields.project as { key?: unknown } | undefined)?.key;
    const project = typeof projectKey === 'string' ? this.project(projectKey) : undefined;
    if (!project) errors.project = 'valid project is required';
    const typeName = (fields.issuetype as { name?: unknown } | undefined)?.name;
    const type = project?.issueTypes.find((t) => t.name === typeName);
    if (project && !type) errors.issuetype = 'Specify a valid issue type';
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
    if (fields.description !== undefined) {
      const problem = adfProblem(fields.description);
      if (problem) errors.description = `Operation value must be an Atlassian Document (see the Atlassian Document Format): ${problem}`;
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || /\s/.test(l) || l.length > 255))
      errors.labels = 'The label must not contain spaces and be at most 255 characters.';
    const properties = body?.properties ?? [];
    if (!Array.isArray(properties) || properties.some((p) => !p || typeof p.key !== 'string' || p.value === null || typeof p.value !== 'object' || Array.isArray(p.value)))
      return error(400, 'Issue property values must be JSON objects.');
    if (Object.keys(errors).length) {
      reply(400, { errorMessages: [], errors });
      return;
    }
    const n = (this.counters.get(project!.key) ?? 0) + 1;
    this.counters.set(project!.key, n);
    const now = Date.now();
    const issue: FakeJiraIssue = {
      id: String(this.nextIssue++),
      key: `${project!.key}-${n}`,
      project: project!.key,
      issueType: type!.name,
      summary: summary as string,
      description: fields.description as AdfDoc,
      labels: labels as string[],
      status: type!.statuses[0]!,
      properties: Object.fromEntries((properties as Array<{ key: string; value: unknown }>).map((p) => [p.key, p.value])),
      created: now,
      updated: now,
      indexedAt: now + this.indexLagMs,
      changelog: [],
      comments: [],
    };
    this.issues.set(issue.id, issue);
    reply(201, { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}` });
  }

  private search(query: URLSearchParams, reply: (s: number, b?: unknown) => void, error: (s: number, ...m: string[]) => void): void {
    const jql = query.get('jql') ?? '';
    const parsed = parseJql(jql);
    if (typeof parsed === 'string') return error(400, parsed);
    const now = Date.now();
    const matches = [...this.issues.values()]
      .filter((i) => i.indexedAt <= now && parsed.every((clause) => clause(i, now)))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const maxResults = Math.min(100, Math.max(1, Number(query.get('maxResults') ?? 50)));
    const start = Number(query.get('nextPageToken') ?? 0);
    const page = matches.slice(start, start + maxResults);
    const isLast = start + maxResults >= matches.length;
    reply(200, {
      issues: page.map((i) => this.issueJson(i, query.get('fields'), query.get('properties'), false)),
      isLast,
      ...(isLast ? {} : { nextPageToken: String(start + maxResults) }),
    });
  }

  /** GET /issue/{key} gives every field when none are named; the enhanced search gives only the id. */
  private issueJson(issue: FakeJiraIssue, fieldsParam: string | null, propertiesParam: string | null, allByDefault = true): Record<string, unknown> {
    const out: Record<string, unknown> = { id: issue.id };
    const named = fieldsParam === null ? undefined : fieldsParam.split(',').map((f) => f.trim()).filter(Boolean);
    const wanted = named ?? (allByDefault ? ['*all'] : undefined);
    if (wanted !== undefined || propertiesParam !== null) out.key = issue.key;
    const all: Record<string, unknown> = {
      summary: issue.summary,
      description: issue.description,
      labels: issue.labels,
      status: { id: this.statusId(issue.status), name: issue.status },
      issuetype: { name: issue.issueType },
      project: { key: issue.project },
      created: new Date(issue.created).toISOString(),
      updated: new Date(issue.updated).toISOString(),
    };
    if (wanted !== undefined) out.fields = Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k) || wanted.includes('*all')));
    if (propertiesParam !== null) {
      const keys = propertiesParam.split(',').map((k) => k.trim());
      out.properties = Object.fromEntries(keys.filter((k) => k in issue.properties).map((k) => [k, issue.properties[k]]));
    }
    return out;
  }

  private available(issue: FakeJiraIssue): FakeJiraTransition[] {
    const type = this.project(issue.project)?.issueTypes.find((t) => t.name === issue.issueType);
    return (type?.transitions ?? []).filter((t) => (t.from.length === 0 || t.from.includes(issue.status)) && t.to !== issue.status);
  }

  private applyTransition(issue: FakeJiraIssue, transition: FakeJiraTransition, by: string): FakeJiraHistory {
    const history: FakeJiraHistory = {
      id: String(this.nextHistory++),
      author: by,
      created: this.stamp(),
      items: [
        {
          field: 'status',
          fieldtype: 'jira',
          from: this.statusId(issue.status),
          fromString: issue.status,
          to: this.statusId(transition.to),
          toString: transition.to,
        },
      ],
    };
    issue.status = transition.to;
    issue.updated = Date.now();
    issue.changelog.push(history);
    return history;
  }

  private mustIssue(keyOrId: string): FakeJiraIssue {
    const issue = this.issue(keyOrId);
    if (!issue) throw new Error(`no issue ${keyOrId}`);
    return issue;
  }

  private project(key: string): FakeJiraProject | undefined {
    return this.options.projects.find((p) => p.key === key || p.id === key);
  }

  private statusId(name: string): string {
    return String(1000 + [...name].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 9000, 7));
  }

  /** Embedded users (authors): no email on Jira Cloud, whatever the profile says. */
  private embeddedUser(accountId: string): Record<string, unknown> {
    const user = this.users.get(accountId);
    return { accountId, displayName: user?.displayName ?? 'Former user', active: user !== undefined, accountType: 'atlassian' };
  }

  private userJson(user: FakeJiraUser, withEmail: boolean): Record<string, unknown> {
    return {
      accountId: user.accountId,
      accountType: 'atlassian',
      displayName: user.displayName,
      active: true,
      ...(withEmail && user.emailVisible !== false ? { emailAddress: user.email } : {}),
    };
  }

  /** Jira's timestamp form, e.g. 2026-11-30T08:01:02.345+0000. */
  private stamp(): string {
    return new Date().toISOString().replace('Z', '+0000');
  }
}

/** The JQL access-bot writes, as predicates; a string is the 400 message for anything else. */
function parseJql(jql: string): Array<(issue: FakeJiraIssue, now: number) => boolean> | string {
  const where = jql.replace(/\s+ORDER\s+BY\s+[\w\s,]+$/i, '').trim();
  if (where === '') return 'The JQL query is empty.';
  const clauses: Array<(issue: FakeJiraIssue, now: number) => boolean> = [];
  for (const part of where.split(/\s+AND\s+/i)) {
    let m: RegExpExecArray | null;
    if ((m = /^project\s*=\s*"?([A-Z][A-Z0-9_]*)"?$/.exec(part))) {
      const key = m[1];
      clauses.push((i) => i.project === key);
    } else if ((m = /^labels\s*=\s*"([^"\s]+)"$/.exec(part)) || (m = /^labels\s*=\s*([^"\s]+)$/.exec(part))) {
      const label = m[1]!;
      clauses.push((i) => i.labels.includes(label));
    } else if ((m = /^updated\s*>=\s*-(\d+)m$/.exec(part))) {
      const ms = Number(m[1]) * 60_000;
      clauses.push((i, now) => i.updated >= now - ms);
    } else {
      return `Error in the JQL Query: the fake cannot read '${part}'.`;
    }
  }
  return clauses;
}

/** Why Jira would refuse this as an ADF document, or undefined when it takes it. */
function adfProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return 'a string is not a document';
  const node = value as AdfDoc | undefined;
  if (!node || node.type !== 'doc' || node.version !== 1 || !Array.isArray(node.content)) return 'the root must be { type: "doc", version: 1, content: [...] }';
  const walk = (n: AdfDoc): string | undefined => {
    if (typeof n !== 'object' || n === null || typeof n.type !== 'string') return 'a node without a type';
    if (n.type === 'text') {
      if (typeof n.text !== 'string' || n.text === '') return 'a text node must have non-empty text';
      return undefined;
    }
    if (n.content !== undefined && !Array.isArray(n.content)) return 'content must be an array';
    for (const child of n.content ?? []) {
      const problem = walk(child);
      if (problem) return problem;
    }
    return undefined;
  };
  for (const child of node.content) {
    const problem = walk(child);
    if (problem) return problem;
  }
  return undefined;
}

function adfText(node: AdfDoc | undefined): string {
  if (!node) return '';
  if (node.type === 'text') return node.text ?? '';
  const inner = (node.content ?? []).map(adfText).join('');
  return node.type === 'paragraph' || node.type === 'listItem' ? `${inner}\n` : inner;
}
