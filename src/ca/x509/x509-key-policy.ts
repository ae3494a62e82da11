import type { KeyObject } from 'node:crypto';

import { ed25519PointProblem, ed25519PointProblemText } from '../ed25519-point';
import { X509PublicKeyDegenerateError } from './errors/x509-public-key-degenerate-error';
import { X509PublicKeyMalformedError } from './errors/x509-public-key-malformed-error';
import { X509PublicKeyUnsupportedError } from './errors/x509-public-key-unsupported-error';
import { X509PublicKeyWeakError } from './errors/x509-public-key-weak-error';

const MIN_RSA_BITS = 2048;
// Larger moduli buy nothing here and make every handshake with the key slow.
const MAX_RSA_BITS = 16384;
const MIN_RSA_EXPONENT = 65537n;
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const ACCEPTED_CURVES = new Set(['prime256v1', 'secp384r1']);

export const ACCEPTED_KEY_TYPES = 'RSA (2048 bits or more), ECDSA P-256 or P-384, or Ed25519';

/** A short human name for a key ("RSA 4096", "ECDSA P-256", "Ed25519"). */
export function describePublicKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return `RSA ${details.modulusLength ?? '?'}`;
    case 'ec':
      return `ECDSA ${CURVE_NAMES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'with explicit curve parameters'}`;
    case 'ed25519':
      return 'Ed25519';
    default:
      return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  }
}

/** The keys access-bot puts into client certificates; anything else is refused with the reason. */
export function assertAcceptedPublicKey(key: KeyObject): void {
  if (key.type !== 'public') throw new X509PublicKeyUnsupportedError('A certificate can only be issued for a public key.');
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new X509PublicKeyWeakError(`This RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.`);
      if (bits > MAX_RSA_BITS) throw new X509PublicKeyUnsupportedError(`This RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are accepted.`);
      const exponent = details.publicExponent ?? 0n;
      if (exponent < MIN_RSA_EXPONENT || exponent % 2n === 0n) {
        throw new X509PublicKeyWeakError(`This RSA key's public exponent (${exponent}) is weak; use 65537.`);
      }
      return;
    }
    case 'ec':
      if (details.namedCurve !== undefined && ACCEPTED_CURVES.has(details.namedCurve)) return;
      throw new X509PublicKeyUnsupportedError(`${describePublicKey(key)} keys are not accepted; use ${ACCEPTED_KEY_TYPES}.`);
    case 'ed25519': {
      const problem = ed25519PointProblem(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'));
      if (problem === 'not-on-curve' || problem === 'length') throw new X509PublicKeyMalformedError(ed25519PointProblemText(problem));
      if (problem !== undefined) {
        throw new X509PublicKeyDegenerateError(
          `${ed25519PointProblemText(problem)} Create a key with \`openssl genpkey -algorithm ed25519\` and send its public key or a CSR.`,
        );
      }
      return;
    }
    default:
      throw new X509PublicKeyUnsupportedError(`${describePublicKey(key)} keys are not accepted; use ${ACCEPTED_KEY_TYPES}.`);
  }
}
