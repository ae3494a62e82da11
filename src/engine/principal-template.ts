import { AccessBotError } from '../errors/access-bot-error';
import type { Person } from './types';

/** A template names a user attribute we do not know (no email in Slack): the certificate cannot be made. */
export class TemplateValueMissing extends AccessBotError {
  readonly code = 'TEMPLATE_VALUE_MISSING';
  override readonly status = 422;

  constructor(readonly variable: string) {
    super(`The certificate needs your ${variable}, which Slack did not provide.`);
  }
}

/** `alice.smith@example.com` → `alice.smith`; anything outside [A-Za-z0-9._-] becomes `_`. */
export function usernameFromEmail(email: string): string {
  const local = email.split('@')[0] ?? '';
  return local.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Fills `{{user.username}}`, `{{user.email}}` and `{{user.id}}` in a principal or common name
 * from the requester's identity. Values come from Slack's directory, never from request text.
 */
export function renderUserTemplate(template: string, user: Person): string {
  return template.replace(/\{\{user\.(username|email|id)\}\}/g, (_m, attr: string) => {
    if (attr === 'id') return user.id;
    if (!user.email) throw new TemplateValueMissing(`user.${attr}`);
    return attr === 'email' ? user.email.toLowerCase() : usernameFromEmail(user.email.toLowerCase());
  });
}
