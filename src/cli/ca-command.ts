import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { initCa, loadCa, rotateCa, type CaMaterial, type SshCaKeyKind } from '../ca/ca-directory';
import { x509CaFingerprint } from '../ca/certificate-signer';
import type { X509CaKeyKind } from '../ca/x509/x509-ca';
import { parseDuration } from '../config/duration';
import { loadEnv } from '../config/env';
import { RedisKeys } from '../store/redis-keys';
import { Redis } from 'ioredis';
import { userInfo } from 'node:os';
import path from 'node:path';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot ca init [--dir DIR] [--ssh-key ed25519|ecdsa-p256|rsa3072] [--x509-key rsa2048|rsa3072|ecdsa-p256]
      Creates the SSH user CA (Ed25519 by default) and the X.509 client CA (RSA-2048 by default),
      private keys mode 0600. Refuses to overwrite an existing CA.
  access-bot ca rotate [--dir DIR] [--grace 7d]
      Creates a new CA; the previous one stays trusted (served in ssh_user_ca.pub, x509_ca.pem and
      the CRLs) for the grace period. Send SIGHUP to (or restart) the workers to sign with the new CA.
  access-bot ca show [--dir DIR]
      Prints the CA fingerprints and the previous CAs still trusted.

DIR defaults to $CA_DIR, else ./ca.
`;

const SSH_KINDS: SshCaKeyKind[] = ['ed25519', 'ecdsa-p256', 'rsa3072'];
const X509_KINDS: X509CaKeyKind[] = ['rsa2048', 'rsa3072', 'ecdsa-p256'];

export const caCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['init', 'rotate', 'show'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  const { sub, rest } = command;
  const { values, positionals } = parseOptions(
    {
      args: rest,
      options: {
        dir: { type: 'string' },
        'ssh-key': { type: 'string' },
        'x509-key': { type: 'string' },
        grace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    },
    HELP,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  rejectPositionals(positionals, HELP);
  const dir = path.resolve(io.cwd, values.dir ?? (io.env.CA_DIR?.trim() || './ca'));

  if (sub === 'show') {
    io.stdout.write(describe(loadCa(dir)));
    return EXIT.OK;
  }
  if (sub === 'init') {
    const sshKey = values['ssh-key'] ?? 'ed25519';
    const x509Key = values['x509-key'] ?? 'rsa2048';
    if (!SSH_KINDS.includes(sshKey as SshCaKeyKind)) throw new UsageError(`--ssh-key must be one of ${SSH_KINDS.join(', ')}.`);
    if (!X509_KINDS.includes(x509Key as X509CaKeyKind)) throw new UsageError(`--x509-key must be one of ${X509_KINDS.join(', ')}.`);
    const ca = initCa(dir, { sshKey: sshKey as SshCaKeyKind, x509Key: x509Key as X509CaKeyKind });
    io.stdout.write(`Created a CA in ${dir} (private keys mode 0600; back them up offline).\n${describe(ca)}`);
    await auditBestEffort(io, AUDIT_EVENT_TYPES.caCreated, { dir, ...summary(ca) });
    return EXIT.OK;
  }
  const grace = parseDuration(values.grace ?? '7d');
  if (grace === undefined) throw new UsageError(`--grace "${values.grace}" is not a duration like 7d or 12h.`);
  const ca = rotateCa(dir, grace);
  io.stdout.write(`Rotated the CA in ${dir}; the previous CA stays trusted until ${new Date(Date.now() + grace).toISOString()}.\n`);
  io.stdout.write('Send SIGHUP to (or restart) every worker so it signs with the new CA and republishes the trusted keys.\n');
  io.stdout.write(describe(ca));
  await auditBestEffort(io, AUDIT_EVENT_TYPES.caRotated, { dir, graceMs: grace, ...summary(ca) });
  return EXIT.OK;
};

function summary(ca: CaMaterial) {
  return {
    ssh: ca.ssh.fingerprint,
    x509: x509CaFingerprint(ca.x509),
    previous: ca.previous.map((p) => ({ ssh: p.ssh.fingerprint, x509: x509CaFingerprint(p.x509), trustUntil: p.trustUntil })),
  };
}

function describe(ca: CaMaterial): string {
  const lines = [
    `SSH user CA:    ${ca.ssh.fingerprint} (${ca.ssh.publicKey.asymmetricKeyType})`,
    `  ${ca.ssh.publicLine}`,
    `X.509 client CA: ${x509CaFingerprint(ca.x509)} (${ca.x509.publicKey.asymmetricKeyType})`,
    ...ca.previous.map((p) => `previous CA trusted until ${new Date(p.trustUntil).toISOString()}: ssh ${p.ssh.fingerprint}, x509 ${x509CaFingerprint(p.x509)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** CA changes are audited when Redis answers; `ca init` may run before Redis exists, so it only warns. */
async function auditBestEffort(io: CliIo, type: string, data: Record<string, unknown>): Promise<void> {
  let redis: Redis | undefined;
  try {
    const env = loadEnv(io.env);
    redis = new Redis(env.REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null });
    await redis.connect();
    await new RedisAuditLog(redis, new RedisKeys(env.REDIS_PREFIX)).append(
      [{ type, actor: { id: `cli:${userInfo().username}`, via: 'cli' }, data }],
      Date.now(),
    );
  } catch (err) {
    io.stderr.write(`warning: not audited (Redis unreachable: ${(err as Error).message}); the worker audits the CA it loads at start.\n`);
  } finally {
    redis?.disconnect();
  }
}
