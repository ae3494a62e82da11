import { formatDuration } from '../config/duration';
import type { Resource } from '../config/policy';
import { describeSubject } from '../engine/certificate-subject';
import type { AccessRequest, CertificateSubject } from '../engine/types';

/** The history approvers see: grants of the same resource in this window before the request. */
export const RECENT_GRANTS_WINDOW_MS = 30 * 86_400_000;

/**
 * What an approver grants, as facts every approval channel shows the same way: the Slack approval
 * message, its DMs, the App Home and `/access pending` (mrkdwn), and a Jira issue (plain text, from
 * approvalFactLines). Pure: the caller passes the clock.
 */
export interface ApprovalFacts {
  requestId: string;
  requester: { id: string; name?: string; email?: string };
  resource: { name: string; description?: string };
  risk?: { level: 'high' | 'medium'; note: string };
  /** What the certificate will carry, exactly as rendered at request time (never a template). */
  subject?: CertificateSubject;
  /** SSH only: what the certificate lets the holder do beyond logging in. */
  ssh?: {
    sourceAddress?: string[];
    /** OpenSSH extension names, e.g. permit-pty, permit-port-forwarding. */
    extensions: string[];
    forceCommand?: string;
    endSessionsAtExpiry: boolean;
    hosts?: string[];
  };
  /** The access window: fixed once approved; before that, its length and where it will start. */
  window:
    | { fixed: true; startsAt: number; expiresAt: number; durationMs: number }
    | { fixed: false; durationMs: number; startsAt: 'approval' | number; endsIfApprovedNow: number };
  /** An extension: the grant it extends, that grant's end and time left, and the access from now once approved. */
  extension?: { of: string; currentEnd: number; timeLeftMs: number; totalAfterApprovalMs: number; newEnd: number };
  /** Grants of this resource the requester had in the 30 days before the request (unknown for old records). */
  recentGrants?: number;
  recentWindowDays: number;
  reason: string;
  ticket?: string;
  breakGlass: boolean;
}

/** Readable names of the OpenSSH extensions approvers meet most. */
const EXTENSION_NAMES: Record<string, string> = {
  'permit-pty': 'terminal',
  'permit-port-forwarding': 'port forwarding',
  'permit-agent-forwarding': 'agent forwarding',
  'permit-X11-forwarding': 'X11 forwarding',
  'permit-user-rc': 'runs ~/.ssh/rc',
  'no-touch-required': 'security key without touch',
};

export function extensionName(extension: string): string {
  return EXTENSION_NAMES[extension] ?? extension;
}

export function approvalFacts(request: AccessRequest, resource: Resource | undefined, now: number): ApprovalFacts {
  const decided = request.approvedAt !== undefined && request.expiresAt !== undefined;
  const parentEnd = request.extension?.previousExpiresAt;
  let window: ApprovalFacts['window'];
  if (decided) {
    const startsAt = request.startsAt ?? request.approvedAt ?? now;
    window = { fixed: true, startsAt, expiresAt: request.expiresAt!, durationMs: request.expiresAt! - startsAt };
  } else {
    const startsAt = parentEnd !== undefined ? Math.max(parentEnd, now) : now;
    window = { fixed: false, durationMs: request.grantedMs, startsAt: parentEnd !== undefined ? parentEnd : 'approval', endsIfApprovedNow: startsAt + request.grantedMs };
  }
  const ssh = resource?.ssh;
  return {
    requestId: request.id,
    requester: {
      id: request.requester.id,
      ...(request.requester.name ? { name: request.requester.name } : {}),
      ...(request.requester.email ? { email: request.requester.email } : {}),
    },
    resource: { name: request.resource, ...(resource ? { description: resource.description } : {}) },
    ...(resource?.risk ? { risk: { level: resource.risk.level, note: resource.risk.note } } : {}),
    ...(request.subject ? { subject: request.subject } : {}),
    ...(ssh
      ? {
          ssh: {
            ...(ssh.source_address ? { sourceAddress: [...ssh.source_address] } : {}),
            extensions: [...ssh.extensions],
            ...(ssh.force_command ? { forceCommand: ssh.force_command } : {}),
            endSessionsAtExpiry: ssh.end_sessions_at_expiry,
            ...(ssh.hosts ? { hosts: [...ssh.hosts] } : {}),
          },
        }
      : {}),
    window,
    ...(request.extension && parentEnd !== undefined
      ? {
          extension: {
            of: request.extension.of,
            currentEnd: parentEnd,
            timeLeftMs: Math.max(0, parentEnd - now),
            totalAfterApprovalMs: Math.max(0, parentEnd - now) + request.grantedMs,
            newEnd: Math.max(parentEnd, now) + request.grantedMs,
          },
        }
      : {}),
    ...(request.recentGrants !== undefined ? { recentGrants: request.recentGrants } : {}),
    recentWindowDays: RECENT_GRANTS_WINDOW_MS / 86_400_000,
    reason: request.reason,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    breakGlass: request.breakGlass !== undefined,
  };
}

/** A length of time as people read it: whole minutes, rounded up (`1h`, not `59m59s`). */
export function roundedDuration(ms: number): string {
  if (ms <= 0) return 'no time';
  if (ms < 60_000) return 'under a minute';
  return formatDuration(Math.ceil(ms / 60_000) * 60_000);
}

/** `2026-05-01 14:00 UTC`: for channels without per-reader time rendering. */
export function utcTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 grants of prod-db in the last 30 days` / `none in the last 30 days`. */
export function recentGrantsText(facts: ApprovalFacts): string | undefined {
  if (facts.recentGrants === undefined) return undefined;
  const n = facts.recentGrants;
  return `${n === 0 ? 'no' : n} earlier grant${n === 1 ? '' : 's'} of ${facts.resource.name} in the last ${facts.recentWindowDays} days`;
}

/** What the certificate lets the holder do, in words: `terminal, port forwarding; only from 10.40.0.0/16; runs only "backup"`. */
export function capabilityParts(facts: ApprovalFacts): string[] {
  const ssh = facts.ssh;
  if (!ssh) return [];
  const parts: string[] = [];
  parts.push(ssh.extensions.length ? `allows ${ssh.extensions.map(extensionName).join(', ')}` : 'no terminal and no forwarding');
  if (ssh.sourceAddress) parts.push(`works only from ${ssh.sourceAddress.join(', ')}`);
  else parts.push('works from any address');
  if (ssh.forceCommand) parts.push(`runs only the command ${ssh.forceCommand}`);
  if (ssh.endSessionsAtExpiry) parts.push('open sessions end when it expires');
  return parts;
}

/**
 * The facts as labelled plain-text lines, in the order approvers should read them (risk first), for
 * channels without Slack's formatting, such as a Jira issue's description. `time` formats instants.
 */
export function approvalFactLines(facts: ApprovalFacts, time: (epochMs: number) => string = utcTime): Array<{ label: string; text: string }> {
  const lines: Array<{ label: string; text: string }> = [];
  if (facts.risk) lines.push({ label: facts.risk.level === 'high' ? 'HIGH RISK' : 'Medium risk', text: facts.risk.note });
  const who = facts.requester.name ?? facts.requester.email ?? facts.requester.id;
  lines.push({ label: 'Requester', text: `${who}${facts.requester.email && who !== facts.requester.email ? ` <${facts.requester.email}>` : ''} (Slack ${facts.requester.id})` });
  lines.push({ label: 'Resource', text: `${facts.resource.name}${facts.resource.description ? `: ${facts.resource.description}` : ''}` });
  if (facts.subject) lines.push({ label: facts.subject.kind === 'ssh' ? 'Log in as' : 'Certificate subject', text: describeSubject(facts.subject) });
  else lines.push({ label: 'Certificate', text: 'not recorded on this request' });
  if (facts.ssh?.hosts) lines.push({ label: 'Hosts', text: facts.ssh.hosts.join(', ') });
  const caps = capabilityParts(facts);
  if (caps.length) lines.push({ label: 'Certificate allows', text: caps.join('; ') });
  lines.push({ label: 'Window', text: windowText(facts, time) });
  if (facts.extension) lines.push({ label: 'Extends', text: extensionText(facts.extension, time) });
  const history = recentGrantsText(facts);
  if (history) lines.push({ label: 'History', text: history });
  if (facts.ticket) lines.push({ label: 'Ticket', text: facts.ticket });
  lines.push({ label: 'Reason', text: facts.reason.trim() || '(none given)' });
  return lines;
}

export function windowText(facts: ApprovalFacts, time: (epochMs: number) => string = utcTime): string {
  const w = facts.window;
  if (w.fixed) return `${formatDuration(w.durationMs)}, from ${time(w.startsAt)} until ${time(w.expiresAt)}`;
  const start = w.startsAt === 'approval' ? 'starts at approval' : `starts when the current grant ends (${time(w.startsAt)})`;
  return `${formatDuration(w.durationMs)}; ${start}; ends ${time(w.endsIfApprovedNow)} if approved now`;
}

export function extensionText(ext: NonNullable<ApprovalFacts['extension']>, time: (epochMs: number) => string = utcTime): string {
  return (
    `grant ${ext.of}, which ends ${time(ext.currentEnd)} (${roundedDuration(ext.timeLeftMs)} left); ` +
    `after approval: ${roundedDuration(ext.totalAfterApprovalMs)} of access from now, until ${time(ext.newEnd)}`
  );
}

/** The facts as one plain-text block: `Label: text` per line. */
export function approvalFactsText(facts: ApprovalFacts, time?: (epochMs: number) => string): string {
  return approvalFactLines(facts, time)
    .map((l) => `${l.label}: ${l.text}`)
    .join('\n');
}

