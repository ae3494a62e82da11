import { X509ValidityInvalidError } from './errors/x509-validity-invalid-error';
import { sequence, time, type Asn1 } from './x509-der';

export interface X509Validity {
  /** Epoch ms, whole seconds: what the certificate actually says. */
  notBefore: number;
  notAfter: number;
}

const EARLIEST = Date.UTC(1950, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * Certificates carry whole seconds. Both bounds are rounded down, so a grant never lasts longer
 * than approved.
 */
export function x509Validity(validFrom: number, validTo: number): X509Validity {
  for (const [label, value] of [['start', validFrom], ['end', validTo]] as const) {
    if (!Number.isFinite(value) || value < EARLIEST || value > LATEST) {
      throw new X509ValidityInvalidError(`The certificate validity ${label} is not a time between 1950 and 9999.`);
    }
  }
  const notBefore = Math.floor(validFrom / 1000) * 1000;
  const notAfter = Math.floor(validTo / 1000) * 1000;
  if (notAfter <= notBefore) throw new X509ValidityInvalidError('The certificate validity ends before it starts.');
  return { notBefore, notAfter };
}

export function validityAsn1(validity: X509Validity): Asn1 {
  return sequence([time(validity.notBefore), time(validity.notAfter)]);
}
