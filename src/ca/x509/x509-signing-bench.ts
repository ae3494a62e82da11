import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import forge from 'node-forge';

import { createX509CaCertificate, generateX509CaKey } from './x509-ca';
import { issueX509ClientCertificate } from './x509-certificate';
import { loadX509Issuer } from './x509-issuer';
import { randomX509Serial, x509SerialHex } from './x509-serial';

export interface X509SigningBenchResult {
  /** Both paths issue the same RSA-2048 client certificate from an RSA-2048 CA. */
  caKey: 'rsa2048';
  subjectKey: 'rsa2048';
  nativeIterations: number;
  /** `issueX509ClientCertificate`: forge ASN.1 for the TBS, Node's `crypto.sign` for the signature. */
  nativeCertsPerSecond: number;
  forgeIterations: number;
  /** node-forge alone: `createCertificate()`, `setExtensions()`, `cert.sign()` (pure-JS RSA). */
  forgeCertsPerSecond: number;
  /** nativeCertsPerSecond / forgeCertsPerSecond. */
  speedup: number;
  /** Given the same serial and validity, both paths wrote byte-identical certificates. */
  identicalOutput: boolean;
}

const COMMON_NAME = 'alice@example.com';
const ORGANIZATIONS = ['developers', 'oncall'];
const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class; // @types declares valueTagClass with the wrong enum

/**
 * Issued certificates per second with the native-signing path versus forge's own `cert.sign()`.
 * forge is far slower, so it runs fewer iterations (default: a twentieth, at least one).
 */
export function benchX509Signing(iterations: number, forgeIterations = Math.max(1, Math.ceil(iterations / 20))): X509SigningBenchResult {
  if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(forgeIterations) || forgeIterations < 1) {
    throw new RangeError('benchX509Signing needs positive whole iteration counts');
  }
  const now = Date.now();
  const caKeys = generateX509CaKey('rsa2048');
  const caPem = createX509CaCertificate({ ...caKeys, commonName: 'access-bot bench CA', validFrom: now - 60_000, validTo: now + 86_400_000 });
  const subject = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ca = { privateKey: caKeys.privateKey, certificatePem: caPem };
  const forgeIssuer = prepareForgeIssuer(caKeys.privateKey, caPem, subject.publicKey);
  const validFrom = now - 60_000;
  const validTo = now + 3_600_000;

  const native = (serial?: Buffer): string =>
    issueX509ClientCertificate({
      ca,
      subjectPublicKey: subject.publicKey,
      commonName: COMMON_NAME,
      organizations: ORGANIZATIONS,
      validFrom,
      validTo,
      ...(serial ? { serial } : {}),
    }).pem;

  const serial = randomX509Serial();
  const identicalOutput = new X509Certificate(native(serial)).raw.equals(
    new X509Certificate(forgeIssuer(serial, validFrom, validTo)).raw,
  );

  // Warm up both paths (JIT, the issuer cache) before timing.
  native();
  forgeIssuer(randomX509Serial(), validFrom, validTo);

  let started = performance.now();
  for (let i = 0; i < iterations; i++) native();
  const nativeMs = performance.now() - started;

  started = performance.now();
  for (let i = 0; i < forgeIterations; i++) forgeIssuer(randomX509Serial(), validFrom, validTo);
  const forgeMs = performance.now() - started;

  const nativeCertsPerSecond = (iterations * 1000) / nativeMs;
  const forgeCertsPerSecond = (forgeIterations * 1000) / forgeMs;
  return {
    caKey: 'rsa2048',
    subjectKey: 'rsa2048',
    nativeIterations: iterations,
    nativeCertsPerSecond: round(nativeCertsPerSecond),
    forgeIterations,
    forgeCertsPerSecond: round(forgeCertsPerSecond),
    speedup: round(nativeCertsPerSecond / forgeCertsPerSecond),
    identicalOutput,
  };
}

/** The same certificate as `issueX509ClientCertificate` writes, built and signed by node-forge alone. */
function prepareForgeIssuer(caPrivateKey: KeyObject, caPem: string, subjectPublicKey: KeyObject) {
  const caKey = forge.pki.privateKeyFromPem(caPrivateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const caCert = forge.pki.certificateFromPem(caPem);
  const publicKey = forge.pki.publicKeyFromPem(subjectPublicKey.export({ type: 'spki', format: 'pem' }).toString());
  const caKeyIdentifier = loadX509Issuer({ privateKey: caPrivateKey, certificatePem: caPem }).keyIdentifier.toString('latin1');

  return (serial: Buffer, validFrom: number, validTo: number): string => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = x509SerialHex(serial);
    cert.validity.notBefore = new Date(Math.floor(validFrom / 1000) * 1000);
    cert.validity.notAfter = new Date(Math.floor(validTo / 1000) * 1000);
    cert.setSubject([
      ...ORGANIZATIONS.map((value) => ({ type: '2.5.4.10', value, valueTagClass: UTF8 })),
      { type: '2.5.4.3', value: COMMON_NAME, valueTagClass: UTF8 },
    ]);
    cert.setIssuer(caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
