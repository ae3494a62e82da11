import type { AccessRequest } from '../../src/engine/types';
import { requestSummaryText } from '../../src/slack/blocks/app-home-view';
import { approvalMessage, reviewReply } from '../../src/slack/blocks/approval-message';
import { breakGlassMessage } from '../../src/slack/blocks/break-glass-message';
import { code, escapeText, quote, truncate } from '../../src/slack/blocks/format';
import { requesterMessage } from '../../src/slack/blocks/requester-messages';
import { samplePolicy } from '../helpers/policy';

/**
 * Issue 7: bidi controls and line separators typed into a reason, ticket or comment reached
 * approvers as is. "fix\u202Egnp.exe" shows as "fixexe.png": the approver reads a harmless file
 * name. Everything shown in Slack replaces them with a visible tag.
 */

/** Right-to-left and left-to-right embeddings, overrides, isolates and marks, and the Unicode line and paragraph separators. */
const INVISIBLE = [
  '\u202A', '\u202B', '\u202C', '\u202D', '\u202E',
  '\u2066', '\u2067', '\u2068', '\u2069',
  '\u200E', '\u200F', '\u061C',
  '\u2028', '\u2029',
];
const ANY_INVISIBLE = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/u;
const NOW = Date.UTC(2026, 10, 2, 9, 0, 0);
const policy = samplePolicy();
const resource = policy.resources.get('prod-db');
const workflow = policy.workflows.get('two-stage');

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'ar-bidi',
    version: 1,
    state: 'pending',
    requester: { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
    resource: 'prod-db',
    workflow: 'two-stage',
    reason: 'INC-7 fix\u202Egnp.exe\u2028and this looks like a new line',
    ticket: 'OPS-1\u2066\u2069',
    requestedMs: 3_600_000,
    grantedMs: 3_600_000,
    createdAt: NOW,
    updatedAt: NOW,
    stage: 0,
    stageStartedAt: NOW,
    escalatedStages: [],
    reviews: [],
    approvers: ['U0BOB'],
    ...overrides,
  };
}

describe('escapeText and friends neutralise bidi controls and line separators with a visible tag', () => {
  test.each(INVISIBLE.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))('%s becomes a visible tag', (tag, c) => {
    expect(escapeText(`a${c}b`)).toBe(`a[${tag}]b`);
  });

  test('the right-to-left override trick is visible to the approver', () => {
    expect(escapeText('fix\u202Egnp.exe')).toBe('fix[U+202E]gnp.exe');
    expect(quote('fix\u202Egnp.exe\u2028more')).toBe('>fix[U+202E]gnp.exe[U+2028]more');
    expect(code('prod\u202Edb')).toBe('`prod[U+202E]db`');
  });

  test('truncate (every block builder caps text with it, plain_text headers included) neutralises before it cuts', () => {
    expect(truncate('Access request: x\u202Ey', 150)).toBe('Access request: x[U+202E]y');
    const cut = truncate(`${'a'.repeat(10)}\u202E`, 12);
    expect(cut).not.toMatch(ANY_INVISIBLE);
    expect(cut).toHaveLength(12);
  });

  test('what is not a control stays: newlines, tabs, emoji joined with ZWJ, right-to-left text itself', () => {
    const text = 'line one\n\tline two 👩\u200D💻 שלום مرحبا';
    expect(escapeText(text)).toBe(text);
  });

  test('other C0 and C1 control characters are tagged too', () => {
    expect(escapeText('bell\u0007 esc\u001B[31m csi\u009B')).toBe('bell[U+0007] esc[U+001B][31m csi[U+009B]');
  });
});

describe('messages approvers and requesters read carry no bidi control or line separator', () => {
  test('the approval message: blocks and fallback text', () => {
    const message = approvalMessage({ request: request({ resource: 'prod\u202Edb' }), resource, workflow });
    const everything = JSON.stringify(message);
    expect(everything).not.toMatch(ANY_INVISIBLE);
    expect(message.text).not.toMatch(ANY_INVISIBLE);
    expect(message.text).toContain('prod[U+202E]db');
    expect(everything).toContain('fix[U+202E]gnp.exe[U+2028]and this looks like a new line');
    expect(everything).toContain('OPS-1[U+2066][U+2069]');
    const header = message.blocks[0] as { type: string; text: { type: string; text: string } };
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Access request: prod[U+202E]db' } });
  });

  test('a denial comment in the approval thread and the message once denied', () => {
    const denied = request({
      state: 'denied',
      closedBy: 'U0BOB',
      closedAt: NOW,
      closeReason: 'no\u202Eseye',
      reviews: [{ by: 'U0BOB', stage: 0, decision: 'deny', via: 'slack', at: NOW, comment: 'no\u202Eseye' }],
    });
    expect(reviewReply(denied, 0, workflow)).toContain('no[U+202E]seye');
    expect(JSON.stringify(approvalMessage({ request: denied, resource, workflow }))).not.toMatch(ANY_INVISIBLE);
  });

  test('the requester DM, the break-glass notice and the App Home summary', () => {
    const denied = request({ state: 'denied', closedBy: 'U0BOB', closedAt: NOW, closeReason: 'see \u2067ticket\u2069' });
    const dm = requesterMessage({ request: denied, notice: 'denied', resource, workflow, now: NOW });
    expect(JSON.stringify(dm)).not.toMatch(ANY_INVISIBLE);
    expect(JSON.stringify(dm)).toContain('[U+2067]ticket[U+2069]');
    const glass = breakGlassMessage(request({ state: 'approved', breakGlass: { reviewRequired: true, incidentId: 'Q1\u202E2' } }), resource);
    expect(JSON.stringify(glass)).not.toMatch(ANY_INVISIBLE);
    expect(requestSummaryText(request(), policy)).not.toMatch(ANY_INVISIBLE);
  });
});
