import { KrlInputInvalidError } from './errors/krl-input-invalid-error';
import { sshPublicKeyFromBlob } from './ssh-public-key';
import { SshWireWriter } from './ssh-wire';

/** OpenSSH key revocation lists (PROTOCOL.krl), revoking certificates by CA and serial. */

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const KRL_FORMAT_VERSION = 1;
const KRL_SECTION_CERTIFICATES = 1;
const KRL_SECTION_CERT_SERIAL_LIST = 0x20;
const KRL_SECTION_CERT_SERIAL_RANGE = 0x21;
const UINT64_MAX = (1n << 64n) - 1n;
/** From this run length on, one range subsection (21 bytes) is smaller than listing the serials (8 bytes each). */
const MIN_RUN_FOR_RANGE = 3n;

export interface KrlCertificateSection {
  /** The issuing CA's public key in SSH wire encoding. */
  caPublicKeyBlob: Buffer;
  /** Revoked certificate serials of that CA (1 to 2^64-1). */
  serials: bigint[];
}

export interface KrlInput {
  /** Grows with every change, so a server can tell a newer KRL from an older one. */
  version: bigint;
  /** Epoch ms; encoded as seconds. */
  generatedAt: number;
  sections: KrlCertificateSection[];
  comment?: string;
}

/**
 * Builds a binary KRL for sshd's `RevokedKeys` and `ssh-keygen -Q`. Sections with the same CA
 * are merged; consecutive serials become ranges. A KRL without sections is valid and revokes nothing.
 * Throws KrlInputInvalidError for input sshd would reject, because a KRL sshd cannot load makes
 * it refuse every login.
 */
export function buildKrl(input: KrlInput): Buffer {
  if (typeof input.version !== 'bigint' || input.version < 0n || input.version > UINT64_MAX) {
    throw new KrlInputInvalidError('The KRL version must be between 0 and 2^64-1.');
  }
  if (typeof input.generatedAt !== 'number' || !Number.isFinite(input.generatedAt) || input.generatedAt < 0) {
    throw new KrlInputInvalidError('generatedAt must be a time in epoch milliseconds.');
  }
  const comment = input.comment ?? '';
  if (/\u0000/.test(comment)) throw new KrlInputInvalidError('The KRL comment cannot contain NUL.');

  const writer = new SshWireWriter(1024)
    .raw(KRL_MAGIC)
    .uint32(KRL_FORMAT_VERSION)
    .uint64(input.version)
    .uint64(BigInt(Math.floor(input.generatedAt / 1000)))
    .uint64(0n)
    .string('')
    .string(comment);

  for (const [caBlob, serials] of groupByCa(input.sections)) {
    if (serials.length === 0) continue;
    writer.uint8(KRL_SECTION_CERTIFICATES).string(certificateSection(Buffer.from(caBlob, 'hex'), serials));
  }
  return writer.toBuffer();
}

function groupByCa(sections: readonly KrlCertificateSection[]): Map<string, bigint[]> {
  const byCa = new Map<string, bigint[]>();
  for (const section of sections) {
    if (!Buffer.isBuffer(section.caPublicKeyBlob)) throw new KrlInputInvalidError('A KRL section needs the CA public key blob.');
    try {
      sshPublicKeyFromBlob(section.caPublicKeyBlob);
    } catch (cause) {
      throw new KrlInputInvalidError('A KRL section names a CA key sshd could not read.', { cause });
    }
    const key = section.caPublicKeyBlob.toString('hex');
    const serials = byCa.get(key) ?? [];
    for (const serial of section.serials) {
      if (typeof serial !== 'bigint' || serial < 1n || serial > UINT64_MAX) {
        throw new KrlInputInvalidError('A revoked serial must be between 1 and 2^64-1 (sshd rejects a KRL listing serial 0).');
      }
      serials.push(serial);
    }
    byCa.set(key, serials);
  }
  return byCa;
}

function certificateSection(caBlob: Buffer, serials: bigint[]): Buffer {
  const sorted = [...new Set(serials)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const singles = new SshWireWriter(sorted.length * 8 + 8);
  const ranges: [bigint, bigint][] = [];
  let start = 0;
  while (start < sorted.length) {
    let end = start;
    while (end + 1 < sorted.length && (sorted[end + 1] as bigint) === (sorted[end] as bigint) + 1n) end++;
    const low = sorted[start] as bigint;
    const high = sorted[end] as bigint;
    if (high - low + 1n >= MIN_RUN_FOR_RANGE) {
      ranges.push([low, high]);
    } else {
      for (let i = start; i <= end; i++) singles.uint64(sorted[i] as bigint);
    }
    start = end + 1;
  }

  const section = new SshWireWriter(caBlob.length + 64).string(caBlob).string('');
  const listed = singles.toBuffer();
  if (listed.length > 0) section.uint8(KRL_SECTION_CERT_SERIAL_LIST).string(listed);
  for (const [low, high] of ranges) {
    section.uint8(KRL_SECTION_CERT_SERIAL_RANGE).string(new SshWireWriter(16).uint64(low).uint64(high).toBuffer());
  }
  return section.toBuffer();
}
