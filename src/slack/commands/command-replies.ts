import type { types } from '@slack/bolt';
import type { Policy } from '../../config/policy';
import type { AccessRequest } from '../../engine/types';
import type { RegisteredKey } from '../../requests/ports';
import { approvalItemBlocks } from '../blocks/app-home-view';
import { formatDuration } from '../../config/duration';
import { ACTION_IDS } from '../actions/interaction-ids';
import { escapeText, slackTime, truncate } from '../blocks/format';
import { requestLine, type GroupLabels } from './slack-text';

/** The Extend button of an "already open" reply; value `<grant id> <duration>`. */
export const EXTEND_ACTION_ID = 'access.extend';

/** A reply to a slash command: `text` is the notification and fallback, `blocks` the layout when there is one. */
export interface CommandReply {
  text: string;
  blocks?: types.KnownBlock[];
}

const LIST_LIMIT = 15;
const RECENT_LIMIT = 5;
/** A message holds at most 50 blocks: 2 per request, plus a header and a footer. */
const PENDING_LIMIT = 20;

function section(text: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } };
}

function linesOf(requests: AccessRequest[], policy: Policy, now: number, limit: number, groups?: GroupLabels): string {
  const lines = requests.slice(0, limit).map((r) => `• ${requestLine(r, policy, now, groups)}`);
  if (requests.length > limit) lines.push(`…and ${requests.length - limit} more`);
  return lines.join('\n');
}

/** `/access list`: active access with time left, pending requests, and the last few closed ones. */
export function listReply(mine: AccessRequest[], policy: Policy, now: number, groups?: GroupLabels): CommandReply {
  const active = mine.filter((r) => (r.state === 'approved' || r.state === 'issued') && (r.expiresAt ?? Infinity) > now);
  const pending = mine.filter((r) => r.state === 'pending');
  const recent = mine.filter((r) => !active.includes(r) && !pending.includes(r));
  if (mine.length === 0) return { text: 'You have no requests yet. Type `/access` to make one.' };
  const blocks: types.KnownBlock[] = [
    section(`*Active access*\n${active.length ? linesOf(active, policy, now, LIST_LIMIT) : '_none_'}`),
    section(`*Pending*\n${pending.length ? linesOf(pending, policy, now, LIST_LIMIT, groups) : '_none_'}`),
  ];
  if (recent.length) blocks.push(section(`*Recent*\n${linesOf(recent, policy, now, RECENT_LIMIT)}`));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '`/access revoke <id>` ends access early · `/access cancel <id>` withdraws a request' }] });
  return { text: `${active.length} active, ${pending.length} pending`, blocks };
}

/** `/access pending`: what waits for this person's decision, each with Approve and Deny. */
export function pendingReply(requests: AccessRequest[], policy: Policy, now?: number, groups?: GroupLabels): CommandReply {
  if (requests.length === 0) return { text: 'Nothing is waiting for your decision.' };
  const blocks: types.KnownBlock[] = [section(`*${requests.length} request${requests.length === 1 ? '' : 's'} waiting for your decision*`)];
  for (const r of requests.slice(0, PENDING_LIMIT)) blocks.push(...approvalItemBlocks(r, policy, 'pending', now, groups));
  if (requests.length > PENDING_LIMIT) blocks.push(section(`…and ${requests.length - PENDING_LIMIT} more in the App Home.`));
  return { text: `${requests.length} waiting for your decision`, blocks };
}

export function keyListReply(keys: RegisteredKey[]): CommandReply {
  if (keys.length === 0) return { text: 'You have no keys registered. Add one with `/access key add <public key>` (SSH: the contents of ~/.ssh/id_ed25519.pub).' };
  const sorted = [...keys].sort((a, b) => b.addedAt - a.addedAt);
  const lines = sorted.map(
    (k) => `• \`${k.fingerprint}\` · ${k.kind === 'ssh' ? 'SSH' : 'X.509'} ${escapeText(k.algorithm)}${k.comment ? ` · ${escapeText(truncate(k.comment, 80))}` : ''} · added ${slackTime(k.addedAt)}`,
  );
  return {
    text: `${keys.length} key${keys.length === 1 ? '' : 's'} registered`,
    blocks: [
      section(`*Your keys*\n${lines.join('\n')}`),
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'New requests use your newest key of the kind the resource needs.' }] },
    ],
  };
}

export function keyAddedText(key: RegisteredKey): string {
  return `:key: Registered your ${key.kind === 'ssh' ? 'SSH' : 'X.509'} ${escapeText(key.algorithm)} key \`${key.fingerprint}\`${
    key.comment ? ` (${escapeText(truncate(key.comment, 80))})` : ''
  }. Your next ${key.kind === 'ssh' ? 'SSH' : 'X.509'} certificates will be issued for it.`;
}

/**
 * A request for something the person already holds or has pending: point at it and offer what
 * they most likely want instead, as a button and as the exact command: extend the grant by the
 * duration they just asked for, or withdraw the pending request.
 */
export function alreadyOpenReply(message: string, open: AccessRequest | undefined, durationMs: number | undefined): CommandReply {
  const text = `:information_source: ${escapeText(message)}`;
  if (!open) return { text };
  const blocks: types.KnownBlock[] = [section(text)];
  if (open.state === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: `open.${open.id}`,
      elements: [{ type: 'button', action_id: ACTION_IDS.cancel, value: open.id, text: { type: 'plain_text', text: `Cancel ${open.id}` } }],
    });
    return { text, blocks };
  }
  if (open.breakGlass || durationMs === undefined) return { text, blocks };
  const duration = formatDuration(durationMs);
  const command = `/access extend ${open.id} ${duration}`;
  blocks.push(
    section(`Extend it instead: \`${command}\``),
    {
      type: 'actions',
      block_id: `open.${open.id}`,
      elements: [{ type: 'button', action_id: EXTEND_ACTION_ID, style: 'primary', value: `${open.id} ${duration}`, text: { type: 'plain_text', text: `Extend by ${duration}` } }],
    },
  );
  return { text: `${text} Extend it instead: \`${command}\``, blocks };
}
