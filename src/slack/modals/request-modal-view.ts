import type { types } from '@slack/bolt';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../../config/duration';
import type { Policy, Resource, Workflow } from '../../config/policy';
import { MAX_REASON_LENGTH, MAX_TICKET_LENGTH } from '../../engine/policy-rules';
import type { AccessRequest, CertificateSubject } from '../../engine/types';
import { ACTION_IDS, REQUEST_BLOCKS, VIEW_IDS, type RequestBlockId } from '../actions/interaction-ids';
import { patternHint } from '../commands/command-policy';
import { submittedText } from '../commands/result-text';
import { approversText, type GroupLabels } from '../commands/slack-text';
import { escapeText, truncate } from '../blocks/format';
import { countResources, STATIC_SELECT_LIMIT, type ResourceGroup } from './requestable-resources';

/** The request modal, in its states: choosing, filled in for one resource, submitted. */

export interface SelectedResource {
  resource: Resource;
  workflow: Workflow;
  /** The person has no registered key of the kind this resource's certificate binds. */
  needsKey: boolean;
  /** Group ids shown as their handles. */
  groupLabels?: GroupLabels;
  /** What the certificate would carry for this person, when it can be rendered. */
  subject?: CertificateSubject;
}

export interface RequestModalInput {
  groups: ResourceGroup[];
  selected?: SelectedResource;
  /** A line shown above the form (mrkdwn), e.g. why a resource named in the command is not selectable. */
  notice?: string;
}

/** What the view was built for, carried in private_metadata so the submission knows which blocks exist. */
export interface RequestModalMetadata {
  resource?: string;
  blocks: RequestBlockId[];
}

const MetadataSchema = z.object({
  resource: z.string().max(100).optional(),
  blocks: z.array(z.enum(['resource', 'duration', 'reason', 'ticket', 'pubkey', 'breakglass'])).max(6),
});

export function parseRequestModalMetadata(text: string): RequestModalMetadata {
  try {
    const parsed = MetadataSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { blocks: parsed.data.blocks, ...(parsed.data.resource !== undefined ? { resource: parsed.data.resource } : {}) };
  } catch {
    // not ours: treat as a view with only the resource picker
  }
  return { blocks: [REQUEST_BLOCKS.resource] };
}

const DURATION_STEPS = ['15m', '30m', '1h', '2h', '4h', '8h', '12h', '1d', '2d', '3d', '7d'].map((d) => parseDuration(d) as number);

/** The usual steps up to the maximum, plus the default and the maximum themselves. */
export function durationChoices(defaultMs: number, maxMs: number): number[] {
  const set = new Set(DURATION_STEPS.filter((ms) => ms <= maxMs));
  set.add(Math.min(defaultMs, maxMs));
  set.add(maxMs);
  return [...set].sort((a, b) => a - b);
}

const TITLE: types.PlainTextElement = { type: 'plain_text', text: 'Request access' };

function plain(text: string): types.PlainTextElement {
  return { type: 'plain_text', text, emoji: true };
}

function resourceOption(resource: Resource): types.PlainTextOption {
  return { text: plain(truncate(`${resource.name} — ${resource.description}`, 75)), value: resource.name };
}

function resourcePicker(groups: ResourceGroup[], selected: Resource | undefined): types.InputBlock {
  const external = countResources(groups) > STATIC_SELECT_LIMIT;
  const initial = selected ? { initial_option: resourceOption(selected) } : {};
  const element: types.StaticSelect | types.ExternalSelect = external
    ? { type: 'external_select', action_id: ACTION_IDS.resourceSelect, placeholder: plain('Type to search resources'), min_query_length: 0, ...initial }
    : {
        type: 'static_select',
        action_id: ACTION_IDS.resourceSelect,
        placeholder: plain('Choose what you need'),
        option_groups: groups.map((g) => ({ label: plain(truncate(g.workflow.name, 75)), options: g.resources.map(resourceOption) })),
        ...initial,
      };
  return { type: 'input', block_id: REQUEST_BLOCKS.resource, label: plain('Resource'), dispatch_action: true, element };
}

function certificateLine(resource: Resource, subject: CertificateSubject | undefined): string {
  if (resource.ssh) {
    // The logins this person would get, never the template; a template that cannot render for them is refused on submit.
    const logins = subject?.kind === 'ssh' ? subject.principals : resource.ssh.principals.filter((p) => !p.includes('{{'));
    return `SSH certificate${logins.length ? ` for login as ${logins.map((p) => `\`${escapeText(p)}\``).join(', ')}` : ''}`;
  }
  const x509 = resource.x509;
  const usage = x509?.usage === 'kubernetes' ? `Kubernetes${x509.kubernetes ? ` (${escapeText(x509.kubernetes.cluster)})` : ''}` : x509?.usage === 'database' ? 'database' : 'mTLS';
  return `X.509 client certificate for ${usage}`;
}

function approvalLine(workflow: Workflow, groups?: GroupLabels): string {
  const stages = workflow.stages.map((s) => `${escapeText(s.name)} (${s.approvals > 1 ? `${s.approvals} of ` : ''}${approversText(s.approvers, groups)})`);
  const auto = workflow.auto_approve.length > 0 ? ' Some requests are approved automatically.' : '';
  return `Approval: ${stages.join(' → ')}.${auto}`;
}

/** The hint in words, never the regular expression. */
function patternHelp(spec: { hint?: string; pattern?: string } | undefined): string {
  return truncate(patternHint(spec), 2000);
}

function durationOption(ms: number, defaultMs: number, maxMs: number): types.PlainTextOption {
  const note = ms === maxMs ? ' (maximum)' : ms === defaultMs ? ' (default)' : '';
  return { text: plain(`${formatDuration(ms)}${note}`), value: formatDuration(ms) };
}

function selectedBlocks(selected: SelectedResource): types.KnownBlock[] {
  const { resource, workflow } = selected;
  const max = resource.duration.max;
  const def = Math.min(resource.duration.default, max);
  const options = durationChoices(def, max).map((ms) => durationOption(ms, def, max));
  const initial = options.find((o) => o.value === formatDuration(def));
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      block_id: 'resource_info',
      text: { type: 'mrkdwn', text: truncate(`*${escapeText(resource.name)}* — ${escapeText(resource.description)}`, 3000) },
    },
    {
      type: 'context',
      block_id: 'resource_rules',
      elements: [{ type: 'mrkdwn', text: truncate(`${certificateLine(resource, selected.subject)}, up to ${formatDuration(max)}. ${approvalLine(workflow, selected.groupLabels)}`, 3000) }],
    },
    {
      type: 'input',
      block_id: REQUEST_BLOCKS.duration,
      label: plain('For how long'),
      hint: plain(`Up to ${formatDuration(max)}. Access starts when the request is approved.`),
      element: {
        type: 'static_select',
        action_id: ACTION_IDS.durationSelect,
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    },
  ];
  return blocks;
}

function reasonBlock(workflow: Workflow | undefined): types.InputBlock {
  const help = workflow ? patternHelp(workflow.reason) : '';
  return {
    type: 'input',
    block_id: REQUEST_BLOCKS.reason,
    label: plain('Reason'),
    optional: workflow ? !workflow.reason.required : false,
    ...(help ? { hint: plain(help) } : {}),
    element: {
      type: 'plain_text_input',
      action_id: ACTION_IDS.reasonInput,
      multiline: true,
      max_length: MAX_REASON_LENGTH,
      placeholder: plain('What will you do, and why now?'),
    },
  };
}

function ticketBlock(workflow: Workflow): types.InputBlock {
  const help = patternHelp(workflow.ticket);
  return {
    type: 'input',
    block_id: REQUEST_BLOCKS.ticket,
    label: plain('Ticket'),
    optional: !workflow.ticket?.required,
    ...(help ? { hint: plain(help) } : {}),
    element: { type: 'plain_text_input', action_id: ACTION_IDS.ticketInput, max_length: MAX_TICKET_LENGTH, placeholder: plain('e.g. OPS-123') },
  };
}

/** Where the workflow allows it: break glass instead of asking approvers (on call, during an incident). */
function breakGlassBlock(workflow: Workflow): types.InputBlock {
  const bg = workflow.break_glass!;
  const needs = bg.require_active_incident ? 'on call in PagerDuty, with an open incident on the service' : 'on call in PagerDuty';
  return {
    type: 'input',
    block_id: REQUEST_BLOCKS.breakGlass,
    optional: true,
    label: plain('Emergency'),
    element: {
      type: 'checkboxes',
      action_id: ACTION_IDS.breakGlassToggle,
      options: [
        {
          text: plain('Break glass: access at once, no approver'),
          description: plain(truncate(`Only when you are ${needs}. Announced at once, reviewed afterwards; at most ${formatDuration(bg.max_duration)}.`, 150)),
          value: 'yes',
        },
      ],
    },
  };
}

function pubkeyBlock(resource: Resource): types.InputBlock {
  const ssh = resource.ssh !== undefined;
  return {
    type: 'input',
    block_id: REQUEST_BLOCKS.pubkey,
    label: plain(ssh ? 'Your SSH public key' : 'Your public key or CSR (PEM)'),
    hint: plain(
      ssh
        ? 'You have no SSH key registered yet. Paste your public key, e.g. the contents of ~/.ssh/id_ed25519.pub (make one with: ssh-keygen -t ed25519). Never paste a private key. It is registered once for later requests.'
        : 'You have no key registered for X.509 certificates yet. Paste a PEM public key (-----BEGIN PUBLIC KEY-----) or a certificate signing request. Never paste a private key.',
    ),
    element: {
      type: 'plain_text_input',
      action_id: ACTION_IDS.pubkeyInput,
      multiline: true,
      max_length: 3000,
      placeholder: plain(ssh ? 'ssh-ed25519 AAAAC3Nza… you@laptop' : '-----BEGIN PUBLIC KEY-----'),
    },
  };
}

/** The request modal: the resource picker, then (once a resource is chosen) its options. */
export function requestModalView(input: RequestModalInput): types.ModalView {
  const { groups, selected } = input;
  if (countResources(groups) === 0) {
    return {
      type: 'modal',
      callback_id: VIEW_IDS.request,
      title: TITLE,
      close: plain('Close'),
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'There is nothing you may request: no workflow names you (or a group you are in) as a requester. Ask an access-bot admin.' },
        },
      ],
    };
  }
  const blocks: types.KnownBlock[] = [];
  if (input.notice) blocks.push({ type: 'section', block_id: 'notice', text: { type: 'mrkdwn', text: truncate(input.notice, 3000) } });
  blocks.push(resourcePicker(groups, selected?.resource));
  const present: RequestBlockId[] = [REQUEST_BLOCKS.resource, REQUEST_BLOCKS.reason];
  if (selected) {
    blocks.push(...selectedBlocks(selected));
    present.push(REQUEST_BLOCKS.duration);
  } else {
    blocks.push({ type: 'context', block_id: 'resource_hint', elements: [{ type: 'mrkdwn', text: 'Choose a resource to see how long you can have it and who approves.' }] });
  }
  blocks.push(reasonBlock(selected?.workflow));
  if (selected?.workflow.ticket) {
    blocks.push(ticketBlock(selected.workflow));
    present.push(REQUEST_BLOCKS.ticket);
  }
  if (selected?.needsKey) {
    blocks.push(pubkeyBlock(selected.resource));
    present.push(REQUEST_BLOCKS.pubkey);
  }
  if (selected?.workflow.break_glass) {
    blocks.push(breakGlassBlock(selected.workflow));
    present.push(REQUEST_BLOCKS.breakGlass);
  }
  const metadata: RequestModalMetadata = { blocks: present, ...(selected ? { resource: selected.resource.name } : {}) };
  return {
    type: 'modal',
    callback_id: VIEW_IDS.request,
    title: TITLE,
    submit: plain('Request'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}

function resultView(text: string, footer: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_IDS.request,
    title: TITLE,
    close: plain('Done'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: footer }] },
    ],
  };
}

export function requestSubmittedView(request: AccessRequest, policy: Policy): types.ModalView {
  return resultView(submittedText(request, policy), 'Follow it with `/access list` or in the access-bot App Home.');
}

/** Shown when the submission outlives Slack's 3-second answer window; replaced by the result. */
export function requestWorkingView(): types.ModalView {
  return resultView(':hourglass: Submitting your request…', 'This is taking longer than usual; the result will appear here.');
}

/** A refusal that arrived after the working view was shown, when inline errors are no longer possible. */
/** Shown at once while the form's content is looked up, so the short-lived trigger id is used in time. */
export function requestLoadingView(): types.ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_IDS.request,
    title: TITLE,
    close: plain('Cancel'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':hourglass: Loading what you can request…' } }],
  };
}

export function requestNotSubmittedView(message: string): types.ModalView {
  return resultView(`:no_entry_sign: Not submitted: ${escapeText(message)}`, 'Run `/access` again to fix it and resubmit.');
}
