import type { Redis } from 'ioredis';
import type { IssuedCertificate } from '../engine/types';
import type { RedisKeys } from '../store/redis-keys';

/** Public CA material as served over HTTP. Never contains a private key. */
export interface PublishedCa {
  /** Every trusted SSH user CA key, one OpenSSH line each (TrustedUserCAKeys). */
  sshUserCaKeys: string;
  /** Every trusted X.509 CA certificate, PEM, current first. */
  x509CaBundle: string;
  /** Binary OpenSSH KRL. */
  krl: Buffer;
  /** One PEM CRL per trusted X.509 CA. */
  crl: string;
  publishedAt: number;
  version: number;
}

export interface RevokedEntry {
  kind: 'ssh' | 'x509';
  caFingerprint: string;
  serial: string;
  revokedAt: number;
}

/** Redis side of CA publication: revoked serials in, published material out. No cryptography here. */
export class PublishedCaStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Records a revoked certificate (idempotent: the first revocation time stays). */
  async addRevoked(cert: Pick<IssuedCertificate, 'kind' | 'caFingerprint' | 'serial'>, revokedAt: number): Promise<void> {
    await this.redis.hsetnx(this.keys.revokedSerials, `${cert.kind}|${cert.caFingerprint}|${cert.serial}`, String(revokedAt));
  }

  async revoked(): Promise<RevokedEntry[]> {
    const all = await this.redis.hgetall(this.keys.revokedSerials);
    return Object.entries(all).map(([field, at]) => {
      const [kind, caFingerprint, serial] = field.split('|') as ['ssh' | 'x509', string, string];
      return { kind, caFingerprint, serial, revokedAt: Number(at) };
    });
  }

  async nextVersion(): Promise<number> {
    return this.redis.hincrby(this.keys.caPublic, 'counter', 1);
  }

  async write(p: PublishedCa): Promise<void> {
    await this.redis.hset(this.keys.caPublic, {
      ssh_user_ca_keys: p.sshUserCaKeys,
      x509_ca_bundle: p.x509CaBundle,
      krl: p.krl.toString('base64'),
      crl: p.crl,
      published_at: String(p.publishedAt),
      version: String(p.version),
    });
  }

  async read(): Promise<PublishedCa | undefined> {
    const h = await this.redis.hgetall(this.keys.caPublic);
    if (!h.ssh_user_ca_keys || h.krl === undefined) return undefined;
    return {
      sshUserCaKeys: h.ssh_user_ca_keys,
      x509CaBundle: h.x509_ca_bundle ?? '',
      krl: Buffer.from(h.krl, 'base64'),
      crl: h.crl ?? '',
      publishedAt: Number(h.published_at),
      version: Number(h.version),
    };
  }
}
