import { HttpException, Version3Client } from 'jira.js';
import type { z } from 'zod';
import type { Logger } from '../log/logger';
import type { ExternalCallMetrics } from '../metrics/external-call-metrics';
import { JiraApiError } from './errors/jira-api-error';
import { JiraAuthError } from './errors/jira-auth-error';
import { JiraResponseError } from './errors/jira-response-error';
import { JiraUnavailableError } from './errors/jira-unavailable-error';
import {
  ChangelogPageSchema,
  CommentPageSchema,
  CreatedIssueSchema,
  IssueSchema,
  JiraUserSchema,
  ProjectSchema,
  ProjectStatusesSchema,
  SearchPageSchema,
  TransitionsSchema,
  type AdfNode,
  type ChangelogHistory,
  type JiraComment,
  type JiraIssue,
  type JiraTransition,
  type JiraUser,
} from './jira-schemas';

/** The entity property every access-bot issue carries: which request it is (an object: Jira refuses bare values). */
export const REQUEST_PROPERTY = 'accessBotRequest';

export interface JiraClientOptions {
  url: string;
  email: string;
  apiToken: string;
  /** One call's limit; the call is abandoned after it. */
  timeoutMs: number;
  logger: Logger;
  /** Counts every HTTP call (`GET /rest/api/3/issue/:id`) with its outcome. */
  calls?: ExternalCallMetrics;
}

export interface NewIssue {
  project: string;
  issueType: string;
  summary: string;
  description: AdfNode;
  labels: string[];
  /** Set with the issue itself, so no issue exists without it. */
  property: Record<string, unknown>;
}

const PAGE = 100;
/** The most pages one search walks: a poll that finds more is looked at again next time. */
const MAX_SEARCH_PAGES = 10;

/**
 * Jira Cloud REST v3 through jira.js 5.x (`Version3Client`), with its traps handled, measured on 5.4:
 * - descriptions and comments are always sent as ADF documents we build: given a plain string,
 *   `createIssue` and `addComment` wrap it themselves, and an empty string becomes a text node Jira refuses;
 * - entity properties are set at create time as objects (`setIssueProperty` sends a bare string as form data: 415);
 * - the enhanced search (`/search/jql`) returns only ids unless `fields` is named, and pages by token;
 * - errors are ours: 401/403 → JiraAuthError, other 4xx → JiraApiError, no answer, 429 and 5xx →
 *   JiraUnavailableError (worth retrying), 404 on a read → undefined.
 */
export class JiraClient {
  private readonly api: Version3Client;
  readonly url: string;

  constructor(private readonly options: JiraClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.api = new Version3Client({
      host: this.url,
      authentication: { basic: { email: options.email, apiToken: options.apiToken } },
      // axios's fetch adapter, so the calls go through the metrics' counting fetch.
      baseRequestConfig: {
        timeout: options.timeoutMs,
        ...(options.calls ? { adapter: 'fetch' as const, env: { fetch: countingFetch(options.calls) } } : {}),
      },
    });
  }

  /** The browse link people open: `https://acme.atlassian.net/browse/OPS-12`. */
  browseUrl(key: string): string {
    return `${this.url}/browse/${encodeURIComponent(key)}`;
  }

  myself(): Promise<JiraUser> {
    return this.call('the credentials check (/myself)', JiraUserSchema, () => this.api.myself.getCurrentUser());
  }

  /** The person behind an accountId, with the email when their profile lets our account see it. Undefined when unknown. */
  user(accountId: string): Promise<JiraUser | undefined> {
    return this.read(`user ${accountId}`, JiraUserSchema, () => this.api.users.getUser({ accountId }));
  }

  project(key: string) {
    return this.read(`project ${key}`, ProjectSchema, () => this.api.projects.getProject({ projectIdOrKey: key }));
  }

  /** Issue types of a project with the statuses of each one's workflow. Undefined when the project is unknown. */
  projectStatuses(key: string) {
    return this.read(`the statuses of project ${key}`, ProjectStatusesSchema, () => this.api.projects.getAllStatuses({ projectIdOrKey: key }));
  }

  async createIssue(issue: NewIssue): Promise<{ id: string; key: string }> {
    return this.call(`creating an issue in ${issue.project}`, CreatedIssueSchema, () =>
      this.api.issues.createIssue({
        fields: {
          project: { key: issue.project },
          issuetype: { name: issue.issueType },
          summary: issue.summary,
          // An ADF document of our own: jira.js passes objects through untouched.
          description: issue.description as never,
          labels: issue.labels,
        },
        properties: [{ key: REQUEST_PROPERTY, value: issue.property }],
      }),
    );
  }

  /** Status, labels and our request property of an issue, as Jira has it now. Undefined when it does not exist (or we may not see it). */
  issue(idOrKey: string): Promise<JiraIssue | undefined> {
    return this.read(`issue ${idOrKey}`, IssueSchema, () =>
      this.api.issues.getIssue({ issueIdOrKey: idOrKey, fields: ['status', 'labels', 'updated'], properties: [REQUEST_PROPERTY] }),
    );
  }

  /** Issues matching `jql`, with key, status, labels and our property. */
  async search(jql: string): Promise<JiraIssue[]> {
    const found: JiraIssue[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const result = await this.call('a search (/search/jql)', SearchPageSchema, () =>
        this.api.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
          jql,
          maxResults: PAGE,
          fields: ['status', 'labels', 'updated'],
          properties: [REQUEST_PROPERTY],
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      for (const issue of result.issues) {
        if (issue.key === undefined) throw new JiraResponseError('a search', 'an issue without a key although fields were asked for');
        found.push({ ...issue, key: issue.key });
      }
      if (result.isLast !== false || !result.nextPageToken) break;
      nextPageToken = result.nextPageToken;
    }
    return found;
  }

  /** The newest status changes first is what decisions need: the last page of the changelog, newest first. */
  async recentHistory(idOrKey: string): Promise<ChangelogHistory[]> {
    const first = await this.call(`the changelog of ${idOrKey}`, ChangelogPageSchema, () =>
      this.api.issues.getChangeLogs({ issueIdOrKey: idOrKey, startAt: 0, maxResults: PAGE }),
    );
    let values = first.values;
    if (first.total > first.values.length) {
      const last = await this.call(`the changelog of ${idOrKey}`, ChangelogPageSchema, () =>
        this.api.issues.getChangeLogs({ issueIdOrKey: idOrKey, startAt: Math.max(0, first.total - PAGE), maxResults: PAGE }),
      );
      values = last.values;
    }
    return [...values].sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || Number(b.id) - Number(a.id));
  }

  async transitions(idOrKey: string): Promise<JiraTransition[]> {
    const result = await this.call(`the transitions of ${idOrKey}`, TransitionsSchema, () => this.api.issues.getTransitions({ issueIdOrKey: idOrKey }));
    return result.transitions;
  }

  async transition(idOrKey: string, transitionId: string): Promise<void> {
    await this.write(`moving ${idOrKey} (transition ${transitionId})`, () =>
      this.api.issues.doTransition({ issueIdOrKey: idOrKey, transition: { id: transitionId } }),
    );
  }

  async addComment(idOrKey: string, body: AdfNode): Promise<void> {
    await this.write(`a comment on ${idOrKey}`, () => this.api.issueComments.addComment({ issueIdOrKey: idOrKey, comment: body as never }));
  }

  /** The newest comments first (up to 100). */
  async recentComments(idOrKey: string): Promise<JiraComment[]> {
    const page = await this.call(`the comments of ${idOrKey}`, CommentPageSchema, () =>
      this.api.issueComments.getComments({ issueIdOrKey: idOrKey, orderBy: '-created', maxResults: PAGE }),
    );
    return [...page.comments].sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async read<T>(what: string, schema: z.ZodType<T>, run: () => Promise<unknown>): Promise<T | undefined> {
    try {
      return await this.call(what, schema, run);
    } catch (err) {
      if (err instanceof JiraApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  private async call<T>(what: string, schema: z.ZodType<T>, run: () => Promise<unknown>): Promise<T> {
    const body = await this.write(what, run);
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new JiraResponseError(what, parsed.error.issues[0]?.message ?? 'unexpected shape');
    return parsed.data;
  }

  private async write(what: string, run: () => Promise<unknown>): Promise<unknown> {
    try {
      return await run();
    } catch (err) {
      throw this.translate(what, err);
    }
  }

  private translate(what: string, err: unknown): Error {
    const status = err instanceof HttpException ? err.status : (err as { response?: { status?: unknown } } | undefined)?.response?.status;
    if (typeof status === 'number' && status > 0) {
      if (status === 401 || status === 403) return new JiraAuthError(what, status, { cause: err });
      if (status === 429 || status >= 500) return new JiraUnavailableError(what, `HTTP ${status}`, { cause: err });
      return new JiraApiError(what, status, errorDetail(err), { cause: err });
    }
    const code = (err as { code?: unknown } | undefined)?.code;
    const reason =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT'
        ? `no answer within ${this.options.timeoutMs} ms`
        : typeof code === 'string'
          ? code
          : err instanceof Error
            ? err.message.slice(0, 200)
            : 'unknown error';
    return new JiraUnavailableError(what, reason, { cause: err });
  }
}

/** Jira's own words from an error body (`errorMessages`, `errors`), cut short. */
function errorDetail(err: unknown): string {
  const data = (err as { response?: { data?: unknown } } | undefined)?.response?.data ?? (err as { data?: unknown } | undefined)?.data;
  if (data && typeof data === 'object') {
    const d = data as { errorMessages?: unknown; errors?: unknown };
    const parts: string[] = [];
    if (Array.isArray(d.errorMessages)) parts.push(...d.errorMessages.filter((m): m is string => typeof m === 'string'));
    if (d.errors && typeof d.errors === 'object') for (const [k, v] of Object.entries(d.errors)) parts.push(`${k}: ${String(v)}`);
    if (parts.length) return parts.join('; ').slice(0, 300);
  }
  return err instanceof Error ? err.message.slice(0, 200) : 'refused';
}

/**
 * The fetch axios's fetch adapter calls, counted by the metrics. The adapter passes a `Request`
 * (URL, method, headers and body in it): the metrics read its URL and method, and the original
 * goes out untouched.
 */
function countingFetch(calls: ExternalCallMetrics): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const counted = calls.restFetch('jira', () => fetch(input, init));
    return counted(request ? request.url : (input as string | URL), { ...init, method: request?.method ?? init?.method ?? 'GET' });
  };
}
