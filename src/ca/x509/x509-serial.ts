import { randomBytes } from 'node:crypto';

import { X509SerialInvalidError } from './errors/x509-serial-invalid-error';

/**
 * Serial numbers are handled as unsigned big-endian magnitudes without leading zero bytes; their
 * hex form (lowercase) is what `openssl x509 -serial` prints, lowercased.
 */

// RFC 5280 4.1.2.2: at most 20 octets of DER INTEGER content, so a 20-byte magnitude with its
// top bit set (which needs a leading 0x00) is one octet too long.
const MAX_ENCODED_OCTETS = 20;

/** A random positive 128-bit serial: top bit cleared so the INTEGER needs no sign octet, never zero. */
export function randomX509Serial(): Buffer {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[0]! &= 0x7f;
    const magnitude = stripLeadingZeros(bytes);
    if (magnitude.length > 0) return magnitude;
  }
}

/** Checks and normalizes a caller-chosen serial (unsigned big-endian bytes). */
export function normalizeX509Serial(serial: Buffer): Buffer {
  const magnitude = stripLeadingZeros(serial);
  if (magnitude.length === 0) throw new X509SerialInvalidError('A certificate serial number must not be zero.');
  const encodedOctets = magnitude.length + (magnitude[0]! & 0x80 ? 1 : 0);
  if (encodedOctets > MAX_ENCODED_OCTETS) {
    throw new X509SerialInvalidError(`A certificate serial number must fit in ${MAX_ENCODED_OCTETS} octets.`);
  }
  return magnitude;
}

export function x509SerialFromHex(hex: string): Buffer {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new X509SerialInvalidError('A certificate serial number must be written in hexadecimal.');
  return normalizeX509Serial(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

export function x509SerialHex(magnitude: Buffer): string {
  return magnitude.toString('hex');
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return Buffer.from(bytes.subarray(start));
}
