import { createHash, generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { createX509CaCertificate, generateX509CaKey } from '../../../src/ca/x509/x509-ca';
import { issueX509ClientCertificate } from '../../../src/ca/x509/x509-certificate';
import { parseX509PublicKeyInput } from '../../../src/ca/x509/x509-public-key';
import { DEGENERATE_ED25519_KEYS, ed25519SpkiPem } from '../degenerate-ed25519-keys';
import { opensslOk, ScratchDir } from './openssl-cli';

/** SHA-256 of the SPKI DER as openssl computes it, in the parser's `AB:CD:…` form. */
function opensslSpkiFingerprint(keyFile: string): string {
  const der = opensslOk(['pkey', '-pubin', '-in', keyFile, '-outform', 'DER']).stdoutBytes;
  const hex = opensslOk(['dgst', '-sha256', '-r'], der).stdout.split(' ')[0] ?? '';
  return hex.toUpperCase().match(/../g)!.join(':');
}

function pemOf(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

describe('parseX509PublicKeyInput', () => {
  const scratch = new ScratchDir();
  afterAll(() => scratch.remove());

  /** A private key made by openssl genpkey, returned as the path of its PEM file. */
  function opensslKey(name: string, args: string[]): string {
    const file = scratch.file(`${name}.key`);
    opensslOk(['genpkey', ...args, '-out', file]);
    return file;
  }

  function publicPem(keyFile: string): { pem: string; file: string } {
    const pem = opensslOk(['pkey', '-in', keyFile, '-pubout']).stdout;
    return { pem, file: scratch.write(`${keyFile.split('/').pop()}.pub`, pem) };
  }

  function csrPem(keyFile: string, subject: string, extra: string[] = []): string {
    return opensslOk(['req', '-new', '-key', keyFile, '-subj', subject, ...extra]).stdout;
  }

  const keys: Record<string, { args: string[]; description: string }> = {
    rsa2048: { args: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], description: 'RSA 2048' },
    p256: { args: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], description: 'ECDSA P-256' },
    p384: { args: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], description: 'ECDSA P-384' },
    ed25519: { args: ['-algorithm', 'ED25519'], description: 'Ed25519' },
  };

  describe.each(Object.keys(keys))('a %s key', (name) => {
    const spec = keys[name]!;
    let keyFile: string;
    beforeAll(() => {
      keyFile = opensslKey(name, spec.args);
    });

    it('is accepted as a PEM public key, with the fingerprint openssl computes', () => {
      const { pem, file } = publicPem(keyFile);
      const parsed = parseX509PublicKeyInput(pem);
      expect(parsed.source).toBe('spki');
      expect(parsed.description).toBe(spec.description);
      expect(parsed.csrSubject).toBeUndefined();
      expect(parsed.fingerprintSha256).toBe(opensslSpkiFingerprint(file));
      expect(parsed.publicKey.export({ type: 'spki', format: 'pem' })).toBe(pem);
    });

    it('is accepted from a CSR whose signature verifies, with the subject it asked for', () => {
      const parsed = parseX509PublicKeyInput(`\n  ${csrPem(keyFile, '/O=developers/O=oncall/CN=alice@example.com')}  \n`);
      expect(parsed.source).toBe('csr');
      expect(parsed.csrSubject).toEqual({ commonName: 'alice@example.com', organizations: ['developers', 'oncall'] });
      expect(parsed.fingerprintSha256).toBe(opensslSpkiFingerprint(publicPem(keyFile).file));
    });

    it('refuses a CSR whose subject was altered after signing', () => {
      const der = derOf(csrPem(keyFile, '/O=developers/CN=alice@example.com'));
      const at = der.indexOf('alice');
      der.write('mallo', at, 'latin1');
      expect(() => parseX509PublicKeyInput(pemOf('CERTIFICATE REQUEST', der))).toThrow(
        expect.objectContaining({ code: 'X509_CSR_SIGNATURE_INVALID', message: expect.stringContaining('does not verify') }),
      );
    });

    it('refuses a CSR whose signature bytes were altered', () => {
      const der = derOf(csrPem(keyFile, '/CN=alice'));
      der[der.length - 1]! ^= 0x01;
      expect(() => parseX509PublicKeyInput(pemOf('CERTIFICATE REQUEST', der))).toThrow(expect.objectContaining({ code: 'X509_CSR_SIGNATURE_INVALID' }));
    });
  });

  it('accepts a PKCS#1 "RSA PUBLIC KEY" and fingerprints it like the same key in SPKI form', () => {
    const keyFile = opensslKey('pkcs1', keys.rsa2048!.args);
    const pkcs1 = opensslOk(['rsa', '-in', keyFile, '-RSAPublicKey_out']).stdout;
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const parsed = parseX509PublicKeyInput(pkcs1);
    expect(parsed.description).toBe('RSA 2048');
    expect(parsed.fingerprintSha256).toBe(opensslSpkiFingerprint(publicPem(keyFile).file));
  });

  it.each<[string, string[]]>([
    ['UTF8String', []],
    ['BMPString', ['-config', 'bmp.cnf']],
  ])('reads a non-ASCII CSR subject encoded as %s', (_encoding, config) => {
    scratch.write('bmp.cnf', '[req]\ndistinguished_name=dn\nstring_mask=MASK:0x800\n[dn]\n');
    const keyFile = opensslKey('utf8-subject', keys.ed25519!.args);
    const csr = opensslOk(['req', '-new', '-key', keyFile, '-subj', '/O=Équipe/CN=Zoë', '-utf8', ...config.map((c) => (c.endsWith('.cnf') ? scratch.file(c) : c))]).stdout;
    expect(parseX509PublicKeyInput(csr).csrSubject).toEqual({ commonName: 'Zoë', organizations: ['Équipe'] });
  });

  it('a certificate issued for a CSR carries the CSR key and verifies with openssl', () => {
    const keyFile = opensslKey('csr-to-cert', keys.p256!.args);
    const csr = csrPem(keyFile, '/CN=whatever-the-user-typed');
    const parsed = parseX509PublicKeyInput(csr);
    const caKeys = generateX509CaKey('rsa2048');
    const now = Date.now();
    const caPem = createX509CaCertificate({ ...caKeys, commonName: 'CA', validFrom: now - 60_000, validTo: now + 3_600_000 });
    const issued = issueX509ClientCertificate({
      ca: { privateKey: caKeys.privateKey, certificatePem: caPem },
      subjectPublicKey: parsed.publicKey,
      commonName: 'alice@example.com',
      organizations: ['developers'],
      validFrom: now,
      validTo: now + 600_000,
    });
    const certFile = scratch.write('from-csr.pem', issued.pem);
    expect(opensslOk(['verify', '-CAfile', scratch.write('csr-ca.pem', caPem), certFile]).stdout).toBe(`${certFile}: OK\n`);
    const reqPubkey = opensslOk(['req', '-pubkey', '-noout'], csr).stdout;
    expect(opensslOk(['x509', '-in', certFile, '-noout', '-pubkey']).stdout).toBe(reqPubkey);
    // The subject comes from the request's identity, never from the CSR.
    expect(opensslOk(['x509', '-in', certFile, '-noout', '-subject']).stdout).toBe('subject=O = developers, CN = alice@example.com\n');
  });

  describe('refuses, with the reason', () => {
    function refusal(text: string): { code: string; message: string } {
      try {
        parseX509PublicKeyInput(text);
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
      throw new Error('the input was accepted');
    }

    it.each<[string, string[], string, RegExp]>([
      ['a 1024-bit RSA key', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], 'X509_PUBLIC_KEY_WEAK', /1024 bits; at least 2048/],
      ['an RSA key with exponent 3', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'], 'X509_PUBLIC_KEY_WEAK', /exponent \(3\)/],
      ['a P-521 key', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'], 'X509_PUBLIC_KEY_UNSUPPORTED', /ECDSA P-521 keys are not accepted/],
      ['a secp256k1 key', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], 'X509_PUBLIC_KEY_UNSUPPORTED', /secp256k1 keys are not accepted/],
      ['an Ed448 key', ['-algorithm', 'ED448'], 'X509_PUBLIC_KEY_UNSUPPORTED', /ED448 keys are not accepted/],
      ['an X25519 key', ['-algorithm', 'X25519'], 'X509_PUBLIC_KEY_UNSUPPORTED', /X25519 keys are not accepted/],
    ])('%s', (_label, args, code, reason) => {
      const keyFile = opensslKey(`refused-${args.join('').replace(/\W/g, '')}`, args);
      const result = refusal(publicPem(keyFile).pem);
      expect(result.code).toBe(code);
      expect(result.message).toMatch(reason);
    });

    it.each(DEGENERATE_ED25519_KEYS.map((k) => [k.label, k] as const))('the degenerate Ed25519 key %s', (_label, key) => {
      const result = refusal(ed25519SpkiPem(key.hex));
      expect(result.code).toBe('X509_PUBLIC_KEY_DEGENERATE');
      expect(result.message).toMatch(key.kind === 'small-order' ? /forged without the private key/ : /not in canonical form/);
    });

    it('an Ed25519 key that is not a point of the curve', () => {
      expect(refusal(ed25519SpkiPem(`02${'00'.repeat(31)}`))).toEqual({ code: 'X509_PUBLIC_KEY_MALFORMED', message: expect.stringMatching(/not a point of the curve/) });
    });

    it('a DSA key', () => {
      const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
      expect(refusal(dsa.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toEqual({
        code: 'X509_PUBLIC_KEY_UNSUPPORTED',
        message: expect.stringMatching(/^DSA keys are not accepted; use RSA \(2048 bits or more\), ECDSA P-256 or P-384, or Ed25519\.$/),
      });
    });

    it('a CSR for a weak key, even with a valid signature', () => {
      const keyFile = opensslKey('weak-csr', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
      expect(refusal(csrPem(keyFile, '/CN=alice'))).toMatchObject({ code: 'X509_PUBLIC_KEY_WEAK' });
    });

    it('a CSR signed with SHA-1', () => {
      const keyFile = opensslKey('sha1-csr', keys.rsa2048!.args);
      expect(refusal(csrPem(keyFile, '/CN=alice', ['-sha1']))).toEqual({ code: 'X509_PUBLIC_KEY_WEAK', message: expect.stringContaining('SHA-1') });
    });

    it('a CSR signed with RSA-PSS', () => {
      const keyFile = opensslKey('pss-csr', keys.rsa2048!.args);
      const csr = csrPem(keyFile, '/CN=alice', ['-sha256', '-sigopt', 'rsa_padding_mode:pss']);
      expect(refusal(csr)).toEqual({ code: 'X509_PUBLIC_KEY_UNSUPPORTED', message: expect.stringContaining('RSA-PSS') });
    });

    it.each<[string, () => string]>([
      ['PKCS#8', () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
      ['traditional RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
      ['SEC1 EC', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString()],
      [
        'OpenSSH',
        () => {
          const file = scratch.file('id_ed25519');
          const run = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
          if (run.status !== 0) throw new Error(run.stderr.toString());
          return readFileSync(file, 'utf8');
        },
      ],
    ])('a pasted %s private key, loudly and without repeating it', (_label, make) => {
      const pasted = make();
      const publicPart = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      for (const text of [pasted, `${publicPart}${pasted}`]) {
        const result = refusal(text);
        expect(result.code).toBe('X509_PRIVATE_KEY_PASTED');
        expect(result.message).toContain('PRIVATE key');
        for (const line of pasted.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) {
          expect(result.message).not.toContain(line.slice(0, 16));
        }
      }
    });

    it('something that is not text', () => {
      expect(refusal(42 as unknown as string)).toMatchObject({ code: 'X509_PUBLIC_KEY_MALFORMED' });
    });

    it('input over 16 KiB', () => {
      const big = `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(17 * 1024)}\n-----END PUBLIC KEY-----\n`;
      expect(refusal(big)).toMatchObject({ code: 'X509_PUBLIC_KEY_TOO_LARGE' });
    });

    it.each<[string, () => string, string, RegExp]>([
      ['text that is not PEM', () => 'hello, here is my key', 'X509_PUBLIC_KEY_MALFORMED', /not a PEM block/],
      ['two PEM blocks', () => pubPem() + pubPem(), 'X509_PUBLIC_KEY_MALFORMED', /exactly one PEM block/],
      ['damaged base64', () => pubPem().replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'), 'X509_PUBLIC_KEY_MALFORMED', /not valid base64/],
      ['a truncated key', () => pemOf('PUBLIC KEY', derOf(pubPem()).subarray(0, 20)), 'X509_PUBLIC_KEY_MALFORMED', /cannot be read/],
      ['mismatched BEGIN and END', () => pubPem().replace('END PUBLIC KEY', 'END CERTIFICATE'), 'X509_PUBLIC_KEY_MALFORMED', /ends as another type/],
      ['text around the block', () => `my key:\n${pubPem()}`, 'X509_PUBLIC_KEY_MALFORMED', /text around it/],
      ['garbage labelled as a CSR', () => pemOf('CERTIFICATE REQUEST', Buffer.from('3003020100', 'hex')), 'X509_PUBLIC_KEY_MALFORMED', /PKCS#10/],
      ['a certificate', () => selfSignedCertificate(), 'X509_PUBLIC_KEY_UNSUPPORTED', /certificate, not a public key/],
      ['an OpenSSH public key', () => 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop', 'X509_PUBLIC_KEY_UNSUPPORTED', /OpenSSH public key/],
    ])('%s', (_label, make, code, reason) => {
      const result = refusal(make());
      expect(result.code).toBe(code);
      expect(result.message).toMatch(reason);
    });

    function pubPem(): string {
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    }

    function selfSignedCertificate(): string {
      return opensslOk(['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', scratch.file('self.key'), '-subj', '/CN=x', '-days', '1']).stdout;
    }
  });

  it('fingerprints do not depend on the PEM line layout', () => {
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rewrapped = pemOf('PUBLIC KEY', derOf(pem)).replace(/\n/g, '\r\n');
    expect(parseX509PublicKeyInput(rewrapped).fingerprintSha256).toBe(parseX509PublicKeyInput(pem).fingerprintSha256);
    expect(parseX509PublicKeyInput(pem).fingerprintSha256).toBe(
      createHash('sha256').update(derOf(pem)).digest('hex').toUpperCase().match(/../g)!.join(':'),
    );
  });
});
