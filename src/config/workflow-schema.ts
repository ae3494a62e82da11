import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';

/**
 * The schema of `workflows/*.yaml`. Keys are snake_case in the files and stay snake_case in the
 * parsed policy, so an error message, the docs and the code all use the same field names.
 * Every object is strict: an unknown key is an error, never silently ignored.
 */

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const Name = z
  .string()
  .regex(NAME_PATTERN, 'use lowercase letters, digits, ".", "_" and "-" (at most 63 characters)');

export const Duration = z
  .string()
  // abort: a malformed duration gets one message, and the refinements around it (default <= max,
  // reminder < timeout) do not run on the raw string and report a second, wrong problem.
  .regex(new RegExp(DURATION_PATTERN), { message: 'a duration like 15m, 4h, 2d or 1h30m', abort: true })
  .refine((v) => parseDuration(v) !== undefined, { message: 'a duration greater than zero', abort: true })
  .transform((v) => parseDuration(v) as number)
  .describe('Duration: a number followed by d, h, m or s, combined largest first, e.g. 15m, 4h, 2d, 1h30m');

const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id like U012ABCDEF');
const Email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address');
/** A person: Slack user id, or email (linked to Slack, Jira and PagerDuty users by email). */
const UserRef = z
  .union([SlackUserId, Email], { error: 'a Slack user id like U012ABCDEF or an email address' })
  .describe('A Slack user id (U012ABCDEF) or an email address');
/** A Slack user group: its id (S012ABC) or its handle (db-admins, with or without @). */
const GroupRef = z
  .string()
  .regex(/^(S[A-Z0-9]{2,}|@?[a-z0-9][a-z0-9._-]*)$/, 'a Slack user group id (S012ABC) or handle (db-admins)')
  .transform((v) => v.replace(/^@/, ''))
  .describe('A Slack user group id (S012ABCDEF) or handle (db-admins)');
const ChannelId = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,}$/, 'a Slack channel id like C012ABCDEF (names change, ids do not)')
  .describe('A Slack channel id like C012ABCDEF');
const PagerDutyId = z.string().regex(/^P[A-Z0-9]{5,}$/, 'a PagerDuty id like PABC123');

const RegexSource = z
  .string()
  .min(1)
  .max(500)
  .refine((v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

/** Who may do something: everyone, or listed users and Slack user groups. */
export const PeopleSchema = z
  .strictObject({
    everyone: z.boolean().optional().describe('Anyone in the Slack workspace'),
    users: z.array(UserRef).max(500).optional().describe('Slack user ids (U012ABCDEF) or email addresses'),
    slack_groups: z.array(GroupRef).max(100).optional().describe('Slack user groups, by id (S012ABCDEF) or handle (db-admins)'),
  })
  .refine((p) => p.everyone === true || (p.users?.length ?? 0) + (p.slack_groups?.length ?? 0) > 0, {
    message: 'name someone: everyone: true, users or slack_groups',
  });

export const OnCallSchema = z.strictObject({
  escalation_policy: PagerDutyId.describe('PagerDuty escalation policy id'),
  levels: z
    .array(z.number().int().min(1).max(20))
    .min(1)
    .default([1])
    .describe('Escalation levels whose current on-call may approve (default: level 1)'),
});

export const ApproversSchema = z
  .strictObject({
    users: z.array(UserRef).max(500).optional().describe('Slack user ids (U012ABCDEF) or email addresses'),
    slack_groups: z.array(GroupRef).max(100).optional().describe('Members of these Slack user groups, by id (S012ABCDEF) or handle'),
    pagerduty_oncall: OnCallSchema.optional().describe('The current PagerDuty on-call of an escalation policy'),
    jira_account_ids: z
      .array(z.string().regex(/^[A-Za-z0-9:_-]{6,128}$/, 'a Jira Cloud accountId like 5b10ac8d82e05b22cc7d4ef5'))
      .max(100)
      .optional()
      .describe('Jira Cloud accountIds who may decide this stage by moving its issue (for Jira sites that hide emails); they approve in Jira only'),
  })
  .refine(
    (a) =>
      (a.users?.length ?? 0) + (a.slack_groups?.length ?? 0) + (a.jira_account_ids?.length ?? 0) > 0 || a.pagerduty_oncall !== undefined,
    { message: 'name at least one approver: users, slack_groups, pagerduty_oncall or jira_account_ids' },
  );

export const StageSchema = z.strictObject({
  name: z.string().min(1).max(64).describe('Shown to requesters and approvers, e.g. "team lead"'),
  approvers: ApproversSchema.describe('Who may approve in this stage'),
  approvals: z.number().int().min(1).max(10).default(1).describe('Distinct approvals needed to pass this stage'),
  timeout: Duration.optional().describe('How long the stage waits for its approvals'),
  on_timeout: z
    .enum(['escalate', 'expire'])
    .optional()
    .describe(
      'escalate: move to the next stage (the default when there is one); expire: the request times out. The last stage always expires.',
    ),
  reminder: Duration.optional().describe('First reminder to the stage approvers; later reminders back off (x2)'),
});

const PRINCIPAL_TEMPLATE = /^(?:[A-Za-z0-9._@-]|\{\{user\.(?:username|email|id)\}\})+$/;
export const SshCertificateSchema = z.strictObject({
  principals: z
    .array(
      z
        .string()
        .regex(
          PRINCIPAL_TEMPLATE,
          'letters, digits, . _ @ - and the templates {{user.username}}, {{user.email}}, {{user.id}}',
        ),
    )
    .min(1, 'a certificate needs at least one principal (sshd refuses an empty list)')
    .max(32)
    .describe('Login names the certificate is valid for; never taken from user input'),
  extensions: z
    .array(
      z
        .string()
        .regex(
          /^(permit-X11-forwarding|permit-agent-forwarding|permit-port-forwarding|permit-pty|permit-user-rc|no-touch-required|[a-z0-9._-]+@[a-z0-9.-]+)$/,
          'an OpenSSH extension (permit-pty, permit-port-forwarding, permit-agent-forwarding, permit-X11-forwarding, permit-user-rc, no-touch-required) or name@domain',
        ),
    )
    .max(16)
    .default(['permit-pty'])
    .describe('OpenSSH certificate extensions; a list here replaces the default [permit-pty]'),
  source_address: z
    .array(z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'an IP address or CIDR block'))
    .min(1)
    .max(32)
    .optional()
    .describe('Critical option source-address: client addresses the certificate may be used from'),
  force_command: z.string().min(1).max(1000).optional().describe('Critical option force-command'),
  end_sessions_at_expiry: z
    .boolean()
    .default(false)
    .describe('End open sessions when the certificate expires (needs the force-command wrapper on servers)'),
  hosts: z
    .array(z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$/, 'a host name or address, optionally with :port'))
    .min(1)
    .max(32)
    .optional()
    .describe('For display only: the servers the certificate is for, shown to approvers and in the login command sent with it'),
});

export const X509CertificateSchema = z.strictObject({
  common_name: z
    .enum(['{{user.email}}', '{{user.username}}', '{{user.id}}'])
    .default('{{user.email}}')
    .describe('Subject CN'),
  groups: z
    .array(z.string().min(1).max(64).regex(/^[^,+"\\<>;=]+$/, 'no , + " \\ < > ; = in a group'))
    .max(32)
    .default([])
    .describe('Subject O values (Kubernetes groups); only these, never taken from user input'),
  usage: z.enum(['kubernetes', 'database', 'mtls']).default('mtls').describe('Decides the usage snippet sent with the certificate'),
  kubernetes: z
    .strictObject({
      cluster: z.string().min(1).max(100).describe('Cluster name in the kubeconfig snippet'),
      server: z.string().url().describe('API server URL, e.g. https://k8s.example.com:6443'),
    })
    .optional()
    .describe('Cluster name and API server for the kubeconfig snippet'),
});

export const ResourceSchema = z
  .strictObject({
    description: z.string().min(1).max(300).describe('Shown to requesters and approvers'),
    workflow: Name.describe('Name of the workflow that governs requests for this resource'),
    duration: z
      .strictObject({
        default: Duration.describe('Granted when the request names no duration, e.g. 1h'),
        max: Duration.describe('The longest access a request can get; longer requests are refused, naming this limit, e.g. 4h'),
      })
      .refine((d) => d.default <= d.max, { message: 'default is longer than max', path: ['default'] })
      .describe('How long access lasts, counted from approval'),
    pagerduty_service: PagerDutyId.optional().describe('PagerDuty service whose on-call and incidents apply'),
    risk: z
      .strictObject({
        level: z.enum(['high', 'medium']).describe('high: shown first and prominently to approvers; medium: shown as a warning'),
        note: z.string().min(1).max(300).describe('One sentence approvers read: what this access can do that makes it risky'),
      })
      .optional()
      .describe('A risk marker shown to approvers on every approval message, e.g. { level: high, note: "Reads every customer\'s card data" }'),
    ssh: SshCertificateSchema.optional().describe('Issue an OpenSSH user certificate (give exactly one of ssh, x509)'),
    x509: X509CertificateSchema.optional().describe('Issue an X.509 client certificate (give exactly one of ssh, x509)'),
  })
  .refine((r) => (r.ssh === undefined) !== (r.x509 === undefined), {
    message: 'a resource yields exactly one certificate kind: ssh or x509',
  });

export const JiraApprovalSchema = z.strictObject({
  project: z.string().regex(/^[A-Z][A-Z0-9_]{1,9}$/, 'a Jira project key like OPS').describe('Jira project key'),
  issue_type: z.string().min(1).max(60).default('Task').describe('Issue type of the request issues'),
  approved_status: z.string().min(1).max(60).default('Approved').describe('Moving the issue to this status approves'),
  denied_status: z.string().min(1).max(60).default('Declined').describe('Moving the issue to this status denies'),
  expired_status: z
    .string()
    .min(1)
    .max(60)
    .optional()
    .describe('access-bot moves the issue here when the request ends without a grant in force (expired, revoked, cancelled, timed out); unset: it stays where it is'),
});

export const ApprovalRouteSchema = z
  .strictObject({
    slack_channel: ChannelId.optional().describe('Post approval requests in this channel'),
    slack_dm: z.boolean().optional().describe('Send approval requests to each approver of the stage by DM'),
    jira: JiraApprovalSchema.optional().describe('Open a Jira issue per request; moving it decides'),
  })
  .refine((a) => a.slack_channel !== undefined || a.slack_dm === true || a.jira !== undefined, {
    message: 'say where approval happens: slack_channel, slack_dm: true or jira',
  });

export const AutoApproveRuleSchema = z.strictObject({
  requesters: PeopleSchema.describe('Whose requests this rule approves'),
  max_duration: Duration.describe('Requests up to this long are approved without a person'),
});

export const OnIncidentSchema = z.strictObject({
  services: z
    .array(PagerDutyId)
    .min(1)
    .optional()
    .describe("Incidents on these services grant their assignees (default: every one of the break-glass pagerduty_services; each must be one of them)"),
  grace: Duration.optional().describe(
    'When the incident resolves, end its grants this long afterwards instead of at once (off by default: revoked at once)',
  ),
});

export const BreakGlassSchema = z.strictObject({
  requesters: PeopleSchema.optional().describe(
    "Who may break glass (besides being on call). Default: the workflow's requesters. Write `everyone: true` to let anyone on call break glass.",
  ),
  pagerduty_services: z.array(PagerDutyId).min(1).describe('On-call for one of these services may break glass'),
  oncall_levels: z
    .array(z.number().int().min(1).max(20))
    .min(1)
    .default([1])
    .describe('Escalation levels of a service\'s escalation policy whose current on-call may break glass (default: level 1)'),
  require_active_incident: z
    .boolean()
    .default(true)
    .describe('Only while one of the services has a triggered or acknowledged incident'),
  max_duration: Duration.prefault('1h').describe('The longest break-glass access; longer break-glass requests are refused (default 1h)'),
  notify: z
    .strictObject({ slack_channel: ChannelId.optional(), users: z.array(UserRef).max(100).optional() })
    .optional()
    .describe('Told at once when someone breaks glass'),
  review_required: z.boolean().default(true).describe('A post-incident review must be closed for each use'),
  reviewers: ApproversSchema.optional().describe('Who closes the post-incident review (default: admins)'),
  review_reminder: Duration.prefault('24h').describe(
    'First reminder to the reviewers while a post-incident review is open; later reminders back off (x2)',
  ),
  on_incident: OnIncidentSchema.optional().describe(
    'Grant access without a request to the responders PagerDuty assigns to an incident on these services, revoked when it resolves (needs the PagerDuty webhook)',
  ),
});

export const WorkflowSchema = z
  .strictObject({
    description: z.string().max(300).optional().describe('What the workflow is for'),
    requesters: PeopleSchema.describe('Who may request resources governed by this workflow'),
    reason: z
      .strictObject({
        required: z.boolean().default(true),
        pattern: RegexSource.optional().describe('JavaScript regular expression the reason must match'),
        hint: z.string().min(1).max(200).optional().describe('Shown to the requester, and when the pattern fails'),
      })
      .default({ required: true })
      .describe('The reason the requester gives (required by default)'),
    ticket: z
      .strictObject({
        required: z.boolean().default(false),
        pattern: RegexSource.optional().describe('JavaScript regular expression the ticket reference must match'),
        hint: z.string().min(1).max(200).optional().describe('Shown to the requester, and when the pattern fails'),
      })
      .optional()
      .describe('A ticket reference (Jira key, change number) given with the request'),
    stages: z.array(StageSchema).min(1).max(5).describe('Approval stages, in order; each must pass before the next starts'),
    distinct_approvers: z.boolean().default(true).describe('One person approves in one stage only'),
    approval: ApprovalRouteSchema.default({ slack_dm: true }).describe('Where approvers are asked and decide (default: Slack DMs)'),
    self_approval: z.boolean().default(false).describe('Whether requesters may approve their own requests'),
    pending_ttl: Duration.prefault('24h').describe('A request still pending after this long times out'),
    auto_approve: z
      .array(AutoApproveRuleSchema)
      .max(20)
      .default([])
      .describe('Requests matching a rule are approved without a person'),
    break_glass: BreakGlassSchema.optional().describe('Lets on-call get access at once during an incident, reviewed afterwards'),
  })
  .superRefine((w, ctx) => {
    const last = w.stages.length - 1;
    w.stages.forEach((s, i) => {
      if (s.on_timeout === 'escalate' && i === last)
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'on_timeout'], message: 'the last stage has no stage to escalate to' });
      if (s.on_timeout !== undefined && s.timeout === undefined)
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'on_timeout'], message: 'on_timeout needs a timeout' });
      if (s.reminder !== undefined && s.timeout !== undefined && s.reminder >= s.timeout)
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'reminder'], message: 'reminder must come before the timeout' });
    });
    if (!w.approval.jira)
      w.stages.forEach((s, i) => {
        if (s.approvers.jira_account_ids?.length)
          ctx.addIssue({
            code: 'custom',
            path: ['stages', i, 'approvers', 'jira_account_ids'],
            message: 'Jira accounts decide by moving the request\'s issue: add approval.jira, or name these approvers in Slack',
          });
      });
    const bg = w.break_glass;
    (bg?.on_incident?.services ?? []).forEach((service, i) => {
      if (!bg?.pagerduty_services.includes(service))
        ctx.addIssue({
          code: 'custom',
          path: ['break_glass', 'on_incident', 'services', i],
          message: `${service} is not one of break_glass.pagerduty_services`,
        });
    });
    if (w.reason.pattern !== undefined && !w.reason.required)
      ctx.addIssue({ code: 'custom', path: ['reason', 'pattern'], message: 'a pattern needs required: true' });
  });

/** A login name as servers know it: what a certificate principal renders to. */
export const LOGIN_PATTERN = /^[a-z_][a-z0-9._-]{0,31}$/;
const Login = z.string().regex(LOGIN_PATTERN, 'a login name: lowercase letters, digits, . _ - (at most 32), starting with a letter or _');
const EmailDomain = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'an email domain in lowercase, like example.com');

export const REVIEW_CADENCES = ['weekly', 'monthly', 'quarterly', 'yearly'] as const;

export const AccessReviewSchema = z.strictObject({
  description: z.string().min(1).max(300).optional().describe('Shown to reviewers'),
  cadence: z
    .enum(REVIEW_CADENCES)
    .describe('Calendar period reviewed (UTC): at the start of each period, reviewers get the previous one (quarterly: at the start of each quarter, the quarter before)'),
  reviewers: z
    .strictObject({
      users: z.array(UserRef).max(500).optional().describe('Slack user ids (U012ABCDEF) or email addresses'),
      slack_groups: z.array(GroupRef).max(100).optional().describe('Members of these Slack user groups, by id (S012ABCDEF) or handle'),
    })
    .refine((r) => (r.users?.length ?? 0) + (r.slack_groups?.length ?? 0) > 0, { message: 'name at least one reviewer: users or slack_groups' })
    .describe('Who confirms or removes each person\'s access; nobody reviews their own'),
  resources: z.array(Name).min(1).max(500).optional().describe('Resources reviewed (default: every resource)'),
});

export const WorkflowFileSchema = z
  .strictObject({
    admins: PeopleSchema.optional().describe(
      'Who may revoke or cancel anyone\'s access, close break-glass reviews and issue certificates from the CLI',
    ),
    resources: z
      .record(Name, ResourceSchema)
      .optional()
      .describe('What can be requested, by name: the certificate it yields, for how long, and the workflow that approves it'),
    workflows: z
      .record(Name, WorkflowSchema)
      .optional()
      .describe('Approval workflows, by name: who may request, what they must give, who approves and where'),
    identities: z
      .record(SlackUserId, Login)
      .optional()
      .describe('Slack user id → login name: what {{user.username}} renders to for that person; wins over the email'),
    allowed_email_domains: z
      .array(EmailDomain)
      .max(100)
      .optional()
      .describe(
        'Domains whose verified email addresses may become login names ({{user.username}}) and certificate subjects ({{user.email}}); without it only `identities` give login names',
      ),
    reserved_logins: z
      .array(Login)
      .max(500)
      .optional()
      .describe('Login names a template may never render to, added to the built-in list (root, admin, system accounts); a resource may still name one literally'),
    reviews: z
      .record(Name, AccessReviewSchema)
      .optional()
      .describe('Periodic access reviews, by name: reviewers confirm (Keep) or remove (Remove) each person who held a resource in the period'),
  })
  .describe('An access-bot workflow file (reference: docs/workflows.md)');

export type People = z.output<typeof PeopleSchema>;
export type Approvers = z.output<typeof ApproversSchema>;
export type Stage = z.output<typeof StageSchema>;
export type SshCertificateSpec = z.output<typeof SshCertificateSchema>;
export type X509CertificateSpec = z.output<typeof X509CertificateSchema>;
export type ResourceSpec = z.output<typeof ResourceSchema>;
export type WorkflowSpec = z.output<typeof WorkflowSchema>;
export type BreakGlassSpec = z.output<typeof BreakGlassSchema>;
export type OnIncidentSpec = z.output<typeof OnIncidentSchema>;
export type WorkflowFile = z.output<typeof WorkflowFileSchema>;
export type AccessReviewSpec = z.output<typeof AccessReviewSchema>;
