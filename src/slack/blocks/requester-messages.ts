import type { Resource, Workflow } from '../../config/policy';
import { roundedDuration } from '../../requests/approval-facts';
import { describeSubject } from '../../engine/certificate-subject';
import type { AccessRequest, IssuedCertificate, RequesterNotice } from '../../engine/types';
import type { KnownBlock, SlackMessage } from './approval-message';
import {
  code,
  jiraIssueLink,
  codeBlock,
  escapeText,
  formatDuration,
  mention,
  mentionList,
  quote,
  relativeTime,
  SLACK_LIMITS,
  slackTime,
  stageLabel,
  truncate,
} from './format';

/** DM buttons (fixed with the Slack interaction handlers); value = request id. */
export const CANCEL_ACTION_ID = 'access.cancel';
export const REVOKE_ACTION_ID = 'access.revoke';

export interface RequesterMessageInput {
  request: AccessRequest;
  notice: RequesterNotice;
  resource?: Resource;
  workflow?: Workflow;
  /** For "ends in 10m". */
  now: number;
  /** How often servers fetch the KRL and CRLs (KRL_REFRESH_INTERVAL): the revoke DM says so. */
  krlRefreshMs?: number;
  /** The bot's public base URL (PUBLIC_URL): the revoke DM links the KRL and CRL it serves. */
  publicUrl?: string;
  /** The on-call context (PagerDuty) shown with the pending notice. */
  oncallContext?: string;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText) } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.contextText) }] };
}

function cancelButton(request: AccessRequest): KnownBlock {
  return {
    type: 'actions',
    elements: [{ type: 'button', action_id: CANCEL_ACTION_ID, value: request.id, text: { type: 'plain_text', text: 'Cancel request' } }],
  };
}

function revokeButton(request: AccessRequest): KnownBlock {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: REVOKE_ACTION_ID,
        value: request.id,
        style: 'danger',
        text: { type: 'plain_text', text: 'Done: revoke my access' },
        confirm: {
          title: { type: 'plain_text', text: 'Revoke access?' },
          text: { type: 'plain_text', text: truncate(`Your certificate for ${request.resource} stops working at once.`, 300) },
          confirm: { type: 'plain_text', text: 'Revoke' },
          deny: { type: 'plain_text', text: 'Keep it' },
          style: 'danger',
        },
      },
    ],
  };
}

function footer(request: AccessRequest): KnownBlock {
  return context(`Request \`${escapeText(request.id)}\`${jiraIssueLink(request)}`);
}

function approvedBy(request: AccessRequest): string {
  if (request.autoApproved) return 'approved automatically';
  if (request.adminIssued) return `issued by admin ${mention(request.adminIssued.by)}`;
  const by = [...new Set(request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by))];
  return by.length ? `approved by ${mentionList(by)}` : 'approved';
}

function closedBy(request: AccessRequest): string {
  if (!request.closedBy || request.closedBy === 'system') return '';
  return request.closedBy === request.requester.id ? ' by you' : ` by ${mention(request.closedBy)}`;
}

function reasonQuote(request: AccessRequest): string {
  return request.closeReason ? `\n${quote(request.closeReason)}` : '';
}

// ---- certificate usage ----------------------------------------------------------------------------

/** Private key file OpenSSH uses by default for the key type inside the certificate. */
export function defaultSshKeyFile(certificateLine: string): string {
  const type = certificateLine.split(' ')[0] ?? '';
  if (type.startsWith('sk-ssh-ed25519')) return '~/.ssh/id_ed25519_sk';
  if (type.startsWith('sk-ecdsa')) return '~/.ssh/id_ecdsa_sk';
  if (type.startsWith('ecdsa-')) return '~/.ssh/id_ecdsa';
  if (type.startsWith('ssh-rsa') || type.startsWith('rsa-sha2')) return '~/.ssh/id_rsa';
  return '~/.ssh/id_ed25519';
}

export function sshCertificateFile(resource: string): string {
  return `~/.ssh/access-bot-${resource}-cert.pub`;
}

export function x509CertificateFile(resource: string): string {
  return `~/.access-bot/${resource}.crt`;
}

/**
 * Code blocks that write `content` to a file with a quoted heredoc, each within Slack's section
 * limit. When the content is too long for one block it is split over several: PEM at line
 * boundaries, a one-line OpenSSH certificate in pieces joined again by `tr -d '\n'`.
 */
export function heredocBlocks(target: string, content: string, options: { oneLine: boolean; mkdir?: string }): string[] {
  const prefix = options.mkdir ? `mkdir -p ${options.mkdir} && ` : '';
  const whole = `${prefix}cat > ${target} <<'EOF'\n${content}\nEOF`;
  if (codeBlock(whole).length <= SLACK_LIMITS.sectionText) return [whole];
  const budget = SLACK_LIMITS.sectionText - 100;

  const pieces: string[] = [];
  if (options.oneLine) {
    const size = budget - 200;
    for (let i = 0; i < content.length; i += size) pieces.push(content.slice(i, i + size));
  } else {
    let current = '';
    for (const line of content.split('\n')) {
      if (current && codeBlock(`${current}\n${line}`).length > budget - 200) {
        pieces.push(current);
        current = line;
      } else current = current ? `${current}\n${line}` : line;
    }
    if (current) pieces.push(current);
  }
  const command = options.oneLine ? `${prefix}tr -d '\\n' > ${target} <<'EOF'` : `${prefix}cat > ${target} <<'EOF'`;
  return pieces.map((piece, i) => {
    const head = i === 0 ? `${command}\n` : '';
    const tail = i === pieces.length - 1 ? '\nEOF' : '';
    return `${head}${piece}${tail}`;
  });
}

function savingSteps(commands: string[]): KnownBlock[] {
  const blocks = commands.map((c) => section(codeBlock(c)));
  if (commands.length > 1) {
    blocks.unshift(context('The certificate is long, so Slack shows it in parts: paste them one after another into the same terminal.'));
  }
  return blocks;
}

/** `ssh -p 2222 -o … user@host` for a display host that may carry a port. */
function sshCommand(file: string, key: string, login: string, host: string): string {
  const m = /^(.*):(\d{1,5})$/.exec(host);
  const port = m && !host.includes('::') ? ` -p ${m[2]}` : '';
  return `ssh${port} -o CertificateFile=${file} -i ${key} ${login}@${m && port ? m[1] : host}`;
}

function sshUsage(request: AccessRequest, cert: IssuedCertificate, resource: Resource | undefined): KnownBlock[] {
  const file = sshCertificateFile(request.resource);
  const key = defaultSshKeyFile(cert.text);
  const login = cert.principals[0] ?? 'USER';
  const hosts = resource?.ssh?.hosts;
  const source = resource?.ssh?.source_address;
  const restrictions = [
    ...(source ? [`It works only from ${source.map(code).join(', ')}: connect from there (a bastion or VPN), or the server refuses it.`] : []),
    ...(resource?.ssh?.force_command ? [`It runs only ${code(resource.ssh.force_command)}, whatever command you give.`] : []),
  ];
  const commands = hosts ? hosts.slice(0, 5).map((h) => sshCommand(file, key, login, h)) : [sshCommand(file, key, login, 'HOST')];
  const where = hosts
    ? `(use the private key of the public key you registered, ${code(cert.keyFingerprint)})`
    : `(HOST is the server; use the private key of the public key you registered, ${code(cert.keyFingerprint)})`;
  return [
    section(
      `:key: *Your SSH certificate for ${code(request.resource)} is ready.* Valid until ${slackTime(cert.validBefore)}.\n` +
        `Log in as: ${cert.principals.map(code).join(', ')}${hosts ? ` on ${hosts.map(code).join(', ')}` : ''}` +
        (restrictions.length ? `\n${restrictions.join('\n')}` : ''),
    ),
    section('*1. Save the certificate* next to your key:'),
    ...savingSteps(heredocBlocks(file, cert.text.trim(), { oneLine: true })),
    section(`*2. Log in* ${where}:`),
    section(codeBlock(commands.join('\n'))),
  ];
}

/**
 * What a revocation does, said honestly: SSH servers learn of it when they next fetch the KRL;
 * Kubernetes never reads CRLs, so an X.509 certificate for it stays valid until it expires.
 */
export function revocationEffect(request: AccessRequest, resource: Resource | undefined, now: number, krlRefreshMs?: number, publicUrl?: string): string {
  const cert = request.certificate;
  if (!cert) return 'No certificate had been issued yet, so none can be used.';
  const refresh = krlRefreshMs !== undefined ? ` (${formatDuration(krlRefreshMs)})` : '';
  const list = (path: string, name: string) => (publicUrl ? `<${new URL(path, publicUrl).toString()}|${name}>` : name);
  const until = cert.validBefore > now ? `${slackTime(cert.validBefore)} (in ${roundedDuration(cert.validBefore - now)})` : undefined;
  if (cert.kind === 'ssh')
    return `Its serial ${escapeText(cert.serial)} is on the revocation list: servers that fetch the ${list('/ca/revoked.krl', 'KRL')} refuse the certificate within their refresh interval${refresh}.`;
  if (resource?.x509?.usage === 'kubernetes')
    return until
      ? `:warning: Kubernetes does not check revocation lists: this certificate stays valid on the cluster until it expires, ${until}. Delete your copy now; a cluster admin can remove its group bindings if it must stop sooner.`
      : 'Kubernetes does not check revocation lists, but this certificate has already expired.';
  return `Its serial ${escapeText(cert.serial)} is on the ${list('/ca/x509.crl', 'CRL')}: services that check the CRL refuse it after their next refresh${refresh}; any that do not check it accept it until it expires${until ? `, ${until}` : ''}.`;
}

function commonName(request: AccessRequest, _resource: Resource | undefined): string {
  return request.subject?.kind === 'x509' ? request.subject.commonName : 'USER';
}

/** "as jane.doe, postgres-ops" / "as CN=…, O=…": what the certificate will carry, never the template. */
function grantsLine(request: AccessRequest): string {
  if (!request.subject) return '';
  return request.subject.kind === 'ssh'
    ? `\nThe certificate will let you log in as: ${request.subject.principals.map(code).join(', ')}.`
    : `\nThe certificate will name you ${code(describeSubject(request.subject))}.`;
}

function x509Usage(request: AccessRequest, cert: IssuedCertificate, resource: Resource | undefined): KnownBlock[] {
  const file = x509CertificateFile(request.resource);
  const homeFile = file.replace(/^~/, '$HOME');
  const keyLine = 'KEY=~/.access-bot/key.pem   # your private key: the one whose public key you registered';
  const x509 = resource?.x509;
  const name = `access-bot-${request.resource}`;
  let use: string;
  let title: string;
  if (x509?.usage === 'kubernetes' && x509.kubernetes) {
    title = 'Add it to your kubeconfig';
    use = [
      keyLine,
      `kubectl config set-credentials ${name} --client-certificate="${homeFile}" --client-key="$KEY"`,
      `kubectl config set-cluster ${x509.kubernetes.cluster} --server=${x509.kubernetes.server}`,
      `kubectl config set-context ${name} --cluster=${x509.kubernetes.cluster} --user=${name}`,
      `kubectl --context ${name} auth whoami`,
    ].join('\n');
  } else if (x509?.usage === 'database') {
    title = 'Connect with a client certificate (HOST and DBNAME: your database)';
    use = [keyLine, `psql "host=HOST dbname=DBNAME user=${commonName(request, resource)} sslmode=verify-full sslcert=${homeFile} sslkey=$KEY"`].join(
      '\n',
    );
  } else {
    title = 'Use it as a client certificate (HOST: the service)';
    use = [keyLine, `curl --cert "${homeFile}" --key "$KEY" https://HOST/`].join('\n');
  }
  const groups = cert.principals.length ? `\nGroups (O): ${cert.principals.map(code).join(', ')}` : '';
  return [
    section(
      `:key: *Your X.509 client certificate for ${code(request.resource)} is ready.* Valid until ${slackTime(cert.validBefore)}.\n` +
        `Subject CN: ${code(commonName(request, resource))}${groups}`,
    ),
    section('*1. Save the certificate:*'),
    ...savingSteps(heredocBlocks(file, cert.text.trim(), { oneLine: false, mkdir: '~/.access-bot' })),
    section(`*2. ${title}:*`),
    section(codeBlock(use)),
  ];
}

function issuedMessage(request: AccessRequest, resource: Resource | undefined): SlackMessage {
  const cert = request.certificate;
  if (!cert) {
    return {
      text: `Your access to ${request.resource} is issued.`,
      blocks: [section(`:key: Your access to ${code(request.resource)} is issued, but the certificate is missing from the record. Ask an admin.`), footer(request)],
    };
  }
  const usage = cert.kind === 'ssh' ? sshUsage(request, cert, resource) : x509Usage(request, cert, resource);
  return {
    text: `Your certificate for ${escapeText(request.resource)} is ready (valid until ${slackTime(cert.validBefore)})`,
    blocks: [
      ...usage,
      context(`Serial ${escapeText(cert.serial)} · ${approvedBy(request)} · access ${formatDuration(request.grantedMs)}`),
      revokeButton(request),
      footer(request),
    ],
  };
}

/** The DM the requester gets for each notice about their request. */
export function requesterMessage(input: RequesterMessageInput): SlackMessage {
  const { request, notice, resource, workflow, now } = input;
  const what = code(request.resource);
  const plain = escapeText(request.resource);
  const one = (text: string, fallback: string, extra: KnownBlock[] = []): SlackMessage => ({
    text: truncate(fallback, SLACK_LIMITS.fallbackText),
    blocks: [section(text), ...extra, footer(request)],
  });
  switch (notice) {
    case 'pending':
      return one(
        `:hourglass_flowing_sand: Your request for ${what} (${formatDuration(request.grantedMs)}) is waiting for approval: ` +
          `stage ${escapeText(stageLabel(request.stage, workflow))}. Approvers: ${mentionList(request.approvers.filter((id) => id !== request.requester.id), '_none resolved; ask an admin_')}.` +
          `${grantsLine(request)}\n` +
          `You will hear from me here when it is decided. Access starts at approval.`,
        `Your request for ${plain} is waiting for approval`,
        [...(input.oncallContext ? [context(input.oncallContext)] : []), cancelButton(request)],
      );
    case 'stage_approved': {
      const previous = request.stage - 1;
      const by = [...new Set(request.reviews.filter((r) => r.stage === previous && r.decision === 'approve').map((r) => r.by))];
      return one(
        `:arrow_right: Your request for ${what} passed stage ${escapeText(stageLabel(previous, workflow))}${by.length ? ` (approved by ${mentionList(by)})` : ''}. ` +
          `Now waiting for stage ${escapeText(stageLabel(request.stage, workflow))}: ${mentionList(request.approvers.filter((id) => id !== request.requester.id), '_none resolved; ask an admin_')}.`,
        `Your request for ${plain} passed a stage; waiting for the next`,
        [cancelButton(request)],
      );
    }
    case 'approved': {
      const window =
        request.expiresAt !== undefined ? ` Access for ${formatDuration(request.grantedMs)}, until ${slackTime(request.expiresAt)}.` : '';
      const breakGlass = request.breakGlass
        ? `\n:rotating_light: This is break-glass access${request.breakGlass.incidentId ? ` for incident ${code(request.breakGlass.incidentId)}` : ''}` +
          `${request.breakGlass.reviewRequired ? '; a post-incident review is required.' : '.'}`
        : '';
      return one(
        `:white_check_mark: Your request for ${what} was ${request.breakGlass ? 'granted' : approvedBy(request)}.${window} Your certificate is being issued and comes here next.${breakGlass}`,
        `Your request for ${plain} was approved`,
      );
    }
    case 'denied':
      return one(
        `:no_entry: Your request for ${what} was denied${closedBy(request)}.${request.closeReason ? reasonQuote(request) : ' No reason was given.'}`,
        `Your request for ${plain} was denied`,
      );
    case 'timed_out':
      return one(
        `:hourglass: Your request for ${what} timed out: nobody decided in time. Request again with \`/access\` if you still need it.`,
        `Your request for ${plain} timed out`,
      );
    case 'cancelled':
      return one(`:heavy_multiplication_x: Your request for ${what} was cancelled${closedBy(request)}.${reasonQuote(request)}`, `Your request for ${plain} was cancelled`);
    case 'issued':
      return issuedMessage(request, resource);
    case 'failed':
      return one(
        `:warning: Your request for ${what} was approved, but the certificate could not be issued: ${escapeText(truncate(request.failure ?? 'unknown error', 500))}\n` +
          'Request again with `/access`, or ask an admin if it keeps failing.',
        `Your certificate for ${plain} could not be issued`,
      );
    case 'expiring': {
      const end = request.certificate?.validBefore ?? request.expiresAt ?? now;
      return one(
        `:alarm_clock: Your access to ${what} ends ${slackTime(end)} (${relativeTime(end, now)}). Need longer? \`/access extend ${escapeText(request.id)} 1h\``,
        `Your access to ${plain} ends ${relativeTime(end, now)}`,
        [revokeButton(request)],
      );
    }
    case 'expired':
      return one(
        `:lock: Your access to ${what} has ended${request.closedAt !== undefined ? ` (${slackTime(request.closedAt)})` : ''}. The certificate no longer works.`,
        `Your access to ${plain} has ended`,
      );
    case 'revoked':
      return one(
        `:octagonal_sign: Your access to ${what} was revoked${closedBy(request)}. ${revocationEffect(request, resource, now, input.krlRefreshMs, input.publicUrl)}${reasonQuote(request)}`,
        `Your access to ${plain} was revoked`,
      );
  }
}
