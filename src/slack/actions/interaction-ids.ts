/**
 * Every interactive identifier the Slack front end uses. The approval-message and App Home ids are
 * shared with the outgoing messages (see the Slack contract); changing one breaks buttons already
 * posted in Slack, so they never change.
 */
export const ACTION_IDS = {
  approve: 'access.approve',
  deny: 'access.deny',
  revoke: 'access.revoke',
  cancel: 'access.cancel',
  /** The "Request access" button of the App Home. */
  openRequest: 'access.open_request',
  /** The request modal's resource picker (static_select, or external_select past 100 resources). */
  resourceSelect: 'resource_select',
  durationSelect: 'duration_select',
  reasonInput: 'reason_input',
  ticketInput: 'ticket_input',
  breakGlassToggle: 'breakglass_toggle',
  pubkeyInput: 'pubkey_input',
  /** "Close review" on a post-incident review DM (break-glass), and the notes field of its modal. */
  closeReview: 'access.close_review',
  reviewNotesInput: 'review_notes_input',
} as const;

export const VIEW_IDS = {
  request: 'access.request',
  denyReason: 'access.deny_reason',
  breakGlassReview: 'access.break_glass_review',
} as const;

/** Input block ids of the request modal; a refusal is shown on one of them. */
export const REQUEST_BLOCKS = {
  resource: 'resource',
  duration: 'duration',
  reason: 'reason',
  ticket: 'ticket',
  pubkey: 'pubkey',
  breakGlass: 'breakglass',
} as const;

export type RequestBlockId = (typeof REQUEST_BLOCKS)[keyof typeof REQUEST_BLOCKS];

/** The deny-reason modal's one input. */
export const DENY_REASON_BLOCK = 'reason';

/** The break-glass review modal's one input. */
export const REVIEW_NOTES_BLOCK = 'notes';
