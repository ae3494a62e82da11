import { decide } from '../../src/engine/request-machine';
import type { AccessRequest, Actor, Decision, DecisionContext, IncidentFact, RequestEvent } from '../../src/engine/types';
import { policyFrom } from '../helpers/policy';

/** The pure engine side of access granted by an incident: who gets it, what is audited, how it ends. */

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const policy = policyFrom({
  allowed_email_domains: ['example.com'],
  resources: {
    root: { description: 'root', workflow: 'bg', duration: { default: '1h', max: '4h' }, ssh: { principals: ['{{user.username}}'] } },
    graced: { description: 'graced', workflow: 'bg-grace', duration: { default: '1h', max: '4h' }, ssh: { principals: ['{{user.username}}'] } },
  },
  workflows: {
    bg: {
      requesters: { slack_groups: ['sre'] },
      stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
      break_glass: { pagerduty_services: ['PSVC001', 'PSVC002'], max_duration: '2h', on_incident: { services: ['PSVC001'] }, review_required: true, review_reminder: '1h' },
    },
    'bg-grace': {
      requesters: { slack_groups: ['sre'] },
      stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
      break_glass: { pagerduty_services: ['PSVC001'], on_incident: { grace: '5m' }, review_required: false },
    },
  },
});

const pagerduty: Actor = { id: 'pagerduty', groups: [] };
const alice: Actor = { id: 'UALICE', email: 'alice@example.com', emailVerified: true, groups: ['sre'] };
const open: IncidentFact = { id: 'QINC1', service: 'PSVC001', status: 'triggered', number: 42, title: 'db down', assignees: [{ id: 'PALICE', email: 'alice@example.com' }] };

const ctx = (extra: Partial<DecisionContext> = {}): DecisionContext => ({ now: T0, policy, actor: pagerduty, ...extra });
const grant = (overrides: Partial<Extract<RequestEvent, { type: 'incident_grant' }>> = {}): RequestEvent => ({
  type: 'incident_grant',
  id: 'ar-incident01',
  resource: 'root',
  requester: { id: alice.id, email: alice.email!, emailVerified: true },
  requesterActor: alice,
  keyFingerprint: 'SHA256:abc',
  incident: open,
  assignee: 'PALICE',
  ...overrides,
});
const transition = (d: Decision) => {
  if (d.kind !== 'transition') throw new Error(`expected a transition, got ${JSON.stringify(d)}`);
  return d;
};
const audits = (d: Decision) => (d.kind === 'noop' ? [] : d.effects.flatMap((e) => (e.type === 'audit' ? [e.event.type] : [])));

describe('incident_grant', () => {
  test('an eligible assignee with a key is granted at once, for the break-glass maximum, with the incident audited', () => {
    const d = transition(decide(undefined, grant(), ctx()));
    expect(d.request).toMatchObject({
      state: 'approved',
      requester: { id: alice.id },
      grantedMs: 2 * 3_600_000,
      expiresAt: T0 + 2 * 3_600_000,
      reason: 'PagerDuty incident #42: db down',
      breakGlass: { incidentId: 'QINC1', service: 'PSVC001', incidentStatus: 'triggered', onIncident: { assignee: 'PALICE' }, reviewRequired: true },
    });
    expect(audits(d)).toEqual(['request.created', 'breakglass.incident_granted', 'breakglass.review_opened', 'request.approved']);
    const approved = d.effects.find((e) => e.type === 'audit' && e.event.type === 'request.approved');
    expect(approved?.type === 'audit' && approved.event.data.route).toBe('incident');
    expect(d.effects).toEqual(expect.arrayContaining([{ type: 'enqueue_issuance' }, { type: 'post_incident_note', event: 'granted' }, { type: 'notify_break_glass' }]));
  });

  test.each([
    ['not one who may break glass', { requesterActor: { ...alice, groups: [] } }, 'NOT_ELIGIBLE'],
    ['an unconfirmed Slack email', { requester: { id: alice.id, email: alice.email! } }, 'IDENTITY_UNRESOLVED'],
    ['a deactivated account', { requesterActor: { ...alice, inactive: 'deleted' as const } }, 'NOT_ALLOWED'],
    ['a resolved incident', { incident: { ...open, status: 'resolved' as const } }, 'BREAK_GLASS_NOT_ALLOWED'],
    ['an incident on a service the workflow does not grant for', { incident: { ...open, service: 'PSVC002' } }, 'BREAK_GLASS_NOT_ALLOWED'],
    ['no registered key', { keyFingerprint: undefined }, 'KEY_REQUIRED'],
  ])('refused (and audited as breakglass.incident_refused): %s', (_name, overrides, code) => {
    const event = grant(overrides as Partial<Extract<RequestEvent, { type: 'incident_grant' }>>);
    if ('keyFingerprint' in overrides) delete (event as { keyFingerprint?: string }).keyFingerprint;
    const d = decide(undefined, event, ctx());
    expect(d).toMatchObject({ kind: 'refused', code });
    expect(audits(d)).toEqual(['breakglass.incident_refused']);
  });

  test('refused when the person already holds break-glass access to the resource', () => {
    const held = transition(decide(undefined, grant(), ctx())).request;
    expect(decide(undefined, grant({ id: 'ar-incident02' }), ctx({ openForResource: held }))).toMatchObject({ kind: 'refused', code: 'ALREADY_OPEN' });
  });
});

describe('incident_resolved', () => {
  const issued = (resource = 'root'): AccessRequest => ({
    ...transition(decide(undefined, grant({ resource }), ctx())).request,
    state: 'issued',
    certificate: { kind: 'ssh', serial: '7', keyFingerprint: 'SHA256:abc', validAfter: T0, validBefore: T0 + 3_600_000, principals: ['alice'], text: 'c', issuedAt: T0, caFingerprint: 'SHA256:ca' },
  });
  const resolved = { ...open, status: 'resolved' as const };

  test('revokes the grant at once, with the certificate, noted on the incident', () => {
    const d = transition(decide(issued(), { type: 'incident_resolved', incident: resolved }, ctx({ now: T0 + 600_000, actor: { id: 'system', groups: [] } })));
    expect(d.request).toMatchObject({ state: 'revoked', closeReason: 'PagerDuty incident #42 resolved' });
    expect(audits(d)).toEqual(['breakglass.incident_resolved', 'request.revoked']);
    expect(d.effects).toEqual(expect.arrayContaining([{ type: 'revoke_certificate' }, { type: 'post_incident_note', event: 'ended' }]));
  });

  test('with a grace the grant is shortened, and at its new end it expires with its certificate revoked', () => {
    const now = T0 + 600_000;
    const d = transition(decide(issued('graced'), { type: 'incident_resolved', incident: resolved }, ctx({ now, actor: { id: 'system', groups: [] } })));
    expect(d.request).toMatchObject({ state: 'issued', expiresAt: now + 300_000, breakGlass: { incidentResolvedAt: now } });
    expect(d.effects).toContainEqual({ type: 'schedule', timer: 'expiry', at: now + 300_000 });
    expect(decide(d.request, { type: 'expire' }, ctx({ now: now + 200_000 }))).toMatchObject({ kind: 'noop' });
    const expired = transition(decide(d.request, { type: 'expire' }, ctx({ now: now + 300_000 })));
    expect(expired.request.state).toBe('expired');
    expect(expired.effects).toContainEqual({ type: 'revoke_certificate' });
  });

  test('a still-open incident, another incident, or a closed grant: nothing', () => {
    expect(decide(issued(), { type: 'incident_resolved', incident: open }, ctx())).toMatchObject({ kind: 'noop' });
    expect(decide(issued(), { type: 'incident_resolved', incident: { ...resolved, id: 'QOTHER' } }, ctx())).toMatchObject({ kind: 'noop' });
    expect(decide({ ...issued(), state: 'revoked' }, { type: 'incident_resolved', incident: resolved }, ctx())).toMatchObject({ kind: 'noop' });
  });
});

describe('review reminders', () => {
  const used = () => transition(decide(undefined, grant(), ctx())).request;
  test('remind while the review is open, backing off; nothing once it is closed', () => {
    const d = transition(decide(used(), { type: 'review_reminder_due', n: 0 }, ctx({ now: T0 + 3_600_000, actor: { id: 'system', groups: [] } })));
    expect(audits(d)).toEqual(['breakglass.review_reminded']);
    expect(d.effects).toEqual(expect.arrayContaining([{ type: 'notify_break_glass_review', phase: 'reminder', n: 1 }, { type: 'schedule', timer: 'review_reminder', at: T0 + 3_600_000 + 2 * 3_600_000, n: 1 }]));
    const closed = { ...used(), breakGlass: { ...used().breakGlass!, review: { by: 'USEC', at: T0, notes: 'ok' } } };
    expect(decide(closed, { type: 'review_reminder_due', n: 1 }, ctx())).toMatchObject({ kind: 'noop' });
  });
});
