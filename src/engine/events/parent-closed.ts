import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, describeState } from '../decision-kit';
import { isActiveGrant } from '../request-states';
import type { AccessRequest, Decision, DecisionContext } from '../types';
import { revoked } from './requester-actions';

/**
 * The grant an extension extends was closed. A pending extension can no longer be approved: it is
 * cancelled. A live extension is revoked with it, unless the grant simply ran to its end (then the
 * extension is exactly what should follow). Without this, revoking a grant left its extension's
 * certificate valid.
 */
export function parentClosed(request: AccessRequest, parent: AccessRequest, ctx: DecisionContext): Decision {
  if (request.extension?.of !== parent.id) return { kind: 'noop', reason: 'not an extension of this grant' };
  if (isActiveGrant(parent.state) || parent.state === 'pending') return { kind: 'noop', reason: 'the grant is still open' };
  const cause = { cause: 'parent_closed', parent: parent.id, parentState: parent.state };
  const why = `the access it extends (${parent.id}) was ${describeState(parent.state)}`;

  if (request.state === 'pending') {
    return {
      kind: 'transition',
      request: {
        ...request,
        state: 'cancelled',
        approvers: [],
        closedAt: ctx.now,
        closedBy: 'system',
        closeReason: `Cancelled: ${why}.`,
        updatedAt: ctx.now,
      },
      effects: [
        audit(A.requestCancelled, ctx.actor, 'system', request.id, cause),
        { type: 'update_approval_messages' },
        { type: 'notify_requester', notice: 'cancelled' },
      ],
    };
  }
  if (!isActiveGrant(request.state)) return { kind: 'noop', reason: `extension is ${request.state}` };
  // Ran its course: the parent expired at (not before) its end.
  const ranItsCourse = parent.state === 'expired' && parent.expiresAt !== undefined && (parent.closedAt ?? 0) >= parent.expiresAt - 5_000;
  if (ranItsCourse) return { kind: 'noop', reason: 'the grant ran to its end; the extension follows on' };
  return revoked(request, ctx, 'system', `Revoked: ${why}.`, cause);
}
