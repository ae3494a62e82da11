import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { createX509CaCertificate, generateX509CaKey, type X509CaKeyKind } from '../../../src/ca/x509/x509-ca';
import { issueX509ClientCertificate, type X509ClientCertificateOptions } from '../../../src/ca/x509/x509-certificate';
import { DEGENERATE_ED25519_KEYS, ed25519SpkiPem } from '../degenerate-ed25519-keys';
import { opensslDate, opensslOk, ScratchDir } from './openssl-cli';

const HOUR = 3_600_000;

interface TestCa {
  kind: X509CaKeyKind;
  privateKey: KeyObject;
  certificatePem: string;
  file: string;
}

const SUBJECT_KEYS: Record<string, () => KeyObject> = {
  'RSA-2048': () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
  'ECDSA P-256': () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
  'ECDSA P-384': () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
  Ed25519: () => generateKeyPairSync('ed25519').publicKey,
};

describe('X.509 client certificate', () => {
  const scratch = new ScratchDir();
  const cas = new Map<X509CaKeyKind, TestCa>();
  const now = Date.now();

  beforeAll(() => {
    for (const kind of ['rsa2048', 'ecdsa-p256'] as const) {
      const keys = generateX509CaKey(kind);
      const certificatePem = createX509CaCertificate({ ...keys, commonName: `access-bot ${kind} CA`, validFrom: now - HOUR, validTo: now + 24 * HOUR });
      cas.set(kind, { kind, privateKey: keys.privateKey, certificatePem, file: scratch.write(`ca-${kind}.pem`, certificatePem) });
    }
  });
  afterAll(() => scratch.remove());

  function ca(kind: X509CaKeyKind): TestCa {
    const found = cas.get(kind);
    if (!found) throw new Error(`no ${kind} CA`);
    return found;
  }

  function issue(kind: X509CaKeyKind, overrides: Partial<X509ClientCertificateOptions> = {}) {
    const { privateKey, certificatePem } = ca(kind);
    return issueX509ClientCertificate({
      ca: { privateKey, certificatePem },
      subjectPublicKey: SUBJECT_KEYS['ECDSA P-256']!(),
      commonName: 'alice@example.com',
      organizations: ['developers', 'oncall'],
      validFrom: now - 60_000,
      validTo: now + HOUR,
      ...overrides,
    });
  }

  describe.each<[X509CaKeyKind, string]>([
    ['rsa2048', 'sha256WithRSAEncryption'],
    ['ecdsa-p256', 'ecdsa-with-SHA256'],
  ])('signed by an %s CA', (kind, signatureAlgorithm) => {
    it.each(Object.keys(SUBJECT_KEYS))('openssl verifies a client certificate for a %s key, for TLS client use', (subjectKind) => {
      const issued = issue(kind, { subjectPublicKey: SUBJECT_KEYS[subjectKind]!() });
      const file = scratch.write(`leaf-${kind}-${subjectKind.replace(/\W/g, '')}.pem`, issued.pem);
      const result = opensslOk(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', ca(kind).file, file]);
      expect(result.stdout).toBe(`${file}: OK\n`);
      expect(opensslOk(['x509', '-in', file, '-noout', '-text']).stdout).toContain(`Signature Algorithm: ${signatureAlgorithm}`);
    });

    it('openssl shows the subject, the extensions and a positive serial', () => {
      const issued = issue(kind);
      const file = scratch.write(`fields-${kind}.pem`, issued.pem);
      const text = opensslOk(['x509', '-in', file, '-noout', '-text']).stdout;
      expect(text).toContain('Version: 3 (0x2)');
      expect(text).toContain('Subject: O = developers, O = oncall, CN = alice@example.com');
      expect(text).toContain(`Issuer: CN = access-bot ${kind} CA`);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE\n/);
      // digitalSignature only: a TLS client signs CertificateVerify and never encrypts a key.
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
      expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s+TLS Web Client Authentication\n/);
      expect(text).not.toContain('Negative');

      const caText = opensslOk(['x509', '-in', ca(kind).file, '-noout', '-text']).stdout;
      const caSki = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
      expect(/X509v3 Authority Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1]).toBe(caSki);
      const ski = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1];
      expect(ski).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      expect(ski).not.toBe(caSki);

      const serial = /serial=([0-9A-F]+)/.exec(opensslOk(['x509', '-in', file, '-noout', '-serial']).stdout)?.[1];
      expect(serial?.toLowerCase()).toBe(issued.serialHex);
      const value = BigInt(`0x${issued.serialHex}`);
      expect(value > 0n && value < 1n << 127n).toBe(true);
    });
  });

  it('the reported fingerprint and validity are what openssl reads from the certificate', () => {
    const validFrom = now - 90_500;
    const validTo = now + 2 * HOUR + 999;
    const issued = issue('rsa2048', { validFrom, validTo });
    const file = scratch.write('dates.pem', issued.pem);
    const out = opensslOk(['x509', '-in', file, '-noout', '-fingerprint', '-sha256', '-startdate', '-enddate']).stdout;
    expect(/Fingerprint=([0-9A-F:]+)/.exec(out)?.[1]).toBe(issued.fingerprintSha256);
    expect(issued.notBefore).toBe(Math.floor(validFrom / 1000) * 1000);
    expect(issued.notAfter).toBe(Math.floor(validTo / 1000) * 1000);
    expect(opensslDate(/notBefore=(.*)/.exec(out)?.[1] ?? '')).toBe(issued.notBefore);
    expect(opensslDate(/notAfter=(.*)/.exec(out)?.[1] ?? '')).toBe(issued.notAfter);
  });

  it('the certificate carries exactly the subject key it was asked for', () => {
    const pair = generateKeyPairSync('ed25519');
    const issued = issue('ecdsa-p256', { subjectPublicKey: pair.publicKey });
    const file = scratch.write('pubkey.pem', issued.pem);
    expect(opensslOk(['x509', '-in', file, '-noout', '-pubkey']).stdout).toBe(pair.publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('the subject key identifier is the one openssl derives for the same key', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = scratch.write('ski.key', pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const reference = opensslOk(['req', '-x509', '-new', '-key', keyFile, '-subj', '/CN=reference', '-days', '1', '-addext', 'subjectKeyIdentifier=hash']).stdout;
    const skiOf = (pem: string) =>
      /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(opensslOk(['x509', '-noout', '-text'], pem).stdout)?.[1];
    expect(skiOf(issue('ecdsa-p256', { subjectPublicKey: pair.publicKey }).pem)).toBe(skiOf(reference));
  });

  it('serials are random and distinct; a caller-chosen serial is used as given', () => {
    const serials = new Set(Array.from({ length: 50 }, () => issue('ecdsa-p256').serialHex));
    expect(serials.size).toBe(50);
    const chosen = issue('ecdsa-p256', { serial: Buffer.from('00ff0102', 'hex') });
    expect(chosen.serialHex).toBe('ff0102');
    const file = scratch.write('chosen-serial.pem', chosen.pem);
    expect(opensslOk(['x509', '-in', file, '-noout', '-serial']).stdout).toBe('serial=FF0102\n');
    expect(() => issue('ecdsa-p256', { serial: Buffer.alloc(4) })).toThrow(expect.objectContaining({ code: 'X509_SERIAL_INVALID' }));
    expect(() => issue('ecdsa-p256', { serial: Buffer.alloc(20, 0xff) })).toThrow(expect.objectContaining({ code: 'X509_SERIAL_INVALID' }));
  });

  it('keeps non-ASCII names intact', () => {
    const issued = issue('rsa2048', { commonName: 'Zoë Łukasiewicz', organizations: ['équipe-réseau'] });
    const file = scratch.write('utf8.pem', issued.pem);
    const subject = opensslOk(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus_space']).stdoutBytes.toString('utf8');
    expect(subject).toBe('subject=O=équipe-réseau, CN=Zoë Łukasiewicz\n');
  });

  it('refuses system:masters unless the resource named it explicitly', () => {
    expect(() => issue('rsa2048', { organizations: ['developers', 'system:masters'] })).toThrow(
      expect.objectContaining({ code: 'X509_SYSTEM_MASTERS_REFUSED', status: 403 }),
    );
    const allowed = issue('rsa2048', { organizations: ['system:masters'], allowSystemMasters: true });
    const file = scratch.write('masters.pem', allowed.pem);
    expect(opensslOk(['x509', '-in', file, '-noout', '-subject']).stdout).toBe('subject=O = system:masters, CN = alice@example.com\n');
  });

  it.each<[string, Partial<X509ClientCertificateOptions>]>([
    ['an empty common name', { commonName: '' }],
    ['a common name over 64 characters', { commonName: 'a'.repeat(65) }],
    ['a newline that would forge another attribute', { commonName: 'alice\nO=system:masters' }],
    ['a NUL byte', { commonName: 'alice\u0000admin' }],
    ['a right-to-left override', { commonName: 'alice\u202emoc.live' }],
    ['surrounding whitespace in a group', { organizations: [' developers'] }],
    ['an empty group', { organizations: [''] }],
    ['a group listed twice', { organizations: ['ops', 'ops'] }],
  ])('refuses %s', (_label, overrides) => {
    expect(() => issue('rsa2048', overrides)).toThrow(expect.objectContaining({ code: 'X509_SUBJECT_INVALID', status: 400 }));
  });

  it('refuses weak and unsupported subject keys, whoever passes them', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => issue('rsa2048', { subjectPublicKey: weak })).toThrow(expect.objectContaining({ code: 'X509_PUBLIC_KEY_WEAK' }));
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).publicKey;
    expect(() => issue('rsa2048', { subjectPublicKey: p521 })).toThrow(expect.objectContaining({ code: 'X509_PUBLIC_KEY_UNSUPPORTED' }));
    // The issuer re-checks the key itself: a degenerate Ed25519 key never gets a certificate, whoever passes it in.
    for (const key of DEGENERATE_ED25519_KEYS) {
      const subjectPublicKey = createPublicKey(ed25519SpkiPem(key.hex));
      expect(() => issue('rsa2048', { subjectPublicKey })).toThrow(expect.objectContaining({ code: 'X509_PUBLIC_KEY_DEGENERATE' }));
    }
  });

  it('refuses an empty or reversed validity window', () => {
    expect(() => issue('rsa2048', { validFrom: now, validTo: now })).toThrow(expect.objectContaining({ code: 'X509_VALIDITY_INVALID' }));
    expect(() => issue('rsa2048', { validFrom: now, validTo: now - HOUR })).toThrow(expect.objectContaining({ code: 'X509_VALIDITY_INVALID' }));
    expect(() => issue('rsa2048', { validTo: Number.NaN })).toThrow(expect.objectContaining({ code: 'X509_VALIDITY_INVALID' }));
  });

  it('refuses to sign with a CA key that does not match the CA certificate', () => {
    expect(() =>
      issueX509ClientCertificate({
        ca: { privateKey: ca('ecdsa-p256').privateKey, certificatePem: ca('rsa2048').certificatePem },
        subjectPublicKey: SUBJECT_KEYS.Ed25519!(),
        commonName: 'alice',
        organizations: [],
        validFrom: now,
        validTo: now + HOUR,
      }),
    ).toThrow(expect.objectContaining({ code: 'X509_CA_INVALID' }));
  });

  it('an issued certificate cannot itself act as a CA', () => {
    const leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leaf = issue('ecdsa-p256', { subjectPublicKey: leafKeys.publicKey });
    expect(() =>
      issueX509ClientCertificate({
        ca: { privateKey: leafKeys.privateKey, certificatePem: leaf.pem },
        subjectPublicKey: SUBJECT_KEYS.Ed25519!(),
        commonName: 'mallory',
        organizations: [],
        validFrom: now,
        validTo: now + HOUR,
      }),
    ).toThrow(expect.objectContaining({ code: 'X509_CA_INVALID' }));
  });
});
