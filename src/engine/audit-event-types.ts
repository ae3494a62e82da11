/**
 * Every kind of audit event. An auditor reads these names; they are part of the product's
 * contract and never change meaning once shipped.
 */
export const AUDIT_EVENT_TYPES = {
  requestCreated: 'request.created',
  requestRefused: 'request.refused',
  reviewApproved: 'review.approved',
  reviewRefused: 'review.refused',
  stageAdvanced: 'stage.advanced',
  stageEscalated: 'stage.escalated',
  reminderSent: 'reminder.sent',
  requestApproved: 'request.approved',
  requestDenied: 'request.denied',
  requestCancelled: 'request.cancelled',
  cancelRefused: 'request.cancel_refused',
  requestTimedOut: 'request.timed_out',
  requestFailed: 'request.failed',
  breakGlassUsed: 'breakglass.used',
  breakGlassReviewed: 'breakglass.reviewed',
  breakGlassReviewRefused: 'breakglass.review_refused',
  certIssued: 'cert.issued',
  /** The worker found an approved record that its own policy does not allow, and signed nothing. */
  issuanceRefused: 'cert.refused',
  certDelivered: 'cert.delivered',
  requestExpiring: 'request.expiring',
  requestExpired: 'request.expired',
  requestRevoked: 'request.revoked',
  revokeRefused: 'request.revoke_refused',
  keyRegistered: 'key.registered',
  keyRefused: 'key.refused',
  keyRemoved: 'key.removed',
  configLoaded: 'config.loaded',
  caCreated: 'ca.created',
  caRotated: 'ca.rotated',
  externalCallFailed: 'external.failed',
  signatureRefused: 'webhook.signature_refused',
  /** Refusals beyond a person's rate limit are counted, not written one by one: this carries the count. */
  refusalsSuppressed: 'audit.refusals_suppressed',
  auditTrimmed: 'retention.audit_trimmed',
  requestsRemoved: 'retention.requests_removed',
  accessReviewStarted: 'access_review.started',
  accessReviewAnswered: 'access_review.answered',
  accessReviewAnswerRefused: 'access_review.answer_refused',
  accessReviewChangeClosed: 'access_review.change_closed',
} as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[keyof typeof AUDIT_EVENT_TYPES];
