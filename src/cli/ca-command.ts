import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { initCa, loadCa, rotateCa, type CaMaterial, type SshCaKeyKind } from '../ca/ca-directory';
import { x509CaFingerprint } from '../ca/certificate-signer';
import type { X509CaKeyKind } from '../ca/x509/x509-ca';
import { formatDuration, parseDuration } from '../config/duration';
import { loadEnv } from '../config/env';
import type { Policy, Resource } from '../config/policy';
import { loadPolicy } from '../config/workflow-loader';
import { AccessBotError } from '../errors/access-bot-error';
import { ConfigError } from '../errors/config-error';
import { RedisKeys } from '../store/redis-keys';
import type { Redis } from 'ioredis';
import { createRedis } from '../app/redis-connection';
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandHelp, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot ca init [--dir DIR] [--ssh-key ed25519|ecdsa-p256|rsa3072] [--x509-key rsa2048|rsa3072|ecdsa-p256]
      Creates the SSH user CA (Ed25519 by default) and the X.509 client CA (RSA-2048 by default),
      private keys mode 0600, in DIR mode 0700 (an existing DIR of yours is tightened to 0700; one
      owned by another user is refused). Refuses to overwrite an existing CA.
  access-bot ca rotate [--dir DIR] [--grace 7d] [--workflows DIR] [--allow-short-grace]
      Creates a new CA; the previous one stays trusted (served in ssh_user_ca.pub and x509_ca.pem)
      for the grace period, and its revoked certificates stay in the KRL and its CRL until every
      certificate it signed has expired. The grace must be at least the longest certificate any
      resource allows (duration.max in the workflow files, read from --workflows, else
      $WORKFLOWS_DIR, else ./workflows). --allow-short-grace accepts a shorter one, for a
      compromised CA key: certificates the old CA signed then stop working on servers that refresh
      the trusted keys once the grace ends.
      Send SIGHUP to (or restart) the workers to sign with the new CA.
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
        workflows: { type: 'string' },
        'allow-short-grace': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    },
    HELP,
  );
  if (values.help) {
    io.stdout.write(subcommandHelp(HELP, sub));
    return EXIT.OK;
  }
  rejectPositionals(positionals, subcommandHelp(HELP, sub));
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
    const modeBefore = existsSync(dir) ? statSync(dir).mode & 0o777 : undefined;
    const ca = initCa(dir, { sshKey: sshKey as SshCaKeyKind, x509Key: x509Key as X509CaKeyKind });
    if (modeBefore !== undefined && modeBefore !== 0o700) io.stdout.write(`Tightened ${dir} from mode ${modeBefore.toString(8).padStart(4, '0')} to 0700.\n`);
    io.stdout.write(`Created a CA in ${dir} (directory mode 0700, private keys mode 0600; back them up offline).\n${describe(ca)}`);
    await auditBestEffort(io, AUDIT_EVENT_TYPES.caCreated, { dir, ...summary(ca) });
    return EXIT.OK;
  }
  const grace = parseDuration(values.grace ?? '7d');
  if (grace === undefined) throw new UsageError(`--grace "${values.grace}" is not a duration like 7d or 12h.`);
  const workflowsDir = path.resolve(io.cwd, values.workflows ?? (io.env.WORKFLOWS_DIR?.trim() || './workflows'));
  const longest = longestCertificate(await loadRotationPolicy(workflowsDir, io.cwd));
  const now = Date.now();
  const ca = rotateCa(dir, grace, {
    now,
    longestCertificateMs: longest.ms,
    longestCertificateSource: longest.source,
    allowShortGrace: values['allow-short-grace'] === true,
  });
  const retired = [...ca.previous, ...ca.retired].find((p) => p.retiredAt === now);
  io.stdout.write(
    `Rotated the CA in ${dir}; the previous CA stays trusted until ${new Date(now + grace).toISOString()}` +
      `${retired ? `, and its revoked certificates stay in the KRL and CRL until ${new Date(retired.retainUntil).toISOString()}` : ''}.\n`,
  );
  if (grace < longest.ms) {
    io.stdout.write(
      `warning: the grace is shorter than the longest certificate (${formatDuration(longest.ms)}): certificates the previous CA signed stop working on servers that refresh the trusted keys when the grace ends.\n`,
    );
  }
  io.stdout.write('Send SIGHUP to (or restart) every worker so it signs with the new CA and republishes the trusted keys.\n');
  io.stdout.write(describe(ca));
  await auditBestEffort(io, AUDIT_EVENT_TYPES.caRotated, {
    dir,
    graceMs: grace,
    longestCertificateMs: longest.ms,
    shortGraceAllowed: grace < longest.ms,
    ...summary(ca),
  });
  return EXIT.OK;
};

/** The rotation grace depends on the workflow files; without them there is no safe minimum. */
async function loadRotationPolicy(dir: string, cwd: string): Promise<Policy> {
  try {
    return await loadPolicy(dir, { displayRoot: cwd });
  } catch (err) {
    if (!(err instanceof AccessBotError)) throw err;
    throw new ConfigError(
      'ca rotate reads the workflow files to know the longest certificate a resource allows (the shortest safe --grace), ' +
        'and could not; point it at them with --workflows DIR (or WORKFLOWS_DIR)',
      err instanceof ConfigError ? err.problems : [err.message],
    );
  }
}

/** The longest certificate any resource allows: its `duration.max` (the engine never grants past approval + max). */
function longestCertificate(policy: Policy): { ms: number; source: string } {
  let longest: Resource | undefined;
  for (const resource of policy.resources.values()) if (!longest || resource.duration.max > longest.duration.max) longest = resource;
  if (!longest) throw new UsageError('The workflow files define no resource, so no certificate lifetime to base the grace on.');
  return { ms: longest.duration.max, source: `resource "${longest.name}" (${longest.source.file}:${longest.source.line})` };
}

function summary(ca: CaMaterial) {
  return {
    ssh: ca.ssh.fingerprint,
    x509: x509CaFingerprint(ca.x509),
    previous: [...ca.previous, ...ca.retired].map((p) => ({
      ssh: p.ssh.fingerprint,
      x509: x509CaFingerprint(p.x509),
      trustUntil: p.trustUntil,
      retainUntil: p.retainUntil,
    })),
  };
}

function describe(ca: CaMaterial): string {
  const lines = [
    `SSH user CA:    ${ca.ssh.fingerprint} (${ca.ssh.publicKey.asymmetricKeyType})`,
    `  ${ca.ssh.publicLine}`,
    `X.509 client CA: ${x509CaFingerprint(ca.x509)} (${ca.x509.publicKey.asymmetricKeyType})`,
    ...ca.previous.map(
      (p) =>
        `previous CA trusted until ${new Date(p.trustUntil).toISOString()}, revocations listed until ${new Date(p.retainUntil).toISOString()}: ` +
        `ssh ${p.ssh.fingerprint}, x509 ${x509CaFingerprint(p.x509)}`,
    ),
    ...ca.retired.map(
      (p) =>
        `retired CA (no longer trusted), revocations listed until ${new Date(p.retainUntil).toISOString()}: ` +
        `ssh ${p.ssh.fingerprint}, x509 ${x509CaFingerprint(p.x509)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** CA changes are audited when Redis answers; `ca init` may run before Redis exists, so it only warns. */
async function auditBestEffort(io: CliIo, type: string, data: Record<string, unknown>): Promise<void> {
  let redis: Redis | undefined;
  try {
    const env = loadEnv(io.env);
    redis = createRedis(env.REDIS_URL, {
      name: 'access-bot-cli',
      ...(env.redisTls ? { tls: env.redisTls } : {}),
      extra: { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1, retryStrategy: () => null },
    });
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
