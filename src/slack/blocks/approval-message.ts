import type { types } from '@slack/bolt';
import type { Resource, Workflow } from '../../config/policy';
import type { AccessRequest, Review } from '../../engine/types';
import { approvalFacts, capabilityParts, recentGrantsText, roundedDuration, type ApprovalFacts } from '../../requests/approval-facts';
import {
  code,
  escapeText,
  formatDuration,
  jiraIssueLink,
  mention,
  mentionList,
  quote,
  requestSummary,
  SLACK_LIMITS,
  slackTime,
  stageLabel,
  truncate,
} from './format';

/** Interactive identifiers of the approval message (fixed with the Slack interaction handlers). */
export const APPROVAL_ACTIONS_BLOCK_ID = 'access.decision';
export const APPROVE_ACTION_ID = 'access.approve';
export const DENY_ACTION_ID = 'access.deny';
/** The context block the on-call adapter fills (PagerDuty: who is on call, open incidents). */
export const ONCALL_BLOCK_ID = 'access.oncall';
export const ONCALL_NOT_AVAILABLE = ':pager: On-call context: not available';

export type KnownBlock = types.KnownBlock;

/** A message as chat.postMessage / chat.update take it: blocks, and the text notifications show. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export interface ApprovalMessageInput {
  request: AccessRequest;
  /** From the current policy; absent when the resource or workflow has been removed since. */
  resource?: Resource;
  workflow?: Workflow;
  /** Whether this copy offers Approve/Deny while the request is pending (a DM to an earlier stage's approver does not). */
  decidable?: boolean;
  /** Set on the copy sent as the n-th reminder. */
  reminder?: number;
  /** mrkdwn for the on-call context slot; "not available" when absent. */
  oncallContext?: string;
  /** When the message is rendered, for time left on an extended grant; default: the request's last change. */
  now?: number;
  /** Said under the status when the stage's PagerDuty on-call resolved to nobody (the other approvers decide). */
  oncallNote?: string;
  /** Said under the status when the request reaches approvers here instead of where the workflow says (Jira off). */
  routeNote?: string;
}

function section(text: string, blockId?: string): KnownBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText) },
    ...(blockId ? { block_id: blockId } : {}),
  };
}

function context(text: string, blockId?: string): KnownBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.contextText) }],
    ...(blockId ? { block_id: blockId } : {}),
  };
}

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(`*${label}*\n${value}`, SLACK_LIMITS.sectionField) };
}

function approvalsIn(request: AccessRequest, stage: number, upTo = request.reviews.length): number {
  return new Set(
    request.reviews
      .slice(0, upTo)
      .filter((r) => r.stage === stage && r.decision === 'approve')
      .map((r) => r.by),
  ).size;
}

function approvalsSoFar(request: AccessRequest, workflow: Workflow | undefined): string {
  const approvals = request.reviews.filter((r) => r.decision === 'approve');
  if (approvals.length === 0) return 'none yet';
  return approvals
    .map((r) => `${mention(r.by)} (${escapeText(workflow?.stages[r.stage]?.name ?? `stage ${r.stage + 1}`)})`)
    .join(', ');
}

function approvedBy(request: AccessRequest): string {
  if (request.breakGlass) return ' by break-glass';
  if (request.autoApproved) return ` automatically (auto-approve rule ${request.autoApproved.rule + 1})`;
  if (request.adminIssued) return ` by admin ${mention(request.adminIssued.by)}`;
  const by = [...new Set(request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by))];
  return by.length ? ` by ${mentionList(by)}` : '';
}

function closedLine(request: AccessRequest): string {
  const at = request.closedAt !== undefined ? ` ${slackTime(request.closedAt)}` : '';
  const reason = request.closeReason ? `\n${quote(request.closeReason)}` : '';
  return `${at}${reason}`;
}

/** What happened to the request, in one section: the part of the message that changes most. */
export function approvalStatus(request: AccessRequest, workflow: Workflow | undefined): string {
  switch (request.state) {
    case 'pending': {
      const needed = workflow?.stages[request.stage]?.approvals ?? 1;
      const lines = [
        `:hourglass_flowing_sand: *Waiting for approval*: stage ${escapeText(stageLabel(request.stage, workflow))}, ` +
          `${approvalsIn(request, request.stage)} of ${needed} approval${needed === 1 ? '' : 's'}.`,
        `Approvers: ${mentionList(request.approvers, '_nobody could be resolved; ask an admin_')}`,
      ];
      const from = request.escalatedStages.at(-1);
      if (from !== undefined && from === request.stage - 1) {
        const timeout = workflow?.stages[from]?.timeout;
        lines.unshift(
          `:arrow_double_up: *Escalated to stage ${request.stage + 1}*: stage ${escapeText(stageLabel(from, workflow))} ` +
            `had no decision${timeout !== undefined ? ` within ${formatDuration(timeout)}` : ''}.`,
        );
      }
      return lines.join('\n');
    }
    case 'approved':
    case 'issued': {
      const window =
        request.approvedAt !== undefined && request.expiresAt !== undefined
          ? ` Access ${formatDuration(request.grantedMs)}, from ${slackTime(request.approvedAt)} until ${slackTime(request.expiresAt)}.`
          : '';
      const cert = request.state === 'issued' && request.certificate ? ` Certificate issued (serial ${escapeText(request.certificate.serial)}).` : '';
      return `:white_check_mark: *Approved*${approvedBy(request)}.${window}${cert}`;
    }
    case 'denied':
      return `:no_entry: *Denied* by ${mention(request.closedBy ?? 'unknown')}${closedLine(request)}${request.closeReason ? '' : '\n_No reason given._'}`;
    case 'timed_out':
      return `:hourglass: *Timed out*${request.closedAt !== undefined ? ` ${slackTime(request.closedAt)}` : ''}: nobody decided in time.`;
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled* by ${mention(request.closedBy ?? request.requester.id)}${closedLine(request)}`;
    case 'expired':
      return `:lock: *Expired*: access ended ${slackTime(request.certificate?.validBefore ?? request.expiresAt ?? request.closedAt ?? request.updatedAt)}.`;
    case 'revoked':
      return `:octagonal_sign: *Revoked* by ${mention(request.closedBy ?? 'unknown')}${closedLine(request)}`;
    case 'failed':
      return `:warning: *Approved, but the certificate could not be issued*: ${escapeText(truncate(request.failure ?? 'unknown error', 500))}`;
  }
}

function stateWord(request: AccessRequest): string {
  switch (request.state) {
    case 'pending':
      return 'waiting for approval';
    case 'approved':
    case 'issued':
      return `approved${approvedBy(request)}`;
    case 'denied':
      return `denied by ${mention(request.closedBy ?? 'unknown')}`;
    case 'timed_out':
      return 'timed out';
    default:
      return request.state;
  }
}

// ---- what the approver grants ---------------------------------------------------------------------

/** `:rotating_light: *HIGH RISK*: …`, shown before anything else. */
export function riskText(facts: ApprovalFacts): string | undefined {
  if (!facts.risk) return undefined;
  return facts.risk.level === 'high'
    ? `:rotating_light: *HIGH RISK*: ${escapeText(facts.risk.note)}`
    : `:warning: *Medium risk*: ${escapeText(facts.risk.note)}`;
}

/** The window, mrkdwn: fixed once approved; before that its length and where it starts. */
export function windowMrkdwn(facts: ApprovalFacts): string {
  const w = facts.window;
  if (w.fixed) return `${formatDuration(w.durationMs)}, from ${slackTime(w.startsAt)} until ${slackTime(w.expiresAt)}`;
  const start = w.startsAt === 'approval' ? 'starts at approval' : `starts when the current grant ends, ${slackTime(w.startsAt)}`;
  return `${formatDuration(w.durationMs)}: ${start}, ends ${slackTime(w.endsIfApprovedNow)} if approved now`;
}

/** Exactly what the certificate carries and allows: principals or subject, hosts, extensions, source address, command. */
export function certificateMrkdwn(facts: ApprovalFacts): string {
  const subject = facts.subject;
  let head: string;
  if (!subject) head = '_The certificate subject is not recorded on this request._';
  else if (subject.kind === 'ssh')
    head = `Log in as ${subject.principals.map(code).join(', ')}${facts.ssh?.hosts ? ` on ${facts.ssh.hosts.map(code).join(', ')}` : ''}`;
  else head = `X.509 subject ${code(`CN=${subject.commonName}`)}${subject.groups.length ? `, groups (O) ${subject.groups.map(code).join(', ')}` : ', no groups'}`;
  const caps = capabilityParts(facts).map((part) => escapeText(part));
  return caps.length ? `${head}\n${caps.join(' · ')}` : head;
}

/** An extension: which grant, when it ends and how long is left, and the access from now once approved. */
export function extensionMrkdwn(facts: ApprovalFacts): string | undefined {
  const ext = facts.extension;
  if (!ext) return undefined;
  if (facts.window.fixed) return `:link: *Extension* of ${code(ext.of)}: it follows on from that grant.`;
  return (
    `:link: *Extension* of ${code(ext.of)}, which ends ${slackTime(ext.currentEnd)} (*${roundedDuration(ext.timeLeftMs)} left*). ` +
    `After approval: *${roundedDuration(ext.totalAfterApprovalMs)}* of access from now, until ${slackTime(ext.newEnd)}.`
  );
}

/**
 * The approval request as approvers see it, in the channel and in DMs, for every state: pending
 * with Approve and Deny, then decided (buttons gone) with who decided, when and why.
 */
export function approvalMessage(input: ApprovalMessageInput): SlackMessage {
  const { request, resource, workflow } = input;
  const summary = requestSummary(request, resource);
  const facts = approvalFacts(request, resource, input.now ?? request.updatedAt);
  const pending = request.state === 'pending';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`Access request: ${request.resource}`, SLACK_LIMITS.headerText) } },
  ];
  const risk = riskText(facts);
  if (risk) blocks.push(section(risk));
  if (pending && input.reminder !== undefined) {
    blocks.push(section(`:bell: *Reminder ${input.reminder}*: this request is still waiting for your decision.`));
  }
  const history = recentGrantsText(facts);
  const fields = [
    field('Requester', summary.requester),
    field('Resource', summary.resource),
    field('Window', windowMrkdwn(facts)),
    field('Stage', escapeText(stageLabel(request.stage, workflow))),
    ...(summary.ticket ? [field('Ticket', summary.ticket)] : []),
    field('Approvals so far', approvalsSoFar(request, workflow)),
    ...(history ? [field('Last 30 days', escapeText(history))] : []),
  ];
  blocks.push({ type: 'section', fields });
  blocks.push(section(`*The certificate*\n${certificateMrkdwn(facts)}`));
  const extension = extensionMrkdwn(facts);
  if (extension) blocks.push(section(extension));
  blocks.push(section(`*Reason*\n${summary.reason}`));
  blocks.push(context(input.oncallContext ?? ONCALL_NOT_AVAILABLE, ONCALL_BLOCK_ID));
  blocks.push(section(approvalStatus(request, workflow)));
  if (pending && input.oncallNote) blocks.push(context(input.oncallNote));
  if (pending && input.routeNote) blocks.push(context(input.routeNote));
  if (pending && input.decidable !== false) {
    blocks.push({
      type: 'actions',
      block_id: APPROVAL_ACTIONS_BLOCK_ID,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', value: request.id, text: { type: 'plain_text', text: 'Approve' } },
        { type: 'button', action_id: DENY_ACTION_ID, style: 'danger', value: request.id, text: { type: 'plain_text', text: 'Deny' } },
      ],
    });
  }
  blocks.push(context(`Request \`${escapeText(request.id)}\` · requested ${slackTime(request.createdAt)}${jiraIssueLink(request)}`));

  const reminder = pending && input.reminder !== undefined ? `Reminder ${input.reminder}: ` : '';
  const flags = `${facts.risk?.level === 'high' ? 'HIGH RISK ' : ''}${facts.extension ? 'extension ' : ''}`;
  const text = truncate(
    `${reminder}${flags ? `[${flags.trim()}] ` : ''}Access request from ${summary.requester}: ${escapeText(request.resource)} for ${formatDuration(request.grantedMs)} (${stateWord(request)})`,
    SLACK_LIMITS.fallbackText,
  );
  return { text, blocks };
}

// ---- thread replies under the approval message -------------------------------------------------

/** "approved by @x (stage 1 of 2: leads, 1 of 2 approvals)" or "denied by @x: why". */
export function reviewReply(request: AccessRequest, index: number, workflow: Workflow | undefined): string | undefined {
  const review: Review | undefined = request.reviews[index];
  if (!review) return undefined;
  const via = review.via === 'slack' ? '' : ` via ${review.via === 'jira' ? 'Jira' : review.via === 'cli' ? 'the CLI' : review.via}`;
  if (review.decision === 'deny') {
    return `:no_entry: Denied by ${mention(review.by)}${via}: ${review.comment ? `\n${quote(review.comment)}` : '_no reason given_'}`;
  }
  const needed = workflow?.stages[review.stage]?.approvals ?? 1;
  const count = approvalsIn(request, review.stage, index + 1);
  const comment = review.comment ? `\n${quote(review.comment)}` : '';
  return `:white_check_mark: Approved by ${mention(review.by)}${via} (stage ${escapeText(stageLabel(review.stage, workflow))}, ${count} of ${needed})${comment}`;
}

/** The request moved on to its next stage after the previous one was approved. */
export function stageAdvancedReply(request: AccessRequest, workflow: Workflow | undefined): string {
  return `:arrow_right: Now at stage ${escapeText(stageLabel(request.stage, workflow))}: waiting for ${mentionList(request.approvers)}.`;
}

/** The previous stage timed out and the request escalated to the current one. */
export function escalationReply(request: AccessRequest, workflow: Workflow | undefined): string {
  const from = request.escalatedStages.at(-1) ?? request.stage - 1;
  const timeout = workflow?.stages[from]?.timeout;
  return (
    `:arrow_double_up: No decision in stage ${escapeText(stageLabel(from, workflow))}` +
    `${timeout !== undefined ? ` within ${formatDuration(timeout)}` : ''}: ` +
    `escalated to stage ${escapeText(stageLabel(request.stage, workflow))}. Waiting for ${mentionList(request.approvers)}.`
  );
}

export function reminderReply(request: AccessRequest, workflow: Workflow | undefined, n: number, waitingFor: string[]): string {
  return `:bell: Reminder ${n}: still waiting for ${mentionList(waitingFor)} (stage ${escapeText(stageLabel(request.stage, workflow))}).`;
}

/** The stage names a PagerDuty on-call and nobody is on call at those levels now (or PagerDuty did not say). */
export function emptyOncallNote(escalationPolicy: string, levels: number[], why: 'nobody' | 'unknown'): string {
  const where = `level ${levels.join(', ')} of escalation policy ${escapeText(escalationPolicy)}`;
  return why === 'nobody'
    ? `:pager: Nobody who is a Slack user is on call at ${where} right now: the other approvers named decide.`
    : `:pager: The on-call at ${where} could not be resolved (PagerDuty did not answer): the other approvers named decide.`;
}
