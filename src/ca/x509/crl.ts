import { X509CrlInputInvalidError } from './errors/x509-crl-input-invalid-error';
import { sequence, smallInteger, time, toPem, unsignedInteger } from './x509-der';
import { authorityKeyIdentifier, crlNumber as crlNumberExtension, extensionsBlock } from './x509-extensions';
import { loadX509Issuer, type X509IssuingCa } from './x509-issuer';
import { x509SerialFromHex } from './x509-serial';
import { signX509Structure } from './x509-signer';

export interface RevokedX509Certificate {
  /** As returned by `issueX509ClientCertificate` (`serialHex`). */
  serialHex: string;
  /** Epoch ms. */
  revokedAt: number;
}

export interface CrlOptions {
  ca: X509IssuingCa;
  revoked: readonly RevokedX509Certificate[];
  /** Epoch ms. */
  thisUpdate: number;
  nextUpdate: number;
  /** Monotonically increasing per CA (RFC 5280 5.2.3); the caller keeps the counter. */
  crlNumber: bigint;
}

const EARLIEST = Date.UTC(1950, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);
// RFC 5280 5.2.3: CRLNumber is a non-negative INTEGER of at most 20 octets.
const CRL_NUMBER_LIMIT = 1n << 159n;

/**
 * An X.509 v2 CRL (RFC 5280 section 5) with AKI and CRLNumber extensions, signed by the CA.
 * A serial listed twice appears once, with its earliest revocation time; entries are ordered by
 * serial so the same input always gives the same CRL. Returns PEM ("X509 CRL").
 */
export function buildCrl(options: CrlOptions): string {
  const thisUpdate = wholeSeconds('thisUpdate', options.thisUpdate);
  const nextUpdate = wholeSeconds('nextUpdate', options.nextUpdate);
  if (nextUpdate <= thisUpdate) throw new X509CrlInputInvalidError('The CRL nextUpdate must be after its thisUpdate.');
  if (options.crlNumber < 0n || options.crlNumber >= CRL_NUMBER_LIMIT) {
    throw new X509CrlInputInvalidError('The CRL number must be a non-negative integer of at most 20 octets.');
  }

  const entries = new Map<string, { serial: Buffer; revokedAt: number }>();
  for (const entry of options.revoked) {
    const serial = x509SerialFromHex(entry.serialHex);
    const revokedAt = wholeSeconds('revocation time', entry.revokedAt);
    const key = serial.toString('hex');
    const known = entries.get(key);
    if (!known || revokedAt < known.revokedAt) entries.set(key, { serial, revokedAt });
  }
  const ordered = [...entries.values()].sort((a, b) => a.serial.length - b.serial.length || Buffer.compare(a.serial, b.serial));

  const issuer = loadX509Issuer(options.ca);
  const tbs = sequence([
    smallInteger(1), // v2
    issuer.signer.algorithmIdentifier(),
    issuer.name,
    time(thisUpdate),
    time(nextUpdate),
    // RFC 5280 5.1.2.6: with nothing revoked the list is absent, not empty.
    ...(ordered.length > 0 ? [sequence(ordered.map((e) => sequence([unsignedInteger(e.serial), time(e.revokedAt)])))] : []),
    extensionsBlock(0, [authorityKeyIdentifier(issuer.keyIdentifier), crlNumberExtension(options.crlNumber)]),
  ]);
  return toPem('X509 CRL', signX509Structure(tbs, issuer.signer));
}

function wholeSeconds(label: string, epochMs: number): number {
  if (!Number.isFinite(epochMs) || epochMs < EARLIEST || epochMs > LATEST) {
    throw new X509CrlInputInvalidError(`The CRL ${label} is not a time between 1950 and 9999.`);
  }
  return Math.floor(epochMs / 1000) * 1000;
}
