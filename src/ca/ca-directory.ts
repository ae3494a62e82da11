import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshFingerprint, sshPublicKeyBlob, sshPublicKeyFromKeyObject } from './ssh/ssh-public-key';
import { createX509CaCertificate, generateX509CaKey, type X509CaKeyKind } from './x509/x509-ca';
import { CaAlreadyExistsError } from './errors/ca-already-exists-error';
import { CaKeyPermissionError } from './errors/ca-key-permission-error';
import { CaNotInitializedError } from './errors/ca-not-initialized-error';

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

/** A CA generation rotated out: still trusted (and able to sign its CRL) until `trustUntil`. */
export interface PreviousCa {
  id: string;
  retiredAt: number;
  trustUntil: number;
  ssh: SshCa;
  x509: X509Ca;
}

export interface CaMaterial {
  dir: string;
  ssh: SshCa;
  x509: X509Ca;
  /** Only generations still inside their grace period. */
  previous: PreviousCa[];
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

interface TrustFile {
  previous: { id: string; retiredAt: number; trustUntil: number }[];
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
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeGeneration(dir, options);
  return loadCa(dir, options.now);
}

/**
 * Retires the current CA into previous/<id>/ (trusted for `graceMs` more) and creates a new one.
 * Generations whose grace has ended are deleted, private keys included.
 */
export function rotateCa(dir: string, graceMs: number, options: InitOptions = {}): CaMaterial {
  const now = options.now ?? Date.now();
  const current = loadCa(dir, now);
  const id = new Date(now).toISOString().replace(/[:.]/g, '-');
  const target = join(dir, PREVIOUS_DIR, id);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  for (const f of [FILES.sshKey, FILES.sshPub, FILES.x509Key, FILES.x509Cert]) renameSync(join(dir, f), join(target, f));

  const trust = readTrust(dir);
  const kept = trust.previous.filter((p) => p.trustUntil > now);
  for (const p of trust.previous.filter((q) => q.trustUntil <= now)) rmSync(join(dir, PREVIOUS_DIR, p.id), { recursive: true, force: true });
  kept.push({ id, retiredAt: now, trustUntil: now + graceMs });
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
  return JSON.parse(readFileSync(path, 'utf8')) as TrustFile;
}

function readPrivateKey(path: string): KeyObject {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new CaKeyPermissionError(
      `${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run \`chmod 600 ${path}\`. The worker will not use a CA key others can read.`,
    );
  return createPrivateKey(readFileSync(path));
}

function loadGeneration(dir: string): { ssh: SshCa; x509: X509Ca } {
  const sshPrivate = readPrivateKey(join(dir, FILES.sshKey));
  const sshPublic = createPublicKey(sshPrivate);
  const x509Private = readPrivateKey(join(dir, FILES.x509Key));
  const publicBlob = sshPublicKeyBlob(sshPublic);
  return {
    ssh: {
      privateKey: sshPrivate,
      publicKey: sshPublic,
      publicLine: sshPublicKeyFromKeyObject(sshPublic, 'access-bot user CA'),
      publicBlob,
      fingerprint: sshFingerprint(publicBlob),
    },
    x509: { privateKey: x509Private, publicKey: createPublicKey(x509Private), certificatePem: readFileSync(join(dir, FILES.x509Cert), 'utf8') },
  };
}

/** Loads the CA (and previous generations still in grace), refusing keys others can read. */
export function loadCa(dir: string, now = Date.now()): CaMaterial {
  if (!existsSync(join(dir, FILES.sshKey)) || !existsSync(join(dir, FILES.x509Key)))
    throw new CaNotInitializedError(`No CA in ${dir}. Create one with \`access-bot ca init --dir ${dir}\`.`);
  const current = loadGeneration(dir);
  const previous = readTrust(dir)
    .previous.filter((p) => p.trustUntil > now && existsSync(join(dir, PREVIOUS_DIR, p.id)))
    .map((p) => ({ ...p, ...loadGeneration(join(dir, PREVIOUS_DIR, p.id)) }));
  return { dir, ...current, previous };
}

/** Whether `dir` holds a CA (for start-up messages). */
export function hasCa(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).includes(FILES.sshKey);
}
