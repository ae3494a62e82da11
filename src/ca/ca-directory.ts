import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../config/duration';
import { sshFingerprint, sshPublicKeyBlob, sshPublicKeyFromKeyObject } from './ssh/ssh-public-key';
import { assertPrivateDirectory, prepareCaDirectory, readPrivateKeyFile, readPublicCaFile } from './ca-file-checks';
import { createX509CaCertificate, generateX509CaKey, type X509CaKeyKind } from './x509/x509-ca';
import { CaAlreadyExistsError } from './errors/ca-already-exists-error';
import { CaNotInitializedError } from './errors/ca-not-initialized-error';
import { CaRotationGraceTooShortError } from './errors/ca-rotation-grace-too-short-error';

export type SshCaKeyKind = 'ed25519' | 'ecdsa-p256' | 'rsa3072';

export interface SshCa {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `ssh-ed25519 AAAA… access-bot user CA`: a TrustedUserCAKeys line. */
  publicLine: string;
  publicBlob: Buffer;
  fingerprint: string;
}

export interface X509Ca {
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
}

/**
 * A CA generation rotated out. It stays trusted until `trustUntil` (the grace), and its revoked
 * serials stay in the KRL and its CRL until `retainUntil`, when every certificate it can have
 * signed has expired; its keys are deleted after that.
 */
export interface PreviousCa {
  id: string;
  retiredAt: number;
  trustUntil: number;
  /** >= trustUntil. */
  retainUntil: number;
  ssh: SshCa;
  x509: X509Ca;
}

export interface CaMaterial {
  dir: string;
  ssh: SshCa;
  x509: X509Ca;
  /** Generations still inside their grace period: trusted, and listed in the KRL and CRLs. */
  previous: PreviousCa[];
  /** Generations past their grace whose certificates may still be valid: no longer trusted, but their revocations stay listed. */
  retired: PreviousCa[];
}

const FILES = {
  sshKey: 'ssh_user_ca',
  sshPub: 'ssh_user_ca.pub',
  x509Key: 'x509_ca.key',
  x509Cert: 'x509_ca.pem',
  trust: 'previous.json',
} as const;
const PREVIOUS_DIR = 'previous';
const TEN_YEARS_MS = 3650 * 86_400_000;

interface TrustEntry {
  id: string;
  retiredAt: number;
  trustUntil: number;
  /** Absent in files written before retention existed: then it is trustUntil. */
  retainUntil?: number;
}

interface TrustFile {
  previous: TrustEntry[];
}

export interface InitOptions {
  sshKey?: SshCaKeyKind;
  x509Key?: X509CaKeyKind;
  now?: number;
  x509ValidityMs?: number;
  commonName?: string;
}

function generateSshCaKey(kind: SshCaKeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === 'ed25519') return generateKeyPairSync('ed25519');
  if (kind === 'ecdsa-p256') return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return generateKeyPairSync('rsa', { modulusLength: 3072 });
}

/** Writes a generation (private keys 0600, fail if a file exists) into `dir`. */
function writeGeneration(dir: string, options: InitOptions): void {
  const now = options.now ?? Date.now();
  const ssh = generateSshCaKey(options.sshKey ?? 'ed25519');
  const x509 = generateX509CaKey(options.x509Key ?? 'rsa2048');
  const certificatePem = createX509CaCertificate({
    privateKey: x509.privateKey,
    publicKey: x509.publicKey,
    commonName: options.commonName ?? `access-bot client CA ${new Date(now).toISOString().slice(0, 10)}`,
    organization: 'access-bot',
    validFrom: now - 60_000,
    validTo: now + (options.x509ValidityMs ?? TEN_YEARS_MS),
  });
  const secret = { mode: 0o600, flag: 'wx' } as const;
  const open = { mode: 0o644, flag: 'wx' } as const;
  writeFileSync(join(dir, FILES.sshKey), ssh.privateKey.export({ type: 'pkcs8', format: 'pem' }), secret);
  writeFileSync(join(dir, FILES.sshPub), `${sshPublicKeyFromKeyObject(ssh.publicKey, 'access-bot user CA')}\n`, open);
  writeFileSync(join(dir, FILES.x509Key), x509.privateKey.export({ type: 'pkcs8', format: 'pem' }), secret);
  writeFileSync(join(dir, FILES.x509Cert), certificatePem, open);
}

/** Creates a new CA in `dir`. Refuses when one is there: overwriting a CA locks everyone out. */
export function initCa(dir: string, options: InitOptions = {}): CaMaterial {
  const existing = Object.values(FILES).filter((f) => f !== FILES.trust && existsSync(join(dir, f)));
  if (existing.length)
    throw new CaAlreadyExistsError(`A CA already exists in ${dir} (${existing.join(', ')}); refusing to overwrite it. Use \`access-bot ca rotate\`.`);
  prepareCaDirectory(dir);
  writeGeneration(dir, options);
  return loadCa(dir, options.now);
}

export interface RotateOptions extends InitOptions {
  /**
   * The longest certificate any resource allows (its `duration.max`): every certificate the
   * current CA signed has expired this long after the rotation.
   */
  longestCertificateMs: number;
  /** Where that limit comes from, for the refusal message (e.g. `resource "prod-db" (workflows/prod.yaml:12)`). */
  longestCertificateSource?: string;
  /**
   * Accept a grace shorter than the longest certificate (after a CA key compromise): servers that
   * refresh the trusted keys stop accepting the old CA's certificates early. Its revocations stay
   * listed until those certificates have expired all the same.
   */
  allowShortGrace?: boolean;
}

/**
 * Retires the current CA into previous/<id>/ (trusted for `graceMs` more, its revocations listed
 * until its longest certificate has expired) and creates a new one. Generations kept for no
 * purpose any more are deleted, private keys included.
 */
export function rotateCa(dir: string, graceMs: number, options: RotateOptions): CaMaterial {
  const now = options.now ?? Date.now();
  const { longestCertificateMs } = options;
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new RangeError('the rotation grace must be a whole number of milliseconds');
  if (!Number.isSafeInteger(longestCertificateMs) || longestCertificateMs <= 0) throw new RangeError('longestCertificateMs must be positive');
  if (graceMs < longestCertificateMs && !options.allowShortGrace) {
    const minimum = formatDuration(Math.ceil(longestCertificateMs / 1000) * 1000);
    throw new CaRotationGraceTooShortError(
      `--grace ${formatDuration(graceMs)} is shorter than the longest certificate the workflows allow (${minimum}` +
        `${options.longestCertificateSource ? `, ${options.longestCertificateSource}` : ''}). The previous CA must stay trusted ` +
        'until every certificate it signed has expired, or servers that refresh the trusted keys stop accepting those ' +
        `certificates early. Use --grace ${minimum} or longer. (After a CA key compromise, --allow-short-grace ends trust ` +
        'in the old CA early; its revocations stay in the KRL and CRL until its certificates have expired.)',
    );
  }
  const current = loadCa(dir, now);
  const id = new Date(now).toISOString().replace(/[:.]/g, '-');
  const target = join(dir, PREVIOUS_DIR, id);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  for (const f of [FILES.sshKey, FILES.sshPub, FILES.x509Key, FILES.x509Cert]) renameSync(join(dir, f), join(target, f));

  const trust = readTrust(dir);
  const kept = trust.previous.filter((p) => retainUntilOf(p) > now);
  for (const p of trust.previous.filter((q) => retainUntilOf(q) <= now)) rmSync(join(dir, PREVIOUS_DIR, p.id), { recursive: true, force: true });
  kept.push({ id, retiredAt: now, trustUntil: now + graceMs, retainUntil: now + Math.max(graceMs, longestCertificateMs) });
  writeFileSync(join(dir, FILES.trust), `${JSON.stringify({ previous: kept }, null, 2)}\n`, { mode: 0o644 });

  writeGeneration(dir, { ...options, now, sshKey: options.sshKey ?? sshKindOf(current.ssh.privateKey) });
  return loadCa(dir, now);
}

function sshKindOf(key: KeyObject): SshCaKeyKind {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') return 'ecdsa-p256';
  return 'rsa3072';
}

function readTrust(dir: string): TrustFile {
  const path = join(dir, FILES.trust);
  if (!existsSync(path)) return { previous: [] };
  return JSON.parse(readPublicCaFile(path)) as TrustFile;
}

function loadGeneration(dir: string): { ssh: SshCa; x509: X509Ca } {
  assertPrivateDirectory(dir);
  const sshPrivate = readPrivateKeyFile(join(dir, FILES.sshKey));
  const sshPublic = createPublicKey(sshPrivate);
  const x509Private = readPrivateKeyFile(join(dir, FILES.x509Key));
  const publicBlob = sshPublicKeyBlob(sshPublic);
  return {
    ssh: {
      privateKey: sshPrivate,
      publicKey: sshPublic,
      publicLine: sshPublicKeyFromKeyObject(sshPublic, 'access-bot user CA'),
      publicBlob,
      fingerprint: sshFingerprint(publicBlob),
    },
    x509: { privateKey: x509Private, publicKey: createPublicKey(x509Private), certificatePem: readPublicCaFile(join(dir, FILES.x509Cert)) },
  };
}

/**
 * Loads the CA, the previous generations still in grace and the retired ones whose certificates
 * may still be valid. Refuses keys others can read, and files or directories others could change
 * (see ca-file-checks.ts).
 */
export function loadCa(dir: string, now = Date.now()): CaMaterial {
  if (!existsSync(join(dir, FILES.sshKey)) || !existsSync(join(dir, FILES.x509Key)))
    throw new CaNotInitializedError(`No CA in ${dir}. Create one with \`access-bot ca init --dir ${dir}\`.`);
  const current = loadGeneration(dir);
  const trust = readTrust(dir);
  if (trust.previous.length > 0 && existsSync(join(dir, PREVIOUS_DIR))) assertPrivateDirectory(join(dir, PREVIOUS_DIR));
  const kept = trust.previous
    .filter((p) => retainUntilOf(p) > now && existsSync(join(dir, PREVIOUS_DIR, p.id)))
    .map((p) => ({ ...p, retainUntil: retainUntilOf(p), ...loadGeneration(join(dir, PREVIOUS_DIR, p.id)) }));
  return { dir, ...current, previous: kept.filter((p) => p.trustUntil > now), retired: kept.filter((p) => p.trustUntil <= now) };
}

function retainUntilOf(entry: TrustEntry): number {
  return Math.max(entry.trustUntil, entry.retainUntil ?? entry.trustUntil);
}

/** Whether `dir` holds a CA (for start-up messages). */
export function hasCa(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).includes(FILES.sshKey);
}
