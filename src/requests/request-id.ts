import { randomBytes } from 'node:crypto';

/** Lowercase Crockford base32: no i, l, o, u; easy to read aloud and to type. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const REQUEST_ID_PATTERN = /^ar-[0-9a-hjkmnp-tv-z]{10}$/;

/**
 * `ar-` + 10 random base32 characters (50 bits). Valid as a BullMQ job id (no `:`, not an integer)
 * and short enough to type in `/access cancel <id>`. Creation is compare-and-set, so a collision
 * is detected, never overwritten.
 */
export function newRequestId(): string {
  const bytes = randomBytes(10);
  let id = 'ar-';
  for (const b of bytes) id += ALPHABET[b & 31];
  return id;
}
