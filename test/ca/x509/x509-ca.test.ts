import { generateKeyPairSync } from 'node:crypto';

import { createX509CaCertificate, generateX509CaKey, type X509CaKeyKind } from '../../../src/ca/x509/x509-ca';
import { openssl, opensslDate, opensslOk, ScratchDir } from './openssl-cli';

const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;

describe('X.509 CA certificate', () => {
  const scratch = new ScratchDir();
  afterAll(() => scratch.remove());

  it.each<[X509CaKeyKind, string, string]>([
    ['rsa2048', 'Public-Key: (2048 bit)', 'sha256WithRSAEncryption'],
    ['rsa3072', 'Public-Key: (3072 bit)', 'sha256WithRSAEncryption'],
    ['ecdsa-p256', 'NIST CURVE: P-256', 'ecdsa-with-SHA256'],
  ])('a %s CA is a self-signed, leaf-only CA that openssl accepts', (kind, keyLine, signatureAlgorithm) => {
    const keys = generateX509CaKey(kind);
    const validFrom = Date.now() - 60_000;
    const validTo = validFrom + 5 * YEAR;
    const pem = createX509CaCertificate({ ...keys, commonName: 'access-bot X.509 CA', organization: 'Example Corp', validFrom, validTo });
    const file = scratch.write(`ca-${kind}.pem`, pem);

    expect(opensslOk(['verify', '-x509_strict', '-CAfile', file, file]).stdout).toContain(': OK');
    const text = opensslOk(['x509', '-in', file, '-noout', '-text']).stdout;
    expect(text).toContain('Subject: O = Example Corp, CN = access-bot X.509 CA');
    expect(text).toContain('Issuer: O = Example Corp, CN = access-bot X.509 CA');
    expect(text).toContain(keyLine);
    expect(text).toContain(`Signature Algorithm: ${signatureAlgorithm}`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    const ski = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1];
    expect(ski).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(/X509v3 Authority Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1]).toBe(ski);

    const dates = opensslOk(['x509', '-in', file, '-noout', '-startdate', '-enddate']).stdout;
    expect(opensslDate(/notBefore=(.*)/.exec(dates)?.[1] ?? '')).toBe(Math.floor(validFrom / 1000) * 1000);
    expect(opensslDate(/notAfter=(.*)/.exec(dates)?.[1] ?? '')).toBe(Math.floor(validTo / 1000) * 1000);
    const serial = BigInt(`0x${/serial=([0-9A-F]+)/.exec(opensslOk(['x509', '-in', file, '-noout', '-serial']).stdout)?.[1]}`);
    expect(serial > 0n && serial < 1n << 127n).toBe(true);
    expect(text).not.toContain('Negative');
  });

  it('the private key openssl reads back matches the certificate', () => {
    const keys = generateX509CaKey('ecdsa-p256');
    const now = Date.now();
    const certFile = scratch.write('match-ca.pem', createX509CaCertificate({ ...keys, commonName: 'CA', validFrom: now, validTo: now + HOUR }));
    const keyFile = scratch.write('match-ca.key', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const fromCert = opensslOk(['x509', '-in', certFile, '-noout', '-pubkey']).stdout;
    const fromKey = opensslOk(['pkey', '-in', keyFile, '-pubout']).stdout;
    expect(fromCert).toBe(fromKey);
  });

  it('a certificate whose validity has ended is refused by openssl', () => {
    const keys = generateX509CaKey('ecdsa-p256');
    const now = Date.now();
    const file = scratch.write('old-ca.pem', createX509CaCertificate({ ...keys, commonName: 'Old CA', validFrom: now - 2 * HOUR, validTo: now - HOUR }));
    const result = openssl(['verify', '-CAfile', file, file]);
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toContain('certificate has expired');
  });

  it('refuses a public key that does not belong to the private key', () => {
    const keys = generateX509CaKey('ecdsa-p256');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Date.now();
    expect(() =>
      createX509CaCertificate({ privateKey: keys.privateKey, publicKey: other.publicKey, commonName: 'CA', validFrom: now, validTo: now + HOUR }),
    ).toThrow(expect.objectContaining({ code: 'X509_CA_INVALID' }));
  });

  it('refuses a CA key type it cannot sign with', () => {
    const ed = generateKeyPairSync('ed25519');
    const now = Date.now();
    expect(() => createX509CaCertificate({ ...ed, commonName: 'CA', validFrom: now, validTo: now + HOUR })).toThrow(
      expect.objectContaining({ code: 'X509_CA_INVALID', message: expect.stringContaining('ed25519') }),
    );
  });

  it('refuses a control character in the name and a reversed validity', () => {
    const keys = generateX509CaKey('ecdsa-p256');
    const now = Date.now();
    expect(() => createX509CaCertificate({ ...keys, commonName: 'CA\nCN=evil', validFrom: now, validTo: now + HOUR })).toThrow(
      expect.objectContaining({ code: 'X509_SUBJECT_INVALID' }),
    );
    expect(() => createX509CaCertificate({ ...keys, commonName: 'CA', validFrom: now, validTo: now - HOUR })).toThrow(
      expect.objectContaining({ code: 'X509_VALIDITY_INVALID' }),
    );
  });
});
