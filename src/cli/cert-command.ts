import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { AppContext } from '../app/app-context';
import { adminAttestationKey, attestAdminIssue } from '../ca/admin-attestation';
import { loadCa } from '../ca/ca-directory';
import { AccessBotError } from '../errors/access-bot-error';
import { parseDuration } from '../config/duration';
import { loadEnv } from '../config/env';
import type { AccessRequest } from '../engine/types';
import { KeyRejectedError } from '../keys/errors/key-rejected-error';
import { silentLogger } from '../log/logger';
import { CLI_ACTOR_PREFIX } from '../requests/request-service';
import { StaticDirectory } from '../requests/static-directory';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot cert sign --resource R --user U --pubkey FILE [--email E] [--duration 1h]
                       [--reason TEXT] [--out FILE] [--wait 60s]
      Issues a certificate for user U (Slack user id) outside the approval workflow, as an admin:
      through the same queue and worker, audited and marked admin-issued. Registers the public key
      in FILE (OpenSSH .pub, PEM public key or CSR) for U first. --email fills {{user.*}} templates
      (you vouch for it; the domain must still be in allowed_email_domains unless U is in identities).
      Runs where the CA keys are: the request is attested with a key derived from $CA_DIR, and the
      worker signs nothing marked admin-issued without that attestation. Prints the certificate, or
      writes it to --out. Needs a running worker.
  access-bot cert revoke --request ID [--reason TEXT]
      Revokes a grant early: the serial goes into the KRL or CRL at once.
  access-bot cert show --request ID [--json]
      Prints a request and its certificate.
`;

export const certCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['sign', 'revoke', 'show'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  const { sub, rest } = command;
  const { values, positionals } = parseOptions(
    {
      args: rest,
      options: {
        resource: { type: 'string' },
        user: { type: 'string' },
        email: { type: 'string' },
        pubkey: { type: 'string' },
        duration: { type: 'string' },
        reason: { type: 'string' },
        out: { type: 'string' },
        wait: { type: 'string' },
        request: { type: 'string' },
        json: { type: 'boolean' },
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

  const env = loadEnv(io.env);
  const actorId = `${CLI_ACTOR_PREFIX}${userInfo().username}`;
  const people = values.user ? [{ id: values.user, ...(values.email ? { email: values.email } : {}), groups: [] }] : [];
  const ctx = await AppContext.create({ ...env, WORKFLOWS_DIR: path.resolve(io.cwd, env.WORKFLOWS_DIR) }, silentLogger(), {
    directory: new StaticDirectory(people),
  });
  try {
    if (sub === 'show') return await show(ctx, values.request, values.json === true, io);
    if (sub === 'revoke') {
      if (!values.request) throw new UsageError(`--request is required.\n\n${HELP}`);
      const r = await ctx.service.revoke(values.request, actorId, 'cli', values.reason);
      if (r.status === 'refused') {
        io.stderr.write(`refused (${r.code}): ${r.message}\n`);
        return EXIT.NEGATIVE;
      }
      io.stdout.write(`revoked ${values.request}; the worker adds its serial to the KRL/CRL.\n`);
      return EXIT.OK;
    }
    return await sign(ctx, values, actorId, io);
  } finally {
    await ctx.close();
  }
};

async function show(ctx: AppContext, id: string | undefined, json: boolean, io: CliIo): Promise<number> {
  if (!id) throw new UsageError(`--request is required.\n\n${HELP}`);
  const request = await ctx.store.get(id);
  if (!request) {
    io.stderr.write(`There is no request with id ${id}.\n`);
    return EXIT.NEGATIVE;
  }
  if (json) io.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
  else io.stdout.write(describe(request));
  return EXIT.OK;
}

function describe(r: AccessRequest): string {
  const c = r.certificate;
  return [
    `request:   ${r.id} (${r.state})`,
    `requester: ${r.requester.email ?? r.requester.id}`,
    `resource:  ${r.resource}`,
    `reason:    ${r.reason}`,
    ...(r.expiresAt ? [`window:    ${new Date(r.approvedAt ?? 0).toISOString()} → ${new Date(r.expiresAt).toISOString()}`] : []),
    ...(c
      ? [
          `cert:      ${c.kind} serial ${c.serial}, key ${c.keyFingerprint}, CA ${c.caFingerprint}`,
          `           ${c.kind === 'ssh' ? 'principals' : 'groups'}: ${c.principals.join(', ')}`,
          c.text.trimEnd(),
        ]
      : []),
    '',
  ].join('\n');
}

async function sign(
  ctx: AppContext,
  values: { resource?: string; user?: string; email?: string; pubkey?: string; duration?: string; reason?: string; out?: string; wait?: string },
  actorId: string,
  io: CliIo,
): Promise<number> {
  if (!values.resource || !values.user || !values.pubkey) throw new UsageError(`--resource, --user and --pubkey are required.\n\n${HELP}`);
  const durationMs = values.duration !== undefined ? parseDuration(values.duration) : undefined;
  if (values.duration !== undefined && durationMs === undefined) throw new UsageError(`--duration "${values.duration}" is not a duration like 30m or 2h.`);
  const waitMs = parseDuration(values.wait ?? '60s');
  if (waitMs === undefined) throw new UsageError(`--wait "${values.wait}" is not a duration.`);

  let attestationKey: Buffer;
  try {
    attestationKey = adminAttestationKey(loadCa(path.resolve(io.cwd, ctx.env.CA_DIR)));
  } catch (err) {
    if (!(err instanceof AccessBotError)) throw err;
    io.stderr.write(
      `cert sign runs where the CA keys are (CA_DIR=${ctx.env.CA_DIR}): ${err.message}\n` +
        'Admin issuance is attested with a key derived from the CA; the worker refuses admin-issued requests without it.\n',
    );
    return EXIT.FAILURE;
  }

  let key;
  try {
    key = await ctx.keyService.register(values.user, readFileSync(path.resolve(io.cwd, values.pubkey), 'utf8'), 'cli', actorId);
  } catch (err) {
    if (err instanceof KeyRejectedError) {
      io.stderr.write(`The public key was refused: ${err.message}\n`);
      return EXIT.NEGATIVE;
    }
    throw err;
  }
  const submitted = await ctx.service.submit(actorId, {
    resource: values.resource,
    reason: values.reason ?? 'admin-issued from the CLI',
    keyFingerprint: key.fingerprint,
    via: 'cli',
    adminIssueFor: { id: values.user, ...(values.email ? { email: values.email, emailVerified: true } : {}) },
    attestAdminIssue: (request) => attestAdminIssue(request, attestationKey),
    ...(durationMs !== undefined ? { durationMs } : {}),
  });
  if (submitted.status !== 'ok') {
    io.stderr.write(`refused${submitted.status === 'refused' ? ` (${submitted.code})` : ''}: ${submitted.message}\n`);
    return EXIT.NEGATIVE;
  }
  const id = submitted.request.id;
  io.stderr.write(`request ${id} approved (admin-issued); waiting for the worker to sign…\n`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await ctx.store.get(id);
    if (r?.state === 'issued' && r.certificate) {
      if (values.out) {
        writeFileSync(path.resolve(io.cwd, values.out), r.certificate.text.endsWith('\n') ? r.certificate.text : `${r.certificate.text}\n`, { mode: 0o644 });
        io.stderr.write(`wrote ${values.out}\n`);
      } else io.stdout.write(`${r.certificate.text.trimEnd()}\n`);
      io.stderr.write(`serial ${r.certificate.serial}, valid until ${new Date(r.certificate.validBefore).toISOString()}\n`);
      return EXIT.OK;
    }
    if (r && r.state !== 'approved') {
      io.stderr.write(`request ${id} is ${r.state}${r.failure ? `: ${r.failure}` : ''}\n`);
      return EXIT.NEGATIVE;
    }
    if (Date.now() > deadline) {
      io.stderr.write(`no certificate after ${values.wait ?? '60s'}: is a worker running (access-bot worker)? Request ${id} stays approved and will be issued when one runs.\n`);
      return EXIT.FAILURE;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
