import { createHash } from 'node:crypto';

/**
 * SHA-256 over DER as colon-separated uppercase hex: the form `openssl x509 -fingerprint -sha256`
 * and Node's `X509Certificate.fingerprint256` print, so an auditor can compare them directly.
 */
export function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}
