import type { AccessRequest } from '../engine/types';

/** The note posted on a PagerDuty incident when break-glass access rests on it, and when that access ends. Plain text: PagerDuty shows notes as is. */
export function incidentNoteText(request: AccessRequest, event: 'granted' | 'ended', now: number): string {
  const { name, email, id } = request.requester;
  const who = `${name ?? email ?? id}${email && name ? ` <${email}>` : ''} (Slack ${id})`;
  const until = request.expiresAt !== undefined ? new Date(request.expiresAt).toISOString() : 'unknown';
  if (event === 'ended') {
    const how = request.state === 'revoked' ? `revoked at ${new Date(request.closedAt ?? now).toISOString()}` : `ends at ${until}`;
    return `access-bot: break-glass access of ${who} to ${request.resource} ${how} (request ${request.id}).`;
  }
  const how = request.breakGlass?.onIncident ? 'granted by this incident (assignee)' : 'taken with break-glass (on call)';
  return (
    `access-bot: ${who} has access to ${request.resource} until ${until}, ${how}. ` +
    `Reason: ${request.reason.slice(0, 300)}. Request ${request.id}` +
    `${request.breakGlass?.reviewRequired ? '; a post-incident review is required.' : '.'}`
  );
}
