import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Small wrappers around the real OpenSSH tools for the tests in this folder. */

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and resolves with its exit code and output (never rejects on a non-zero exit). */
export function runTool(program: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env: { ...process.env, ...options.env }, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

export interface UserKeyKind {
  label: string;
  /** ssh-keygen -t and -b */
  type: 'ed25519' | 'ecdsa' | 'rsa' | 'dsa';
  bits?: number;
}

export const USER_KEY_KINDS: readonly UserKeyKind[] = [
  { label: 'ed25519', type: 'ed25519' },
  { label: 'ecdsa-256', type: 'ecdsa', bits: 256 },
  { label: 'ecdsa-384', type: 'ecdsa', bits: 384 },
  { label: 'ecdsa-521', type: 'ecdsa', bits: 521 },
  { label: 'rsa-2048', type: 'rsa', bits: 2048 },
  { label: 'rsa-3072', type: 'rsa', bits: 3072 },
];

export interface GeneratedUserKey {
  kind: UserKeyKind;
  privateKeyPath: string;
  publicKeyPath: string;
  publicKeyLine: string;
}

/** Generates a user key with ssh-keygen, as a person would. */
export async function generateUserKey(dir: string, kind: UserKeyKind, comment = `${kind.label}@laptop`): Promise<GeneratedUserKey> {
  const privateKeyPath = join(dir, `id_${kind.label}`);
  const args = ['-q', '-t', kind.type, '-N', '', '-C', comment, '-f', privateKeyPath];
  if (kind.bits !== undefined) args.push('-b', String(kind.bits));
  const result = await runTool('ssh-keygen', args);
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
  const publicKeyPath = `${privateKeyPath}.pub`;
  return { kind, privateKeyPath, publicKeyPath, publicKeyLine: (await readFile(publicKeyPath, 'utf8')).trim() };
}

export interface CaKeyKind {
  label: string;
  generate: () => { privateKey: KeyObject; publicKey: KeyObject };
  /** What `ssh-keygen -L` prints as the CA key type and the signature algorithm. */
  sshKeygenName: string;
  signatureAlgorithm: string;
}

export const CA_KEY_KINDS: readonly CaKeyKind[] = [
  { label: 'ed25519', generate: () => generateKeyPairSync('ed25519'), sshKeygenName: 'ED25519', signatureAlgorithm: 'ssh-ed25519' },
  {
    label: 'ecdsa-p256',
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    sshKeygenName: 'ECDSA',
    signatureAlgorithm: 'ecdsa-sha2-nistp256',
  },
  {
    label: 'rsa-3072',
    generate: () => generateKeyPairSync('rsa', { modulusLength: 3072 }),
    sshKeygenName: 'RSA',
    signatureAlgorithm: 'rsa-sha2-512',
  },
];

export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeText(path: string, text: string): Promise<string> {
  await writeFile(path, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o644 });
  return path;
}

/** `ssh-keygen -L` output as a map of field to value, plus the indented lists. */
export interface CertificateListing {
  type: string;
  publicKey: string;
  signingCa: string;
  keyId: string;
  serial: string;
  valid: string;
  principals: string[];
  criticalOptions: string[];
  extensions: string[];
}

export function parseSshKeygenListing(output: string): CertificateListing {
  const fields = new Map<string, string>();
  const lists = new Map<string, string[]>();
  let currentList: string[] | undefined;
  for (const rawLine of output.split('\n').slice(1)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const field = /^([A-Za-z ]+):\s?(.*)$/.exec(line);
    if (field && /^ {8}\S/.test(rawLine)) {
      const [, name, value] = field as unknown as [string, string, string];
      fields.set(name, value.trim());
      currentList = [];
      lists.set(name, currentList);
    } else if (currentList && line !== '(none)') {
      currentList.push(line);
    }
  }
  const get = (name: string) => fields.get(name) ?? '';
  return {
    type: get('Type'),
    publicKey: get('Public key'),
    signingCa: get('Signing CA'),
    keyId: get('Key ID'),
    serial: get('Serial'),
    valid: get('Valid'),
    principals: lists.get('Principals') ?? [],
    criticalOptions: (lists.get('Critical Options') ?? []),
    extensions: lists.get('Extensions') ?? [],
  };
}

/** `ssh-keygen -lf FILE`: "BITS SHA256:… COMMENT (TYPE)". */
export async function sshKeygenFingerprint(path: string): Promise<{ bits: number; fingerprint: string; line: string }> {
  const result = await runTool('ssh-keygen', ['-lf', path]);
  if (result.code !== 0) throw new Error(`ssh-keygen -lf failed: ${result.stderr}`);
  const [bits, fingerprint] = result.stdout.trim().split(' ');
  return { bits: Number(bits), fingerprint: fingerprint ?? '', line: result.stdout.trim() };
}
