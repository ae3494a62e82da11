import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { AppContext } from '../app/app-context';
import { adminAttestationKey, attestAdminIssue } from '../ca/admin-attestation';
import { loadCa } from '../ca/ca-directory';
import { AccessBotError } from '../errors/access-bot-error';
import { parseDuration } from '../config/duration';
import { loadEnv, type Env } from '../config/env';
import { certificateSubject } from '../engine/certificate-subject';
import type { AccessRequest, Person } from '../engine/types';
import { KeyRejectedError } from '../keys/errors/key-rejected-error';
import { silentLogger } from '../log/logger';
import { CLI_ACTOR_PREFIX } from '../requests/request-service';
import { NoOnCall } from '../requests/null-adapters';
import { StaticDirectory } from '../requests/static-directory';
import { SlackDirectory } from '../slack/slack-directory';
import { createSlackWebClient } from '../slack/slack-web-api';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandHelp, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot cert sign --resource R --user U --pubkey FILE [--email E] [--duration 1h]
                       [--reason TEXT] [--ticket KEY] [--out FILE] [--wait 60s]
      Issues a certificate for user U (Slack user id) outside the approval workflow, as an admin:
      through the same queue and worker, audited and marked admin-issued. Registers the public key
      in FILE (OpenSSH .pub, PEM public key or CSR) for U first. The workflow's reason and ticket
      rules still apply: --reason (default "admin-issued from the CLI") and --ticket. Login names
      and subjects ({{user.*}} templates) come from identities in the workflow files, else from
      U's confirmed email in Slack when Slack is configured, else from --email (you vouch for it;
      its domain must be in allowed_email_domains); a resource that needs one says so before
      anything is issued. Runs where the CA keys are: the request is attested with a key derived
      from $CA_DIR, and the worker signs nothing marked admin-issued without that attestation.
      Prints the certificate, or writes it to --out. Needs a running worker.
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
        ticket: { type: 'string' },
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
    io.stdout.write(subcommandHelp(HELP, sub));
    return EXIT.OK;
  }
  rejectPositionals(positionals, subcommandHelp(HELP, sub));

  const env = loadEnv(io.env);
  const actorId = `${CLI_ACTOR_PREFIX}${userInfo().username}`;
  // Checked before anything connects: a missing file or flag is one line, never a stack trace.
  let publicKeyText: string | undefined;
  if (sub === 'sign') {
    if (!values.resource || !values.user || !values.pubkey) throw new UsageError(`--resource, --user and --pubkey are required.\n\n${subcommandHelp(HELP, sub)}`);
    try {
      publicKeyText = readFileSync(path.resolve(io.cwd, values.pubkey), 'utf8');
    } catch (err) {
      io.stderr.write(`cert sign: cannot read the public key file ${values.pubkey}: ${describeFsError(err)}\n`);
      return EXIT.USAGE;
    }
  }
  const person = sub === 'sign' && values.user ? await personFor(values.user, values.email, env, io) : undefined;
  if (typeof person === 'number') return person;
  const ctx = await AppContext.create({ ...env, WORKFLOWS_DIR: path.resolve(io.cwd, env.WORKFLOWS_DIR) }, silentLogger(), {
    directory: new StaticDirectory(person ? [{ ...person, groups: [] }] : []),
  });
  try {
    if (sub === 'show') return await show(ctx, values.request, values.json === true, io);
    if (sub === 'revoke') {
      if (!values.request) throw new UsageError(`--request is required.\n\n${subcommandHelp(HELP, sub)}`);
      const r = await ctx.service.revoke(values.request, actorId, 'cli', values.reason);
      if (r.status === 'refused') {
        io.stderr.write(`refused (${r.code}): ${r.message}\n`);
        return EXIT.NEGATIVE;
      }
      io.stdout.write(`revoked ${values.request}; the worker adds its serial to the KRL/CRL.\n`);
      return EXIT.OK;
    }
    return await sign(ctx, { ...values, person: person!, publicKeyText: publicKeyText! }, actorId, io);
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

/** A readable reason a file could not be read: "no such file", "permission denied". */
function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Who the certificate is for. With Slack configured, Slack says what the user's email is and
 * whether it is confirmed (as for a request from Slack); otherwise the admin's --email is taken.
 */
async function personFor(user: string, email: string | undefined, env: Env, io: CliIo): Promise<Person | number> {
  if (!env.slack) return { id: user, ...(email ? { email, emailVerified: true } : {}) };
  const client = createSlackWebClient({ botToken: env.slack.botToken, logger: silentLogger(), ...(env.slack.apiUrl ? { apiUrl: env.slack.apiUrl } : {}) });
  const directory = new SlackDirectory({ client, oncall: new NoOnCall(), logger: silentLogger() });
  let actor;
  try {
    actor = await directory.actor(user);
  } catch (err) {
    io.stderr.write(`cert sign: could not look up ${user} in Slack: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILURE;
  }
  if (actor.inactive) {
    io.stderr.write(`cert sign: ${user} is ${actor.inactive === 'bot' ? 'a bot' : 'deactivated'} in Slack; no certificate.\n`);
    return EXIT.NEGATIVE;
  }
  if (email && actor.email && email.toLowerCase() !== actor.email.toLowerCase())
    io.stderr.write(`cert sign: Slack says ${user}'s email is ${actor.email}; using that, not --email ${email}.\n`);
  return { id: actor.id, ...(actor.email ? { email: actor.email, emailVerified: actor.emailVerified === true } : {}), ...(actor.name ? { name: actor.name } : {}) };
}

async function sign(
  ctx: AppContext,
  values: {
    resource?: string;
    user?: string;
    pubkey?: string;
    duration?: string;
    reason?: string;
    ticket?: string;
    out?: string;
    wait?: string;
    person: Person;
    publicKeyText: string;
  },
  actorId: string,
  io: CliIo,
): Promise<number> {
  if (!values.resource || !values.user) throw new UsageError(`--resource, --user and --pubkey are required.\n\n${subcommandHelp(HELP, 'sign')}`);
  const durationMs = values.duration !== undefined ? parseDuration(values.duration) : undefined;
  if (values.duration !== undefined && durationMs === undefined) throw new UsageError(`--duration "${values.duration}" is not a duration like 30m or 2h.`);
  const waitMs = parseDuration(values.wait ?? '60s');
  if (waitMs === undefined) throw new UsageError(`--wait "${values.wait}" is not a duration.`);

  // What the certificate would say, before a key is registered or anything is issued.
  const resource = ctx.policy.resources.get(values.resource);
  if (resource) {
    const subject = certificateSubject(resource, values.person, ctx.policy);
    if (!subject.ok) {
      const how = ctx.env.slack
        ? `Slack gives ${values.user} ${values.person.email ? `the email ${values.person.email}${values.person.emailVerified ? '' : ' (not confirmed)'}` : 'no email'}.`
        : `Slack is not configured, so pass --email with ${values.user}'s address (its domain must be in allowed_email_domains), or map ${values.user} under identities: in the workflow files.`;
      io.stderr.write(`cert sign: cannot name ${values.user} on a ${values.resource} certificate: ${subject.message}\n${how}\n`);
      return values.person.email === undefined && !ctx.env.slack ? EXIT.USAGE : EXIT.NEGATIVE;
    }
  }

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
    key = await ctx.keyService.register(values.user, values.publicKeyText, 'cli', actorId);
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
    adminIssueFor: values.person,
    ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
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
