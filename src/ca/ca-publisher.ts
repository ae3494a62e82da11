import type { CaMaterial } from './ca-directory';
import { x509CaFingerprint } from './certificate-signer';
import type { PublishedCa, PublishedCaStore } from './published-ca-store';
import { buildKrl } from './ssh/krl';
import { buildCrl } from './x509/crl';

/** CRLs say when the next one is due; relying parties that honour it refetch before then. */
export const CRL_VALIDITY_MS = 7 * 86_400_000;

/**
 * Builds what servers need to trust and distrust our certificates (CA keys, CA chain, KRL, CRLs)
 * from the CA material and the revoked serials, and publishes it through Redis. Runs in the
 * worker only: CRLs are signed with the CA keys. A retired CA leaves the trusted keys when its
 * grace ends, but its revocations stay in the KRL and its CRL until its certificates have expired:
 * a server may trust it longer than we do (a static TrustedUserCAKeys, a missed refresh).
 */
export class CaPublisher {
  constructor(
    private readonly store: PublishedCaStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async publish(ca: CaMaterial): Promise<PublishedCa> {
    const now = this.clock();
    const version = await this.store.nextVersion();
    const revoked = await this.store.revoked();
    const current = { ssh: ca.ssh, x509: ca.x509 };
    // Judged at publication time, not when the CA was loaded: a worker loaded days ago must not
    // keep serving a CA whose grace has ended, nor drop revocations a retired CA still needs.
    const trusted = [current, ...ca.previous.filter((g) => g.trustUntil > now)];
    const listed = [current, ...[...ca.previous, ...ca.retired].filter((g) => g.retainUntil > now)];

    const krl = buildKrl({
      version: BigInt(version),
      generatedAt: now,
      comment: 'access-bot',
      sections: listed.map((g) => ({
        caPublicKeyBlob: g.ssh.publicBlob,
        serials: revoked.filter((r) => r.kind === 'ssh' && r.caFingerprint === g.ssh.fingerprint).map((r) => BigInt(r.serial)),
      })),
    });
    const crl = listed
      .map((g) => {
        const fp = x509CaFingerprint(g.x509);
        return buildCrl({
          ca: { privateKey: g.x509.privateKey, certificatePem: g.x509.certificatePem },
          revoked: revoked.filter((r) => r.kind === 'x509' && r.caFingerprint === fp).map((r) => ({ serialHex: r.serial, revokedAt: r.revokedAt })),
          thisUpdate: now,
          nextUpdate: now + CRL_VALIDITY_MS,
          crlNumber: BigInt(version),
        });
      })
      .join('');
    const published: PublishedCa = {
      sshUserCaKeys: trusted.map((g) => `${g.ssh.publicLine}\n`).join(''),
      x509CaBundle: trusted.map((g) => g.x509.certificatePem.trimEnd() + '\n').join(''),
      krl,
      crl,
      publishedAt: now,
      version,
    };
    await this.store.write(published);
    return published;
  }
}
