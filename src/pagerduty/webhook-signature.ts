import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureCheck } from '../http/signed-webhook-route';

/** At most this many signatures are looked at: PagerDuty sends one per active secret (two during rotation). */
const MAX_SIGNATURES = 8;

/**
 * PagerDuty Webhooks v3: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>[,v1=<hex>…]`,
 * one signature per secret while a secret is being rotated. Any one valid signature is enough.
 * Each is compared in constant time against the HMAC under our secret; other versions are ignored.
 */
export function checkPagerDutySignature(header: string | string[] | undefined, rawBody: Buffer, secret: string): SignatureCheck {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return { ok: false, reason: 'missing' };
  const candidates = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .slice(0, MAX_SIGNATURES)
    .map((part) => part.slice(3));
  const wellFormed = candidates.filter((hex) => /^[0-9a-f]{64}$/i.test(hex));
  if (wellFormed.length === 0) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  let match = false;
  // Every candidate is compared (no early exit), so timing says nothing about which one matched.
  for (const hex of wellFormed) {
    if (timingSafeEqual(Buffer.from(hex, 'hex'), expected)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** The header value PagerDuty would send for this body under these secrets (for tests and the fake). */
export function pagerDutySignature(rawBody: Buffer | string, secrets: string[]): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`).join(',');
}
