import { X509SubjectInvalidError } from './errors/x509-subject-invalid-error';
import { oid, sequence, set, utf8String, type Asn1 } from './x509-der';

export const NAME_ATTRIBUTE_OID = { commonName: '2.5.4.3', organizationName: '2.5.4.10' } as const;

// RFC 5280 Appendix A: ub-common-name and ub-organization-name are both 64 characters.
const MAX_ATTRIBUTE_LENGTH = 64;
const MAX_ORGANIZATIONS = 64;

// C0/C1 controls, bidi embeddings/overrides/isolates (they make names render differently from
// what they hold), BOM, and lone surrogates (not encodable as UTF-8).
const FORBIDDEN = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/** Refuses an attribute value a certificate subject must not carry; `label` names it in the message. */
export function assertSubjectValue(label: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new X509SubjectInvalidError(`${label} is empty.`);
  if ([...value].length > MAX_ATTRIBUTE_LENGTH) {
    throw new X509SubjectInvalidError(`${label} is longer than ${MAX_ATTRIBUTE_LENGTH} characters.`);
  }
  if (value.trim() !== value) throw new X509SubjectInvalidError(`${label} starts or ends with whitespace.`);
  if (FORBIDDEN.test(value)) throw new X509SubjectInvalidError(`${label} contains a control or invisible formatting character.`);
}

/** Validates the subject of a certificate about to be issued: one CN, distinct O values. */
export function assertSubject(commonName: string, organizations: readonly string[]): void {
  assertSubjectValue('The certificate common name', commonName);
  if (organizations.length > MAX_ORGANIZATIONS) {
    throw new X509SubjectInvalidError(`A certificate carries at most ${MAX_ORGANIZATIONS} organizations (groups).`);
  }
  const seen = new Set<string>();
  for (const organization of organizations) {
    assertSubjectValue('A certificate organization (group)', organization);
    if (seen.has(organization)) throw new X509SubjectInvalidError(`The organization (group) "${organization}" is listed twice.`);
    seen.add(organization);
  }
}

/**
 * `O=<group>` for each group in the order given, then `CN=<name>`: the order kubeadm and
 * `openssl req` write, and the one Kubernetes reads groups from. One attribute per RDN, UTF8String.
 */
export function buildName(commonName: string, organizations: readonly string[]): Asn1 {
  const attribute = (type: string, value: string): Asn1 => set([sequence([oid(type), utf8String(value)])]);
  return sequence([
    ...organizations.map((organization) => attribute(NAME_ATTRIBUTE_OID.organizationName, organization)),
    attribute(NAME_ATTRIBUTE_OID.commonName, commonName),
  ]);
}
