import path from 'node:path';
import { parseDuration } from '../config/duration';
import { loadPolicy } from '../config/workflow-loader';
import { simulateRequest, type SimulationResult } from '../engine/simulate';
import type { Actor } from '../engine/types';
import { EXIT, type CliCommand } from './cli-io';
import { parseOptions, rejectPositionals } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage: access-bot workflows simulate --requester <slack id or email> --resource R [options]

Answers, without side effects: may this person request it, who approves each stage, would it
auto-approve or break glass, and for how long.

Options:
  --requester ID     Slack user id (U012ABC) or email of the requester (required)
  --groups a,b       Slack user groups the requester belongs to (handles or ids)
  --resource R       the resource to request (required)
  --duration 2h      requested duration (default: the resource's default)
  --reason TEXT      check this reason against the workflow's rules
  --ticket KEY       check this ticket reference
  --oncall           the requester is on call for the workflow's break-glass services
  --incident         those services have an active incident
                     (break-glass also needs PagerDuty connected: PAGERDUTY_TOKEN in this environment)
  --dir DIR          workflow directory (default: $WORKFLOWS_DIR, else ./workflows)
  --json             print the answer as JSON
  -h, --help         show this help

Exit codes: 0 the request would be accepted, 1 it would be refused, 2 bad command line,
3 workflow files invalid or unreadable.
`;

export const workflowsSimulateCommand: CliCommand = async (args, io) => {
  const { values, positionals } = parseOptions(
    {
      args,
      options: {
        requester: { type: 'string' },
        groups: { type: 'string' },
        resource: { type: 'string' },
        duration: { type: 'string' },
        reason: { type: 'string' },
        ticket: { type: 'string' },
        oncall: { type: 'boolean' },
        incident: { type: 'boolean' },
        dir: { type: 'string' },
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
  if (!values.requester || !values.resource) throw new UsageError(`--requester and --resource are required.\n\n${HELP}`);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    durationMs = parseDuration(values.duration);
    if (durationMs === undefined) throw new UsageError(`--duration "${values.duration}" is not a duration like 30m, 2h or 1d.`);
  }

  const isEmail = values.requester.includes('@');
  const requester: Actor = {
    id: isEmail ? values.requester : values.requester.toUpperCase(),
    // The operator vouches for the email given here, as Slack's confirmation would.
    ...(isEmail ? { email: values.requester, emailVerified: true } : {}),
    groups: (values.groups ?? '')
      .split(',')
      .map((g) => g.trim().replace(/^@/, ''))
      .filter(Boolean),
  };
  const dir = values.dir ?? (io.env.WORKFLOWS_DIR?.trim() || './workflows');
  const policy = await loadPolicy(path.resolve(io.cwd, dir), { displayRoot: io.cwd });
  const result = simulateRequest(policy, {
    requester,
    resource: values.resource,
    now: Date.now(),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
    ...(values.oncall ? { oncall: true } : {}),
    ...(values.incident ? { incident: true } : {}),
    // Break-glass needs PagerDuty where the bot runs: this reads the same environment.
    pagerDutyConnected: Boolean(io.env.PAGERDUTY_TOKEN?.trim()),
  });
  io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : render(result, requester, values.reason !== undefined));
  return result.allowed ? EXIT.OK : EXIT.NEGATIVE;
};

function render(r: SimulationResult, requester: Actor, reasonChecked: boolean): string {
  const who = `${requester.email ?? requester.id}${requester.groups.length ? ` (groups: ${requester.groups.join(', ')})` : ''}`;
  const lines = [`resource:   ${r.resource}${r.certificate ? ` (${r.certificate} certificate)` : ''}`];
  if (r.workflow) lines.push(`workflow:   ${r.workflow}`);
  lines.push(`requester:  ${who}`);
  const outcome = {
    needs_approval: 'allowed: needs approval',
    auto_approved: `allowed: AUTO-APPROVED (auto_approve rule ${(r.autoApproveRule ?? 0) + 1})`,
    break_glass: 'allowed: BREAK-GLASS, approved at once, post-incident review required',
    refused: `REFUSED (${r.refusal?.code}): ${r.refusal?.message}`,
  }[r.outcome];
  lines.push(`outcome:    ${outcome}`);
  if (r.subject) lines.push(`${r.certificate === 'x509' ? 'subject:    ' : 'log in as:  '}${r.subject}`);
  if (r.duration) lines.push(`duration:   ${r.duration.granted} granted, from approval (default ${r.duration.default}, max ${r.duration.max})`);
  if (r.reason) {
    const rule = r.reason.required ? `required${r.reason.pattern ? `, must match /${r.reason.pattern}/` : ''}` : 'optional';
    lines.push(`reason:     ${rule}${r.reason.hint ? ` (${r.reason.hint})` : ''}${reasonChecked ? '' : ' [not checked: pass --reason]'}`);
  }
  if (r.ticket) {
    const rule = r.ticket.required ? `required${r.ticket.pattern ? `, must match /${r.ticket.pattern}/` : ''}` : 'optional';
    lines.push(`ticket:     ${rule}${reasonChecked ? '' : ' [not checked: pass --ticket]'}`);
  }
  if (r.stages.length) {
    lines.push(`approval:   ${r.approvalRoute.join('; ')}${r.outcome === 'needs_approval' ? '' : ' (not needed for this request)'}`);
    for (const s of r.stages) {
      const timing = [s.reminder ? `reminders from ${s.reminder}` : '', s.timeout ? `after ${s.timeout}: ${s.onTimeout === 'escalate' ? 'escalate to the next stage' : 'the request times out'}` : '']
        .filter(Boolean)
        .join('; ');
      const self = s.requesterIsApprover ? (r.selfApproval ? ' [requester may approve own request]' : ' [requester is an approver but cannot approve own request]') : '';
      lines.push(`  stage ${s.index + 1} "${s.name}": ${s.approvals} approval${s.approvals > 1 ? 's' : ''} from ${s.approvers}${timing ? `; ${timing}` : ''}${self}`);
    }
  }
  if (r.breakGlass) {
    const bg = r.breakGlass;
    lines.push(`break-glass: ${bg.available ? 'available now' : `not available now: ${bg.reason ?? ''}`}`);
    if (bg.onceConnected)
      lines.push(
        `             once PagerDuty is connected (PAGERDUTY_TOKEN): ${
          bg.onceConnected.available ? 'available, approved at once for this on-call during the incident' : `still not available: ${bg.onceConnected.reason ?? ''}`
        }`,
      );
  }
  return `${lines.join('\n')}\n`;
}
