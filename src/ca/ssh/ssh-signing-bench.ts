import { generateKeyPairSync, sign } from 'node:crypto';
import { signSshUserCertificate, type SshUserCertificateRequest } from './ssh-certificate';
import { sshPublicKeyFromBlob, sshPublicKeyBlob } from './ssh-public-key';

export interface SshSigningBenchResult {
  iterations: number;
  /** Node `crypto.sign` with an Ed25519 key over a message as long as a certificate's signed part. */
  rawEd25519SignsPerSecond: number;
  /** signSshUserCertificate: Ed25519 user key, Ed25519 CA, fresh nonce, encoding and signing. */
  sshCertificateSignsPerSecond: number;
  /** sshCertificateSignsPerSecond / rawEd25519SignsPerSecond (the target is at least 0.6). */
  ratio: number;
}

/** Measures certificate encode+sign throughput against raw Ed25519 signing, on this thread. */
export function benchSshSigning(iterations: number): SshSigningBenchResult {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  const ca = generateKeyPairSync('ed25519');
  const user = generateKeyPairSync('ed25519');
  const now = Date.now();
  const request: SshUserCertificateRequest = {
    publicKey: sshPublicKeyFromBlob(sshPublicKeyBlob(user.publicKey)),
    ca,
    serial: 1n,
    keyId: 'req_01HZX3V4B8Q2M7K9 approved-by U012ABCDEF,U034GHIJKL',
    principals: ['alice', 'deploy'],
    validAfter: now - 60_000,
    validBefore: now + 3_600_000,
    criticalOptions: { sourceAddress: ['10.0.0.0/8'] },
    extensions: ['permit-pty', 'permit-port-forwarding'],
  };
  // The raw baseline signs a message as long as the certificate's signed part.
  const sample = signSshUserCertificate(request);
  const signatureFieldLength = 4 + (4 + 'ssh-ed25519'.length) + (4 + 64);
  const message = sample.blob.subarray(0, sample.blob.length - signatureFieldLength);

  const warmup = Math.min(iterations, 500);
  for (let i = 0; i < warmup; i++) {
    sign(null, message, ca.privateKey);
    signSshUserCertificate({ ...request, serial: BigInt(i + 1) });
  }

  // Alternate short rounds of each so load from other processes hits both alike.
  const rounds = Math.min(10, iterations);
  let rawNs = 0;
  let certNs = 0;
  let serial = 1n;
  for (let round = 0; round < rounds; round++) {
    const count = Math.floor(iterations / rounds) + (round < iterations % rounds ? 1 : 0);
    let started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) sign(null, message, ca.privateKey);
    rawNs += Number(process.hrtime.bigint() - started);
    started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) signSshUserCertificate({ ...request, serial: serial++ });
    certNs += Number(process.hrtime.bigint() - started);
  }

  const rawEd25519SignsPerSecond = Math.round((iterations * 1e9) / rawNs);
  const sshCertificateSignsPerSecond = Math.round((iterations * 1e9) / certNs);
  return {
    iterations,
    rawEd25519SignsPerSecond,
    sshCertificateSignsPerSecond,
    ratio: Math.round((sshCertificateSignsPerSecond / rawEd25519SignsPerSecond) * 1000) / 1000,
  };
}
