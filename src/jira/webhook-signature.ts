import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureCheck } from '../http/signed-webhook-route';

/**
 * Jira Cloud admin webhooks with a secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw
 * body>` (the WebSub form). Compared in constant time against the HMAC under our secret.
 */
export function checkJiraSignature(header: string | string[] | undefined, rawBody: Buffer, secret: string): SignatureCheck {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return { ok: false, reason: 'missing' };
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!match) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(match[1]!, 'hex'), expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** The header value Jira would send for this body under this secret (for tests and the fake). */
export function jiraSignature(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
