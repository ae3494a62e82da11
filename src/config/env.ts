import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SESSION_WRAPPER_PATH } from '../ca/ssh/session-force-command';
import { ConfigError } from '../errors/config-error';
import { formatDuration, parseDuration } from './duration';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const durationString = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration like 15m, 4h or 2d` });
        return z.NEVER;
      }
      return ms;
    });

/** `10/1m`: at most 10 per minute. */
const rateString = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const match = /^\s*(\d{1,6})\s*\/\s*(\S+)\s*$/.exec(v);
      const windowMs = match ? parseDuration(match[2]!) : undefined;
      if (!match || windowMs === undefined || Number(match[1]) < 1) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate like 10/1m (at least 1 per window)` });
        return z.NEVER;
      }
      return { limit: Number(match[1]), windowMs };
    });
const optionalDuration = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration like 30d or 12h` });
      return z.NEVER;
    }
    return ms;
  });

const optionalUrl = () =>
  optionalString.refine((v) => v === undefined || URL.canParse(v), { message: 'must be a URL' });
const urlWithDefault = (fallback: string) => z.string().trim().url({ message: 'must be a URL' }).default(fallback);

const EnvSchema = z.object({
  REDIS_URL: z.string().trim().default('redis://127.0.0.1:6379'),
  /** TLS to Redis (`rediss://` URLs): a CA bundle to trust, and a client certificate when Redis asks for one. */
  REDIS_TLS_CA_FILE: optionalString,
  REDIS_TLS_CERT_FILE: optionalString,
  REDIS_TLS_KEY_FILE: optionalString,
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('access-bot'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().default('0.0.0.0'),
  /** `access-bot worker`'s own HTTP listener: /healthz, /readyz, /metrics (0 picks a free port). */
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** json, pretty, or unset: pretty when stderr is a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PUBLIC_URL: optionalUrl(),
  WORKFLOWS_DIR: z.string().trim().default('./workflows'),
  CA_DIR: z.string().trim().default('./ca'),
  SSH_SESSION_WRAPPER: z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9._/+-]+$/, 'an absolute path')
    .default(DEFAULT_SESSION_WRAPPER_PATH),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  /** How soon a dead worker's jobs are retried (BullMQ lock duration and stalled-job check). */
  WORKER_STALLED_CHECK: durationString('30s'),
  EXPIRY_WARNING: durationString('10m'),
  /** Tries of a DM to a requester (the certificate, a refusal) before it is audited as failed, and the first wait between them (doubling). */
  DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
  DELIVERY_BACKOFF: durationString('1s'),
  /** How often servers fetch the KRL and CRLs (docs/ca-trust.md): revoke messages say how soon a revocation takes effect. */
  KRL_REFRESH_INTERVAL: durationString('1m'),
  RECONCILE_INTERVAL: durationString('1m'),
  /** How often a worker asks Slack whether holders of grants, requesters and voters are still active (Slack on). */
  OFFBOARDING_SWEEP_INTERVAL: durationString('1h'),
  /** Requests one person may make per window (`/access` submissions, extensions, break-glass). */
  RATE_LIMIT_REQUESTS: rateString('10/1m'),
  /** Refusals of one person written to the audit log per window; beyond it they are counted, then reported as one event. */
  RATE_LIMIT_REFUSALS: rateString('20/1m'),
  AUDIT_LOG_FILE: optionalString,
  AUDIT_WEBHOOK_URL: optionalUrl(),
  AUDIT_WEBHOOK_SECRET: optionalString,
  /** PostgreSQL archive of the audit log (docs/audit.md). */
  AUDIT_DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  /** With the archive on: archived audit events older than this leave Redis (the chain anchor stays). */
  AUDIT_REDIS_RETENTION: optionalDuration,
  /** Closed request records older than this are removed (default: AUDIT_REDIS_RETENTION; unset: kept). */
  REQUEST_RETENTION: optionalDuration,

  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalUrl(),
  /**
   * Multiplies Slack's published per-method rate tiers that outgoing calls are paced to (Tier 3 is
   * "50+ per minute"): raise it only when Slack granted the app more. 429s are honoured either way.
   */
  SLACK_RATE_SCALE: z.coerce.number().min(0.01).max(1000).default(1),

  JIRA_URL: optionalUrl(),
  JIRA_EMAIL: optionalString,
  JIRA_API_TOKEN: optionalString,
  JIRA_WEBHOOK_SECRET: optionalString,
  /** How often access-bot's issues updated since the last look are read (the fallback for lost webhooks). */
  JIRA_POLL_INTERVAL: durationString('1m'),
  /** One Jira call's limit: `10s`, or milliseconds like `800ms`. */
  JIRA_TIMEOUT: z
    .string()
    .default('10s')
    .transform((v, ctx) => {
      const ms = /^\s*(\d{1,6})\s*ms\s*$/.exec(v) ? Number(/(\d+)/.exec(v)?.[1]) : parseDuration(v.trim());
      if (ms === undefined || ms < 50 || ms > 120_000) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a timeout between 50ms and 120s, like 10s or 800ms` });
        return z.NEVER;
      }
      return ms;
    }),

  PAGERDUTY_TOKEN: optionalString,
  PAGERDUTY_API_URL: urlWithDefault('https://api.pagerduty.com'),
  PAGERDUTY_FROM_EMAIL: optionalString.refine((v) => v === undefined || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), { message: 'must be an email address' }),
  PAGERDUTY_WEBHOOK_SECRET: optionalString,
  /** One PagerDuty call's limit (reads are retried twice): `3s`, or milliseconds like `500ms`. */
  PAGERDUTY_TIMEOUT: z
    .string()
    .default('3s')
    .transform((v, ctx) => {
      const ms = /^\s*(\d{1,6})\s*ms\s*$/.exec(v) ? Number(/(\d+)/.exec(v)?.[1]) : parseDuration(v.trim());
      if (ms === undefined || ms < 50 || ms > 60_000) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a timeout between 50ms and 60s, like 3s or 500ms` });
        return z.NEVER;
      }
      return ms;
    }),
});

export type RawEnv = z.infer<typeof EnvSchema>;

export interface SlackSettings {
  botToken: string;
  /** HTTP mode when set. */
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  apiUrl?: string;
  /** SLACK_RATE_SCALE. */
  rateScale: number;
}
export interface JiraSettings {
  /** The site's base URL, without a trailing slash (https, or http on loopback only). */
  url: string;
  email: string;
  apiToken: string;
  webhookSecret: string;
  pollIntervalMs: number;
  timeoutMs: number;
}
export interface PagerDutySettings {
  token: string;
  apiUrl: string;
  /** The `From:` of writes (incident notes): the email of a PagerDuty user. */
  fromEmail: string;
  webhookSecret: string;
  timeoutMs: number;
}

/** TLS material for `rediss://`, read at start so a missing file stops the start with its name. */
export interface RedisTlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface Env extends RawEnv {
  redisTls?: RedisTlsSettings;
  slack?: SlackSettings;
  jira?: JiraSettings;
  pagerduty?: PagerDutySettings;
}

/**
 * Reads the environment. Every integration is off when all its settings are absent; a partial set
 * is an error, because half-configured security tooling should fail at start, not at the first request.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      'Invalid environment',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  const env: Env = { ...parsed.data };
  const problems: string[] = [];

  const s = parsed.data;
  const tlsFiles = { ca: s.REDIS_TLS_CA_FILE, cert: s.REDIS_TLS_CERT_FILE, key: s.REDIS_TLS_KEY_FILE };
  if (tlsFiles.ca || tlsFiles.cert || tlsFiles.key) {
    if (!/^rediss:\/\//i.test(s.REDIS_URL)) problems.push('REDIS_TLS_* is set, but REDIS_URL does not start with rediss:// (TLS)');
    if (Boolean(tlsFiles.cert) !== Boolean(tlsFiles.key)) problems.push('REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together');
    const tls: RedisTlsSettings = {};
    for (const [name, file] of Object.entries(tlsFiles) as [keyof RedisTlsSettings, string | undefined][]) {
      if (!file) continue;
      try {
        tls[name] = readFileSync(file);
      } catch (err) {
        problems.push(`REDIS_TLS_${name.toUpperCase()}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    env.redisTls = tls;
  }
  if (s.SLACK_BOT_TOKEN || s.SLACK_SIGNING_SECRET || s.SLACK_APP_TOKEN) {
    if (!s.SLACK_BOT_TOKEN) problems.push('SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
    if (!s.SLACK_SIGNING_SECRET && !s.SLACK_APP_TOKEN)
      problems.push('set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) with SLACK_BOT_TOKEN');
    if (s.SLACK_BOT_TOKEN && (s.SLACK_SIGNING_SECRET || s.SLACK_APP_TOKEN)) {
      env.slack = {
        botToken: s.SLACK_BOT_TOKEN,
        rateScale: s.SLACK_RATE_SCALE,
        ...(s.SLACK_SIGNING_SECRET ? { signingSecret: s.SLACK_SIGNING_SECRET } : {}),
        ...(s.SLACK_APP_TOKEN ? { appToken: s.SLACK_APP_TOKEN } : {}),
        ...(s.SLACK_API_URL ? { apiUrl: s.SLACK_API_URL.endsWith('/') ? s.SLACK_API_URL : `${s.SLACK_API_URL}/` } : {}),
      };
    }
  }

  // All or none, like PagerDuty: a Jira that opens issues but cannot hear their transitions (or the
  // reverse) would leave requests unseen.
  const jira = { JIRA_URL: s.JIRA_URL, JIRA_EMAIL: s.JIRA_EMAIL, JIRA_API_TOKEN: s.JIRA_API_TOKEN, JIRA_WEBHOOK_SECRET: s.JIRA_WEBHOOK_SECRET };
  const jiraSet = Object.entries(jira).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (jiraSet.length === 4 && s.JIRA_URL && s.JIRA_EMAIL && s.JIRA_API_TOKEN && s.JIRA_WEBHOOK_SECRET) {
    const url = new URL(s.JIRA_URL);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
      problems.push(`JIRA_URL must be https:// (http:// only for a loopback address such as 127.0.0.1): the API token travels with every call`);
    else
      env.jira = {
        url: s.JIRA_URL.replace(/\/+$/, ''),
        email: s.JIRA_EMAIL,
        apiToken: s.JIRA_API_TOKEN,
        webhookSecret: s.JIRA_WEBHOOK_SECRET,
        pollIntervalMs: s.JIRA_POLL_INTERVAL,
        timeoutMs: s.JIRA_TIMEOUT,
      };
  } else if (jiraSet.length > 0) {
    const missing = Object.keys(jira).filter((k) => !jiraSet.includes(k));
    problems.push(`Jira needs all of JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_WEBHOOK_SECRET (missing: ${missing.join(', ')})`);
  }

  // All or none: a PagerDuty that can read but not take webhooks, or take them but not write notes,
  // is half a security control. PAGERDUTY_API_URL counts when it was set explicitly.
  const pagerduty = {
    PAGERDUTY_TOKEN: s.PAGERDUTY_TOKEN,
    PAGERDUTY_FROM_EMAIL: s.PAGERDUTY_FROM_EMAIL,
    PAGERDUTY_WEBHOOK_SECRET: s.PAGERDUTY_WEBHOOK_SECRET,
  };
  const apiUrlSet = typeof source.PAGERDUTY_API_URL === 'string' && source.PAGERDUTY_API_URL.trim() !== '';
  const set = Object.entries(pagerduty).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (set.length === 3 && s.PAGERDUTY_TOKEN && s.PAGERDUTY_FROM_EMAIL && s.PAGERDUTY_WEBHOOK_SECRET) {
    env.pagerduty = {
      token: s.PAGERDUTY_TOKEN,
      apiUrl: s.PAGERDUTY_API_URL.replace(/\/+$/, ''),
      fromEmail: s.PAGERDUTY_FROM_EMAIL,
      webhookSecret: s.PAGERDUTY_WEBHOOK_SECRET,
      timeoutMs: s.PAGERDUTY_TIMEOUT,
    };
  } else if (set.length > 0 || apiUrlSet) {
    const missing = Object.keys(pagerduty).filter((k) => !set.includes(k));
    problems.push(`PagerDuty needs all of PAGERDUTY_TOKEN, PAGERDUTY_FROM_EMAIL and PAGERDUTY_WEBHOOK_SECRET (missing: ${missing.join(', ')})`);
  }

  if (s.AUDIT_REDIS_RETENTION !== undefined && !s.AUDIT_DATABASE_URL)
    problems.push('AUDIT_REDIS_RETENTION needs AUDIT_DATABASE_URL: without the archive, trimmed events would exist nowhere');
  if (s.REQUEST_RETENTION === undefined && s.AUDIT_REDIS_RETENTION !== undefined) env.REQUEST_RETENTION = s.AUDIT_REDIS_RETENTION;

  if (problems.length) throw new ConfigError('Invalid environment', problems);
  return env;
}

/** One line per integration, logged at start so an operator sees what is on and what is off. */
export function describeIntegrations(env: Env): string[] {
  return [
    env.slack
      ? `slack: on (${env.slack.appToken && !env.slack.signingSecret ? 'Socket Mode' : 'HTTP'}${env.slack.apiUrl ? `, API ${env.slack.apiUrl}` : ''})`
      : 'slack: off (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)',
    env.jira
      ? `jira: on (${env.jira.url} as ${env.jira.email}, webhook POST /webhooks/jira, polled every ${formatDuration(env.jira.pollIntervalMs)})`
      : 'jira: off (set JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_WEBHOOK_SECRET): workflows that approve in Jira reach their approvers by Slack DM',
    env.pagerduty
      ? `pagerduty: on (API ${env.pagerduty.apiUrl}, notes from ${env.pagerduty.fromEmail}, webhook POST /webhooks/pagerduty; the worker needs these settings too, to re-check break-glass)`
      : 'pagerduty: off (set PAGERDUTY_TOKEN, PAGERDUTY_FROM_EMAIL and PAGERDUTY_WEBHOOK_SECRET): break-glass is refused and on-call approvers resolve to no one',
    env.AUDIT_LOG_FILE ? `audit JSONL sink: ${env.AUDIT_LOG_FILE === '-' ? 'stdout' : env.AUDIT_LOG_FILE}` : 'audit JSONL sink: off (set AUDIT_LOG_FILE)',
    env.AUDIT_WEBHOOK_URL ? `audit webhook sink: ${env.AUDIT_WEBHOOK_URL}` : 'audit webhook sink: off (set AUDIT_WEBHOOK_URL)',
    env.AUDIT_DATABASE_URL
      ? `audit archive: PostgreSQL at ${redactUrl(env.AUDIT_DATABASE_URL)}${env.AUDIT_REDIS_RETENTION ? `; Redis keeps ${formatDuration(env.AUDIT_REDIS_RETENTION)} of archived events` : '; Redis keeps every event'}`
      : 'audit archive: off (set AUDIT_DATABASE_URL; Redis keeps every event)',
    env.REQUEST_RETENTION ? `closed request records: removed after ${formatDuration(env.REQUEST_RETENTION)}` : 'closed request records: kept (set REQUEST_RETENTION)',
  ];
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A URL with its password hidden, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
