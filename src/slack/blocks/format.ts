import { formatDuration } from '../../config/duration';

export { formatDuration };
import type { Resource, Workflow } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';

/** Slack's limits for what we send (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  sectionText: 3000,
  sectionField: 2000,
  sectionFields: 10,
  contextText: 2000,
  headerText: 150,
  blocksPerMessage: 50,
  /** The top-level `text` of a message: Slack truncates beyond 40,000; notifications show far less. */
  fallbackText: 3000,
} as const;

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * Characters that change how the text around them reads without being seen themselves. Bidi
 * embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)
 * reorder what an approver reads: "fix\u202Egnp.exe" shows as "fixexe.png". U+2028 and U+2029
 * break lines where no newline seems to be. C0 and C1 controls other than tab, newline and
 * carriage return have no business in a reason. Zero-width joiners stay (emoji need them), and
 * so does right-to-left text itself.
 */
const INVISIBLE_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/**
 * Replaces each invisible control with a visible tag (`[U+202E]`), so a person sees that something
 * odd was typed rather than being misled by it. The audit log keeps the text as typed.
 */
export function neutraliseControls(text: string): string {
  return text.replace(INVISIBLE_CONTROLS, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

/**
 * Escapes the three characters Slack reads as control sequences in mrkdwn and plain text, and
 * neutralises invisible controls. Applied to everything that comes from people (reasons, tickets,
 * comments), so `<!channel>` in a reason is shown, never sent, and a right-to-left override is seen.
 */
export function escapeText(text: string): string {
  return neutraliseControls(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<@U123>`, which Slack shows as the person's name; anything that is not a user id is shown as text. */
export function mention(userId: string): string {
  return SLACK_USER_ID.test(userId) ? `<@${userId}>` : `\`${escapeText(userId)}\``;
}

/** "<@A>", "<@A> and <@B>", "<@A>, <@B> and <@C>"; `none` when empty. */
export function mentionList(userIds: readonly string[], none = 'nobody'): string {
  const unique = [...new Set(userIds)].map(mention);
  if (unique.length === 0) return none;
  if (unique.length === 1) return unique[0] ?? none;
  return `${unique.slice(0, -1).join(', ')} and ${unique.at(-1) ?? ''}`;
}

/** What people without Slack's date rendering (notifications, old clients, logs) see: `2024-05-01 14:00 UTC`. */
export function fallbackTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A time Slack shows in each reader's own time zone and locale: `<!date^1714572000^{date_short_pretty} {time}|2024-05-01 14:00 UTC>`.
 */
export function slackTime(epochMs: number, format = '{date_short_pretty} {time}'): string {
  return `<!date^${Math.floor(epochMs / 1000)}^${format}|${fallbackTime(epochMs)}>`;
}

/** `in 1h30m` or `1h30m ago`, relative to `now` (for notices read soon after they are sent). */
export function relativeTime(epochMs: number, now: number): string {
  const delta = epochMs - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/**
 * Cuts `text` to at most `max` characters, marking the cut with an ellipsis. Every block builder
 * caps its text with it, plain_text headers and labels included, so it neutralises invisible
 * controls too: a second line of defence for text that skipped escapeText.
 */
export function truncate(text: string, max: number): string {
  const shown = neutraliseControls(text);
  return shown.length <= max ? shown : `${shown.slice(0, Math.max(0, max - 1))}…`;
}

/** A mrkdwn block quote of text from a person (escaped), every line quoted. */
export function quote(text: string, max = 1500): string {
  return truncate(escapeText(text.trim()), max)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}

/** A mrkdwn code block; the content is escaped (Slack still reads `<…>` inside code). */
export function codeBlock(text: string): string {
  return `\`\`\`${escapeText(text)}\`\`\``;
}

/** Inline code for identifiers from configuration (resource names, principals). */
export function code(text: string): string {
  return `\`${escapeText(text.replace(/`/g, "'"))}\``;
}

/** `2 of 2: security` (stage index is 0-based). */
export function stageLabel(stage: number, workflow: Workflow | undefined): string {
  const total = workflow?.stages.length;
  const name = workflow?.stages[stage]?.name;
  return `${stage + 1}${total !== undefined ? ` of ${total}` : ''}${name ? `: ${name}` : ''}`;
}

/** `prod-db`: Production database (the resource may have left the policy since the request). */
export function resourceLine(request: AccessRequest, resource: Resource | undefined): string {
  return resource ? `${code(request.resource)}: ${escapeText(resource.description)}` : code(request.resource);
}

/** The fields every message about a request shows, as mrkdwn. Shared by messages, the App Home and modals. */
export interface RequestSummary {
  requester: string;
  resource: string;
  duration: string;
  reason: string;
  ticket?: string;
}

export function requestSummary(request: AccessRequest, resource: Resource | undefined): RequestSummary {
  const window =
    request.approvedAt !== undefined && request.expiresAt !== undefined
      ? `${formatDuration(request.grantedMs)}, until ${slackTime(request.expiresAt)}`
      : `${formatDuration(request.grantedMs)} (access starts at approval)`;
  return {
    requester: mention(request.requester.id),
    resource: resourceLine(request, resource),
    duration: window,
    reason: request.reason.trim() ? quote(request.reason) : '_none given_',
    ...(request.ticket ? { ticket: escapeText(request.ticket) } : {}),
  };
}

/** ` · Jira <url|OPS-12>` after a request id, when the request has a Jira issue (empty otherwise). */
export function jiraIssueLink(request: { jiraIssue?: { key: string; url: string } }): string {
  const issue = request.jiraIssue;
  if (!issue || !/^https?:\/\//.test(issue.url)) return '';
  return ` · Jira <${issue.url.replace(/[<>|]/g, '')}|${escapeText(issue.key)}>`;
}
