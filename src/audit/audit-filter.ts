import type { AuditEvent } from './audit-event';

export interface AuditFilter {
  requestId?: string;
  /** Slack user id: events the user did, and every event of requests the user made. */
  user?: string;
  type?: string;
}

/**
 * A stateful filter over events in log order: a request's `request.created` names its requester,
 * so later events of that request are kept for `user` too.
 */
export function auditFilter(filter: AuditFilter): (event: AuditEvent) => boolean {
  const requestsOfUser = new Set<string>();
  return (event) => {
    if (filter.user !== undefined && event.type === 'request.created' && event.requestId !== undefined) {
      const requester = (event.data.requester as { id?: string } | undefined)?.id;
      if (requester === filter.user) requestsOfUser.add(event.requestId);
    }
    if (filter.requestId !== undefined && event.requestId !== filter.requestId) return false;
    if (filter.type !== undefined && event.type !== filter.type && !event.type.startsWith(`${filter.type}.`)) return false;
    if (filter.user !== undefined) {
      const byUser = event.actor.id === filter.user;
      const aboutUser = event.requestId !== undefined && requestsOfUser.has(event.requestId);
      const dataUser = event.data.requester === filter.user || event.data.user === filter.user;
      if (!byUser && !aboutUser && !dataUser) return false;
    }
    return true;
  };
}
