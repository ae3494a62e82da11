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

/** One page of a longer list: `total` is the true count, `page` counts from 1. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** Requests per page of `/access list` (lines) and `/access pending` (2 blocks each; a message holds 50). */
export const LIST_PAGE_SIZE = 20;
export const PENDING_PAGE_SIZE = PENDING_LIMIT;

/** "Showing 21–40 of 137", and a Next page button with the command that does the same. */
function pageFooter(what: 'list' | 'pending', page: Page<unknown>): types.KnownBlock[] {
  const first = (page.page - 1) * page.pageSize + 1;
  const last = first + page.items.length - 1;
  const more = last < page.total;
  const blocks: types.KnownBlock[] = [
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Showing ${page.items.length === 0 ? 0 : first}–${Math.max(last, 0)} of ${page.total}${more ? ` · next: \`/access ${what} ${page.page + 1}\`` : ''}`,
        },
      ],
    },
  ];
  if (more)
    blocks.push({
      type: 'actions',
      block_id: `page.${what}`,
      elements: [{ type: 'button', action_id: PAGE_ACTION_ID, value: `${what} ${page.page + 1}`, text: { type: 'plain_text', text: 'Next page' } }],
    });
  return blocks;
}

/** The Next page button of `/access list` and `/access pending`; value `list 2` or `pending 2`. */
export const PAGE_ACTION_ID = 'access.page';

/** `/access list`: the person's requests, newest first, one page at a time: active with time left, pending, the others. */
export function listReply(page: Page<AccessRequest>, policy: Policy, now: number, groups?: GroupLabels): CommandReply {
  const mine = page.items;
  if (page.total === 0) return { text: 'You have no requests yet. Type `/access` to make one.' };
  if (mine.length === 0) return { text: `There is no page ${page.page}: you have ${page.total} request${page.total === 1 ? '' : 's'}, ${LIST_PAGE_SIZE} to a page.` };
  const active = mine.filter((r) => (r.state === 'approved' || r.state === 'issued') && (r.expiresAt ?? Infinity) > now);
  const pending = mine.filter((r) => r.state === 'pending');
  const recent = mine.filter((r) => !active.includes(r) && !pending.includes(r));
  const blocks: types.KnownBlock[] = [
    section(`*Active access*\n${active.length ? linesOf(active, policy, now, LIST_LIMIT) : '_none_'}`),
    section(`*Pending*\n${pending.length ? linesOf(pending, policy, now, LIST_LIMIT, groups) : '_none_'}`),
  ];
  if (recent.length) blocks.push(section(`*${page.page === 1 ? 'Recent' : 'Earlier'}*\n${linesOf(recent, policy, now, page.page === 1 ? RECENT_LIMIT : LIST_PAGE_SIZE)}`));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '`/access revoke <id>` ends access early · `/access cancel <id>` withdraws a request' }] });
  if (page.total > mine.length) blocks.push(...pageFooter('list', page));
  return { text: `${active.length} active, ${pending.length} pending${page.total > mine.length ? ` (of ${page.total} requests in all)` : ''}`, blocks };
}

/** `/access pending`: what waits for this person's decision, each with Approve and Deny, a page at a time. */
export function pendingReply(page: Page<AccessRequest>, policy: Policy, now?: number, groups?: GroupLabels): CommandReply {
  if (page.total === 0) return { text: 'Nothing is waiting for your decision.' };
  if (page.items.length === 0) return { text: `There is no page ${page.page}: ${page.total} request${page.total === 1 ? '' : 's'} wait for your decision, ${page.pageSize} to a page.` };
  const blocks: types.KnownBlock[] = [section(`*${page.total} request${page.total === 1 ? '' : 's'} waiting for your decision*`)];
  for (const r of page.items.slice(0, PENDING_LIMIT)) blocks.push(...approvalItemBlocks(r, policy, 'pending', now, groups));
  if (page.total > page.items.length) blocks.push(...pageFooter('pending', page));
  return { text: `${page.total} waiting for your decision`, blocks };
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
