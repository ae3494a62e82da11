import type { Person } from './types';

/** Thrown when a template cannot be filled for this user; the request cannot be issued. */
export class TemplateValueMissing extends Error {
  constructor(readonly variable: string) {
    super(`user attribute ${variable} is not known`);
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
