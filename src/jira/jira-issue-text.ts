import { formatDuration } from '../config/duration';
import type { Resource, Workflow } from '../config/policy';
import { describeApprovers } from '../engine/people';
import type { AccessRequest, Review } from '../engine/types';
import { approvalFactLines, approvalFacts, utcTime } from '../requests/approval-facts';
import { doc, factList, heading, paragraph, type Inline } from './jira-document';
import type { AdfNode } from './jira-schemas';

/** Jira refuses a summary longer than this. */
export const SUMMARY_MAX = 255;
/** A ticket reference that looks like a Jira issue key gets linked. */
const JIRA_KEY = /^[A-Z][A-Z0-9_]{1,9}-\d{1,9}$/;

export const BASE_LABEL = 'access-bot';
/** The label that finds a request's issue by JQL (entity properties are not searchable on Cloud without an app). */
export function requestLabel(requestId: string): string {
  return `${BASE_LABEL}-${requestId}`;
}

function requesterName(request: AccessRequest): string {
  return request.requester.name ?? request.requester.email ?? request.requester.id;
}

/** "Maria Garcia requests k8s-prod-eu1-edit for 2h", cut to Jira's limit. */
export function issueSummary(request: AccessRequest): string {
  const text = `${requesterName(request)} requests ${request.resource} for ${formatDuration(request.grantedMs)}`.replace(/[\r\n]+/g, ' ');
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

export interface DescriptionExtras {
  /** Base URL of the Jira site, to link a ticket that is a Jira key. */
  jiraUrl: string;
  /** The on-call context as plain text (PagerDuty on), if any. */
  oncall?: string;
  /** A link to the request's approval message in Slack, if there is one. */
  slackLink?: string;
}

/**
 * The issue's description: every fact an approver sees in Slack (the shared approval facts), the
 * requester's email, the ticket linked when it is a Jira key, the stage and its approvers, the
 * on-call context, a link back to Slack, and what moving the issue does.
 */
export function issueDescription(request: AccessRequest, resource: Resource | undefined, workflow: Workflow, extras: DescriptionExtras, now: number): AdfNode {
  const facts = approvalFacts(request, resource, now);
  const jira = workflow.approval.jira;
  const items: Array<{ label: string; parts: Inline[] }> = approvalFactLines(facts).map((line) => {
    if (line.label === 'Ticket' && JIRA_KEY.test(line.text)) return { label: line.label, parts: [{ text: line.text, href: `${extras.jiraUrl}/browse/${line.text}` }] };
    if (line.label === 'Requester' && request.requester.email && !line.text.includes(request.requester.email))
      return { label: line.label, parts: [`${line.text}, ${request.requester.email}`] };
    return { label: line.label, parts: [line.text] };
  });
  const stage = workflow.stages[request.stage];
  if (stage)
    items.push({
      label: 'Stage',
      parts: [`${request.stage + 1} of ${workflow.stages.length}: ${stage.name}, ${stage.approvals} approval${stage.approvals === 1 ? '' : 's'} from ${describeApprovers(stage.approvers)}`],
    });
  if (extras.oncall) items.push({ label: 'On call', parts: [extras.oncall] });
  items.push({ label: 'Request', parts: [request.id] });
  items.push({ label: 'In Slack', parts: extras.slackLink ? [{ text: 'the approval message', href: extras.slackLink }] : ['the approvers\' messages from access-bot'] });
  return doc(
    heading(`Access request: ${request.resource}`),
    factList(items),
    paragraph(
      `To decide, an approver of the current stage moves this issue to "${jira?.approved_status ?? 'Approved'}" (approve) or "${jira?.denied_status ?? 'Declined'}" (deny; `,
      'write the reason as a comment first). Each move counts like a click in Slack; moves by anyone else are refused and undone.',
    ),
  );
}

/** Who someone is, as the issue's comments show them. */
export type NameOf = (id: string) => Promise<string>;

function channelName(review: Review): string {
  return review.via === 'jira' ? 'Jira' : review.via === 'slack' ? 'Slack' : review.via === 'cli' ? 'the CLI' : review.via;
}

/** The follow-up steps of a request as it stands, each a comment posted once (keyed by its step). */
export async function followUpComments(request: AccessRequest, workflow: Workflow | undefined, nameOf: NameOf): Promise<Array<{ step: string; body: AdfNode }>> {
  const out: Array<{ step: string; body: AdfNode }> = [];
  for (const [i, review] of request.reviews.entries()) {
    const stage = workflow?.stages[review.stage];
    const who = await nameOf(review.by);
    const where = `${stage ? ` (stage ${review.stage + 1}: ${stage.name})` : ''}`;
    const count =
      review.decision === 'approve' && stage
        ? `, ${new Set(request.reviews.filter((r) => r.stage === review.stage && r.decision === 'approve' && r.at <= review.at).map((r) => r.by)).size} of ${stage.approvals} approval${stage.approvals === 1 ? '' : 's'}`
        : '';
    const text = `${review.decision === 'approve' ? 'Approved' : 'Denied'} by ${who} in ${channelName(review)}${where}${count}${review.comment ? `: ${review.comment}` : '.'}`;
    out.push({ step: `review:${i}`, body: doc(paragraph(text)) });
  }
  for (const stage of request.escalatedStages) {
    const from = workflow?.stages[stage];
    const to = workflow?.stages[stage + 1];
    out.push({
      step: `escalated:${stage}`,
      body: doc(paragraph(`Stage ${stage + 1}${from ? ` (${from.name})` : ''} timed out without its approvals; stage ${stage + 2}${to ? ` (${to.name}, ${describeApprovers(to.approvers)})` : ''} decides now.`)),
    });
  }
  if (request.approvedAt !== undefined && request.expiresAt !== undefined) {
    const how = request.autoApproved ? ' automatically' : request.breakGlass ? ' by break-glass' : request.adminIssued ? ' by an admin' : '';
    out.push({
      step: 'approved',
      body: doc(paragraph(`Request approved${how}: access for ${formatDuration(request.expiresAt - (request.startsAt ?? request.approvedAt))}, from ${utcTime(request.startsAt ?? request.approvedAt)} until ${utcTime(request.expiresAt)}.`)),
    });
  }
  const cert = request.certificate;
  if (cert)
    out.push({
      step: `issued:${cert.serial}`,
      body: doc(paragraph(`Certificate issued (${cert.kind === 'ssh' ? 'OpenSSH' : 'X.509'}): serial ${cert.serial}, valid from ${utcTime(cert.validAfter)} until ${utcTime(cert.validBefore)}, for ${cert.principals.join(', ') || 'no principals'}.`)),
    });
  const closedBy = request.closedBy && request.closedBy !== 'system' ? ` by ${await nameOf(request.closedBy)}` : '';
  const why = request.closeReason ? `: ${request.closeReason}` : '.';
  const at = utcTime(request.closedAt ?? request.updatedAt);
  if (request.state === 'expired') out.push({ step: 'expired', body: doc(paragraph(`Access expired at ${at}.`)) });
  if (request.state === 'revoked') out.push({ step: 'revoked', body: doc(paragraph(`Access revoked${closedBy} at ${at}${why}`)) });
  if (request.state === 'cancelled') out.push({ step: 'cancelled', body: doc(paragraph(`Request cancelled${closedBy} at ${at}${why}`)) });
  if (request.state === 'timed_out') out.push({ step: 'timed_out', body: doc(paragraph(`Request timed out at ${at}: nobody decided in time.`)) });
  if (request.state === 'failed') out.push({ step: 'failed', body: doc(paragraph(`The certificate could not be issued: ${request.failure ?? 'unknown error'}.`)) });
  return out;
}

/** The status the issue should be in for the request's state, if any (pending: left to people). */
export function targetStatus(request: AccessRequest, workflow: Workflow | undefined): string | undefined {
  const jira = workflow?.approval.jira;
  if (!jira) return undefined;
  switch (request.state) {
    case 'approved':
    case 'issued':
      return jira.approved_status;
    case 'denied':
      return jira.denied_status;
    case 'expired':
    case 'revoked':
    case 'cancelled':
    case 'timed_out':
    case 'failed':
      return jira.expired_status;
    default:
      return undefined;
  }
}
