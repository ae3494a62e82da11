import { generateKeyPairSync } from 'node:crypto';

import { buildCrl, type CrlOptions } from '../../../src/ca/x509/crl';
import { createX509CaCertificate, generateX509CaKey, type X509CaKeyKind } from '../../../src/ca/x509/x509-ca';
import { issueX509ClientCertificate } from '../../../src/ca/x509/x509-certificate';
import { openssl, opensslDate, opensslOk, ScratchDir } from './openssl-cli';

const HOUR = 3_600_000;

describe.each<X509CaKeyKind>(['rsa2048', 'ecdsa-p256'])('CRL signed by an %s CA', (kind) => {
  const scratch = new ScratchDir();
  const now = Date.now();
  const keys = generateX509CaKey(kind);
  const certificatePem = createX509CaCertificate({ ...keys, commonName: 'access-bot CA', validFrom: now - HOUR, validTo: now + 24 * HOUR });
  const ca = { privateKey: keys.privateKey, certificatePem };
  const caFile = scratch.write('ca.pem', certificatePem);
  afterAll(() => scratch.remove());

  function issue(name: string) {
    const issued = issueX509ClientCertificate({
      ca,
      subjectPublicKey: generateKeyPairSync('ed25519').publicKey,
      commonName: name,
      organizations: ['developers'],
      validFrom: now - 60_000,
      validTo: now + HOUR,
    });
    return { ...issued, file: scratch.write(`${name}.pem`, issued.pem) };
  }

  function crl(overrides: Partial<CrlOptions> = {}): string {
    return buildCrl({ ca, revoked: [], thisUpdate: now - 60_000, nextUpdate: now + HOUR, crlNumber: 1n, ...overrides });
  }

  it('openssl refuses the revoked certificate and accepts the one that was not revoked', () => {
    const revoked = issue('mallory');
    const kept = issue('alice');
    const crlFile = scratch.write('crl.pem', crl({ revoked: [{ serialHex: revoked.serialHex, revokedAt: now - 5_000 }] }));

    const refused = openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crlFile, revoked.file]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain('certificate revoked');
    expect(opensslOk(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crlFile, kept.file]).stdout).toBe(`${kept.file}: OK\n`);
  });

  it('openssl verifies the CRL signature and reads its number, AKI, dates and entries', () => {
    const revoked = issue('bob');
    const revokedAt = now - 30_000;
    const crlFile = scratch.write('fields.pem', crl({ revoked: [{ serialHex: revoked.serialHex, revokedAt }], crlNumber: 4242n }));
    const checked = opensslOk(['crl', '-in', crlFile, '-CAfile', caFile, '-verify', '-noout', '-text']);
    expect(checked.stderr).toContain('verify OK');
    const text = checked.stdout;
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain('Issuer: CN = access-bot CA');
    expect(text).toMatch(/X509v3 CRL Number:\s+4242\n/);
    const caSki = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(opensslOk(['x509', '-in', caFile, '-noout', '-text']).stdout)?.[1];
    expect(/X509v3 Authority Key Identifier:\s+([0-9A-F:]+)/.exec(text)?.[1]).toBe(caSki);
    expect(text).toContain(`Serial Number: ${revoked.serialHex.toUpperCase()}`);
    expect(opensslDate(/Revocation Date: (.*)/.exec(text)?.[1] ?? '')).toBe(Math.floor(revokedAt / 1000) * 1000);
    expect(opensslDate(/Last Update: (.*)/.exec(text)?.[1] ?? '')).toBe(Math.floor((now - 60_000) / 1000) * 1000);
    expect(opensslDate(/Next Update: (.*)/.exec(text)?.[1] ?? '')).toBe(Math.floor((now + HOUR) / 1000) * 1000);
  });

  it('an empty CRL is valid and revokes nothing', () => {
    const kept = issue('carol');
    const crlFile = scratch.write('empty.pem', crl());
    expect(opensslOk(['crl', '-in', crlFile, '-noout', '-text']).stdout).toContain('No Revoked Certificates.');
    expect(opensslOk(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crlFile, kept.file]).stdout).toBe(`${kept.file}: OK\n`);
  });

  it('lists a serial revoked twice once, at its first revocation time', () => {
    const revoked = issue('dave');
    const crlFile = scratch.write('twice.pem', crl({
      revoked: [
        { serialHex: revoked.serialHex, revokedAt: now - 1_000 },
        { serialHex: revoked.serialHex.toUpperCase(), revokedAt: now - 20_000 },
      ],
    }));
    const text = opensslOk(['crl', '-in', crlFile, '-noout', '-text']).stdout;
    expect(text.match(/Serial Number:/g)).toHaveLength(1);
    expect(opensslDate(/Revocation Date: (.*)/.exec(text)?.[1] ?? '')).toBe(Math.floor((now - 20_000) / 1000) * 1000);
  });

  it('a CRL signed by a different CA is refused by openssl', () => {
    const otherKeys = generateX509CaKey(kind);
    const otherPem = createX509CaCertificate({ ...otherKeys, commonName: 'access-bot CA', validFrom: now - HOUR, validTo: now + HOUR });
    const forged = buildCrl({ ca: { privateKey: otherKeys.privateKey, certificatePem: otherPem }, revoked: [], thisUpdate: now - 60_000, nextUpdate: now + HOUR, crlNumber: 1n });
    const result = openssl(['crl', '-in', scratch.write('forged.pem', forged), '-CAfile', caFile, '-verify', '-noout']);
    // openssl 3.0 `crl -verify` may exit 0 on a bad signature; what it prints is the verdict.
    expect(result.stderr + result.stdout).toMatch(/verify failure|signature failure/);
    expect(result.stderr + result.stdout).not.toContain('verify OK');
  });

  it('refuses bad input with a coded error', () => {
    expect(() => crl({ nextUpdate: now - HOUR })).toThrow(expect.objectContaining({ code: 'X509_CRL_INPUT_INVALID' }));
    expect(() => crl({ crlNumber: -1n })).toThrow(expect.objectContaining({ code: 'X509_CRL_INPUT_INVALID' }));
    expect(() => crl({ crlNumber: 1n << 160n })).toThrow(expect.objectContaining({ code: 'X509_CRL_INPUT_INVALID' }));
    expect(() => crl({ revoked: [{ serialHex: 'not-hex', revokedAt: now }] })).toThrow(expect.objectContaining({ code: 'X509_SERIAL_INVALID' }));
    expect(() => crl({ revoked: [{ serialHex: '00', revokedAt: now }] })).toThrow(expect.objectContaining({ code: 'X509_SERIAL_INVALID' }));
  });
});
