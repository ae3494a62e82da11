/**
 * Every kind of audit event. An auditor reads these names; they are part of the product's
 * contract and never change meaning once shipped.
 */
export const AUDIT_EVENT_TYPES = {
  requestCreated: 'request.created',
  requestRefused: 'request.refused',
  reviewApproved: 'review.approved',
  reviewRefused: 'review.refused',
  /** An approval by someone who has since left (Slack account deactivated) withdrawn from the stage still waiting. */
  reviewWithdrawn: 'review.withdrawn',
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
  /** A post-incident review was opened for the reviewers (with the grant), and each reminder while it stays open. */
  breakGlassReviewOpened: 'breakglass.review_opened',
  breakGlassReviewReminded: 'breakglass.review_reminded',
  /** Access granted by a PagerDuty incident to one of its assignees, without a request (`break_glass.on_incident`). */
  incidentGranted: 'breakglass.incident_granted',
  /** An assignee who could not be granted (no key yet, not eligible, no Slack user): why, and what follows. */
  incidentGrantRefused: 'breakglass.incident_refused',
  /** The incident behind incident grants resolved: they were revoked, or shortened to the grace. */
  incidentResolved: 'breakglass.incident_resolved',
  /** The incident no longer assigns the person its grant was made for: revoked. */
  incidentUnassigned: 'breakglass.incident_unassigned',
  /** A PagerDuty webhook event accepted (signature valid, not seen before). */
  pagerdutyWebhook: 'pagerduty.webhook',
  /** The Jira issue of a request was created (or found, after a create whose answer was lost): its key. */
  jiraIssueCreated: 'jira.issue_created',
  /** A Jira webhook delivery accepted (signature valid, not seen before): which issue it names. */
  jiraWebhook: 'jira.webhook',
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
  /** A deactivated Slack account found (user_change event or the periodic sweep): what was revoked, cancelled and withdrawn. */
  userOffboarded: 'user.offboarded',
  accessReviewStarted: 'access_review.started',
  accessReviewAnswered: 'access_review.answered',
  accessReviewAnswerRefused: 'access_review.answer_refused',
  accessReviewChangeClosed: 'access_review.change_closed',
} as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[keyof typeof AUDIT_EVENT_TYPES];
