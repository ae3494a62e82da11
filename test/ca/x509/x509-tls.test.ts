import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

import { buildCrl } from '../../../src/ca/x509/crl';
import { createX509CaCertificate, generateX509CaKey, type X509CaKeyPair } from '../../../src/ca/x509/x509-ca';
import { issueX509ClientCertificate } from '../../../src/ca/x509/x509-certificate';
import { opensslOk, ScratchDir } from './openssl-cli';

const HOUR = 3_600_000;

type Outcome =
  | { accepted: true; commonName: unknown; organizations: unknown; authorized: boolean }
  | { accepted: false; reason: string | undefined };

/**
 * A real Node TLS server that requires a client certificate signed by `caPem`; resolves with what
 * the server saw of one connection from a client presenting `clientCertPem`.
 */
async function connectWithClientCertificate(
  server: { key: string; cert: string; caPem: string; crlPem?: string },
  client: { privateKey: KeyObject; certificatePem: string },
): Promise<Outcome> {
  const tlsServer = tls.createServer({
    key: server.key,
    cert: server.cert,
    ca: [server.caPem],
    ...(server.crlPem ? { crl: [server.crlPem] } : {}),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const outcome = new Promise<Outcome>((resolve) => {
    tlsServer.on('secureConnection', (socket) => {
      const peer = socket.getPeerCertificate();
      resolve({ accepted: true, commonName: peer.subject.CN, organizations: peer.subject.O, authorized: socket.authorized });
      socket.end('welcome');
    });
    // With rejectUnauthorized the server drops the connection; the verification error is on the socket.
    tlsServer.on('tlsClientError', (_error, socket) => resolve({ accepted: false, reason: socket.authorizationError?.toString() }));
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: server.cert,
    key: client.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: client.certificatePem,
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined); // the refused cases reset the connection; the server's view is asserted
  socket.resume();
  try {
    return await outcome;
  } finally {
    socket.destroy();
    await closed;
    await new Promise<void>((resolve, reject) => tlsServer.close((error) => (error ? reject(error) : resolve())));
  }
}

describe('X.509 client certificates against a Node TLS server', () => {
  const scratch = new ScratchDir();
  const now = Date.now();
  let server: { key: string; cert: string };
  let rsaCa: X509CaKeyPair & { pem: string };
  let ecCa: X509CaKeyPair & { pem: string };

  beforeAll(() => {
    opensslOk([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', scratch.file('server.key'), '-out', scratch.file('server.pem'),
    ]);
    server = { key: readFileSync(scratch.file('server.key'), 'utf8'), cert: readFileSync(scratch.file('server.pem'), 'utf8') };
    const rsaKeys = generateX509CaKey('rsa2048');
    rsaCa = { ...rsaKeys, pem: createX509CaCertificate({ ...rsaKeys, commonName: 'RSA CA', validFrom: now - HOUR, validTo: now + 24 * HOUR }) };
    const ecKeys = generateX509CaKey('ecdsa-p256');
    ecCa = { ...ecKeys, pem: createX509CaCertificate({ ...ecKeys, commonName: 'EC CA', validFrom: now - HOUR, validTo: now + 24 * HOUR }) };
  });
  afterAll(() => scratch.remove());

  function clientFor(ca: X509CaKeyPair & { pem: string }, keyType: 'rsa' | 'ec' | 'ed25519', validFrom = now - 60_000, validTo = now + HOUR) {
    const pair =
      keyType === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : keyType === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          : generateKeyPairSync('ed25519');
    const issued = issueX509ClientCertificate({
      ca: { privateKey: ca.privateKey, certificatePem: ca.pem },
      subjectPublicKey: pair.publicKey,
      commonName: 'alice@example.com',
      organizations: ['developers', 'oncall'],
      validFrom,
      validTo,
    });
    return { privateKey: pair.privateKey, certificatePem: issued.pem, serialHex: issued.serialHex };
  }

  it.each<['rsa' | 'ec' | 'ed25519', 'rsa' | 'ec']>([
    ['rsa', 'rsa'],
    ['ec', 'rsa'],
    ['ed25519', 'ec'],
    ['ec', 'ec'],
  ])('accepts a %s client key certified by the %s CA and reads CN and every O', async (keyType, caType) => {
    const ca = caType === 'rsa' ? rsaCa : ecCa;
    const outcome = await connectWithClientCertificate({ ...server, caPem: ca.pem }, clientFor(ca, keyType));
    expect(outcome).toEqual({ accepted: true, authorized: true, commonName: 'alice@example.com', organizations: ['developers', 'oncall'] });
  });

  it('refuses a certificate whose validity is over', async () => {
    const expired = clientFor(rsaCa, 'ec', now - 2 * HOUR, now - HOUR);
    expect(await connectWithClientCertificate({ ...server, caPem: rsaCa.pem }, expired)).toEqual({ accepted: false, reason: 'CERT_HAS_EXPIRED' });
  });

  it('refuses a certificate that is not valid yet', async () => {
    const early = clientFor(rsaCa, 'ec', now + HOUR, now + 2 * HOUR);
    expect(await connectWithClientCertificate({ ...server, caPem: rsaCa.pem }, early)).toEqual({ accepted: false, reason: 'CERT_NOT_YET_VALID' });
  });

  it('refuses a certificate from another CA', async () => {
    const outsider = clientFor(ecCa, 'ec');
    const outcome = await connectWithClientCertificate({ ...server, caPem: rsaCa.pem }, outsider);
    expect(outcome.accepted).toBe(false);
    expect(outcome).toEqual({ accepted: false, reason: expect.stringMatching(/^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/) });
  });

  it('with our CRL loaded, refuses the revoked certificate and still accepts another', async () => {
    const revoked = clientFor(rsaCa, 'ec');
    const kept = clientFor(rsaCa, 'ec');
    const crlPem = buildCrl({
      ca: { privateKey: rsaCa.privateKey, certificatePem: rsaCa.pem },
      revoked: [{ serialHex: revoked.serialHex, revokedAt: now - 1000 }],
      thisUpdate: now - 60_000,
      nextUpdate: now + HOUR,
      crlNumber: 1n,
    });
    const withCrl = { ...server, caPem: rsaCa.pem, crlPem };
    expect(await connectWithClientCertificate(withCrl, revoked)).toEqual({ accepted: false, reason: 'CERT_REVOKED' });
    expect(await connectWithClientCertificate(withCrl, kept)).toMatchObject({ accepted: true, commonName: 'alice@example.com' });
  });
});
