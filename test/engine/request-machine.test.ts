import { decide, MAX_REMINDERS } from '../../src/engine/request-machine';
import type {
  AccessRequest,
  Actor,
  Decision,
  DecisionContext,
  Effect,
  IssuedCertificate,
  RequestEvent,
} from '../../src/engine/types';
import { policyFrom, samplePolicy } from '../helpers/policy';

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = samplePolicy();

const alice: Actor = { id: 'UALICE', email: 'alice@example.com', emailVerified: true, groups: ['engineers', 'staging-team'] };
const bob: Actor = { id: 'UBOB', email: 'bob@example.com', emailVerified: true, groups: ['engineers'] };
const lead: Actor = { id: 'ULEAD1', email: 'lead@example.com', groups: ['db-leads'] };
const sec1: Actor = { id: 'USEC1', groups: ['security'] };
const sec2: Actor = { id: 'USEC2', groups: [] };
const admin: Actor = { id: 'UADMIN', groups: [] };
const stranger: Actor = { id: 'USTRANGER', groups: ['marketing'] };
const sre1: Actor = { id: 'USRE1', groups: ['sre'] };
const sre2: Actor = { id: 'USRE2', groups: ['sre'] };
const system: Actor = { id: 'system', groups: [] };

function ctx(actor: Actor, extra: Partial<DecisionContext> = {}): DecisionContext {
  return { now: T0, policy, actor, ...extra };
}

function submitEvent(actor: Actor, overrides: Partial<Extract<RequestEvent, { type: 'submit' }>> = {}): RequestEvent {
  return {
    type: 'submit',
    id: 'req-1',
    resource: 'prod-db',
    reason: 'INC-42 replica lag',
    ticket: 'OPS-7',
    keyFingerprint: 'SHA256:abc',
    requester: { id: actor.id, ...(actor.email ? { email: actor.email, emailVerified: true } : {}) },
    via: 'slack',
    ...overrides,
  };
}

function transition(d: Decision): { request: AccessRequest; effects: Effect[] } {
  if (d.kind !== 'transition') throw new Error(`expected a transition, got ${d.kind}: ${JSON.stringify(d)}`);
  return d;
}

function audits(effects: Effect[]): string[] {
  return effects.flatMap((e) => (e.type === 'audit' ? [e.event.type] : []));
}

function others(effects: Effect[]): Effect[] {
  return effects.filter((e) => e.type !== 'audit');
}

/** A pending prod-db request at stage 0, created at T0 by alice. */
function pendingProdDb(): AccessRequest {
  return transition(decide(undefined, submitEvent(alice), ctx(alice, { approversByStage: [['ULEAD1'], ['USEC1', 'USEC2']] })))
    .request;
}

function review(req: AccessRequest, actor: Actor, decision: 'approve' | 'deny', extra: Partial<DecisionContext> = {}, comment?: string) {
  return decide(req, { type: 'review', decision, via: 'slack', ...(comment !== undefined ? { comment } : {}) }, ctx(actor, extra));
}

const cert = (validBefore: number): IssuedCertificate => ({
  kind: 'ssh',
  serial: '7',
  keyFingerprint: 'SHA256:abc',
  validAfter: T0 - MIN,
  validBefore,
  principals: ['postgres', 'alice'],
  text: 'ssh-ed25519-cert-v01@openssh.com AAAA req-1',
  issuedAt: T0,
  caFingerprint: 'SHA256:ca',
});

/** An issued prod-db grant approved at T0 + 5 min for 1 h. */
function issuedProdDb(): AccessRequest {
  const approvedAt = T0 + 5 * MIN;
  const a = transition(review(pendingProdDb(), lead, 'approve', { now: approvedAt })).request;
  const b = transition(review(a, sec1, 'approve', { now: approvedAt })).request;
  return transition(decide(b, { type: 'issued', certificate: cert(b.expiresAt!) }, ctx(system, { now: approvedAt })))
    .request;
}

describe('submit: refusals change nothing and are audited as request.refused', () => {
  const cases: Array<[string, Actor, Partial<Extract<RequestEvent, { type: 'submit' }>>, string, RegExp]> = [
    ['unknown resource', alice, { resource: 'nope' }, 'UNKNOWN_RESOURCE', /no resource called "nope"/],
    ['requester not eligible', stranger, {}, 'NOT_ELIGIBLE', /not allowed to request prod-db/],
    ['reason missing', alice, { reason: '   ' }, 'REASON_REQUIRED', /Start with INC-123/],
    ['reason not matching the pattern', alice, { reason: 'because' }, 'REASON_INVALID', /Start with INC-123/],
    ['reason too long', alice, { reason: `INC-1 ${'x'.repeat(1000)}` }, 'FIELD_TOO_LONG', /longer than 1000/],
    ['ticket missing', alice, { ticket: '' }, 'TICKET_REQUIRED', /ticket reference is required/],
    ['ticket malformed', alice, { ticket: 'ops 7' }, 'TICKET_INVALID', /not a valid ticket/],
    ['ticket too long', alice, { ticket: `OPS-${'1'.repeat(200)}` }, 'FIELD_TOO_LONG', /longer than 100/],
    ['duration over the maximum', alice, { durationMs: 5 * HOUR }, 'DURATION_TOO_LONG', /5h is longer than the maximum of 4h/],
    ['duration under a minute', alice, { durationMs: 30_000 }, 'DURATION_INVALID', /at least 1m/],
    ['no registered key', alice, { keyFingerprint: undefined }, 'KEY_REQUIRED', /Register a public key/],
    ['on behalf of someone else', alice, { requester: { id: 'UBOB' } }, 'NOT_ALLOWED', /only request access for yourself/],
    ['admin issue by a non-admin', alice, { adminIssue: true }, 'NOT_ALLOWED', /Only admins/],
    ['break-glass where the workflow has none', alice, { breakGlass: true }, 'BREAK_GLASS_NOT_ALLOWED', /prod-db has no break-glass; request it normally with `\/access prod-db <duration> <ticket> <reason>`/],
  ];
  it.each(cases)('%s', (_name, actor, overrides, code, message) => {
    const d = decide(undefined, submitEvent(actor, overrides), ctx(actor));
    expect(d.kind).toBe('refused');
    if (d.kind !== 'refused') return;
    expect(d.code).toBe(code);
    expect(d.message).toMatch(message);
    expect(d.effects).toHaveLength(1);
    const [effect] = d.effects;
    expect(effect).toMatchObject({ type: 'audit', event: { type: 'request.refused', actor: { id: actor.id, via: 'slack' }, data: { code } } });
  });
});

describe('accounts that may not act', () => {
  it.each([
    ['a deactivated account', { ...alice, inactive: 'deleted' as const }, /deactivated/],
    ['a bot', { ...alice, inactive: 'bot' as const }, /Bots cannot/],
  ])('%s is refused, whatever the policy says', (_n, actor, message) => {
    const d = decide(undefined, submitEvent(actor, { resource: 'staging', ticket: undefined }), ctx(actor));
    expect(d).toMatchObject({ kind: 'refused', code: 'NOT_ALLOWED', message: expect.stringMatching(message) });
    const approverGone = { ...lead, inactive: 'deleted' as const };
    expect(review(pendingProdDb(), approverGone, 'approve')).toMatchObject({ kind: 'refused', code: 'NOT_ALLOWED' });
  });

  it('a Slack guest is not part of "everyone", only where named', () => {
    const guest: Actor = { id: 'UGUEST', email: 'contractor@vendor.example', groups: [], guest: true };
    expect(decide(undefined, submitEvent(guest, { resource: 'k8s' }), ctx(guest))).toMatchObject({ kind: 'refused', code: 'NOT_ELIGIBLE' });
    const named = policyFrom({
      resources: { box: { description: 'b', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['x'] } } },
      workflows: { w: { requesters: { users: ['UGUEST'] }, stages: [{ name: 's', approvers: { users: ['ULEAD1'] } }] } },
    });
    const d = decide(undefined, submitEvent(guest, { resource: 'box' }), { now: T0, policy: named, actor: guest });
    expect(d.kind).toBe('transition');
  });
});

describe('submit: outcomes', () => {
  it('a normal request is pending at stage 0 with notifications, the approver index and timers', () => {
    const { request, effects } = transition(
      decide(undefined, submitEvent(alice), ctx(alice, { approversByStage: [['ULEAD1', 'ULEAD2'], ['USEC1']] })),
    );
    expect(request).toMatchObject({
      id: 'req-1',
      state: 'pending',
      stage: 0,
      requestedMs: HOUR,
      grantedMs: HOUR,
      approvers: ['ULEAD1', 'ULEAD2'],
      reason: 'INC-42 replica lag',
      ticket: 'OPS-7',
      createdAt: T0,
    });
    expect(audits(effects)).toEqual(['request.created']);
    expect(others(effects)).toEqual([
      { type: 'notify_approvers', stage: 0, reason: 'new' },
      { type: 'notify_requester', notice: 'pending' },
      { type: 'schedule', timer: 'pending_ttl', at: T0 + 24 * HOUR },
      { type: 'schedule', timer: 'stage_timeout', at: T0 + 30 * MIN, stage: 0 },
      { type: 'schedule', timer: 'reminder', at: T0 + 10 * MIN, stage: 0, n: 0 },
    ]);
  });

  it('the created event records the policy hash for evidence', () => {
    const { effects } = transition(decide(undefined, submitEvent(alice), ctx(alice)));
    const created = effects.find((e) => e.type === 'audit');
    expect(created).toMatchObject({ event: { data: { policy: policy.hash, resource: 'prod-db', grantedMs: HOUR } } });
  });

  it('auto-approves a team member within the rule and starts the window at once', () => {
    const d = transition(decide(undefined, submitEvent(alice, { resource: 'staging', durationMs: 2 * HOUR, ticket: undefined }), ctx(alice)));
    expect(d.request).toMatchObject({ state: 'approved', autoApproved: { rule: 0 }, approvedAt: T0, expiresAt: T0 + 2 * HOUR });
    expect(audits(d.effects)).toEqual(['request.created', 'request.approved']);
    expect(d.effects).toContainEqual({ type: 'enqueue_issuance' });
  });

  it('does not auto-approve beyond the rule maximum: the request waits for a person', () => {
    const d = transition(decide(undefined, submitEvent(alice, { resource: 'staging', durationMs: 6 * HOUR }), ctx(alice)));
    expect(d.request.state).toBe('pending');
  });

  it('does not auto-approve someone outside the rule', () => {
    const d = transition(decide(undefined, submitEvent(bob, { resource: 'staging', durationMs: HOUR }), ctx(bob)));
    expect(d.request.state).toBe('pending');
  });

  it('an admin can issue outside the workflow, flagged and audited', () => {
    const d = transition(
      decide(
        undefined,
        submitEvent(admin, { adminIssue: true, requester: { id: 'UBOB', email: 'bob@example.com', emailVerified: true }, durationMs: HOUR }),
        ctx(admin),
      ),
    );
    expect(d.request).toMatchObject({ state: 'approved', adminIssued: { by: 'UADMIN' }, requester: { id: 'UBOB' } });
    expect(audits(d.effects)).toEqual(['request.created', 'request.approved']);
  });
});

describe('one open request per person and resource', () => {
  it('a second request while one is pending points at it', () => {
    const open = pendingProdDb();
    const d = decide(undefined, submitEvent(alice, { id: 'req-2' }), ctx(alice, { openForResource: open }));
    expect(d).toMatchObject({ kind: 'refused', code: 'ALREADY_OPEN', message: expect.stringMatching(/already have a pending request for prod-db \(req-1\).*\/access cancel req-1/) });
    if (d.kind === 'refused') expect(d.effects[0]).toMatchObject({ event: { type: 'request.refused', data: { code: 'ALREADY_OPEN', open: 'req-1' } } });
  });

  it('a request for a resource already held offers extend instead', () => {
    const grant = issuedProdDb();
    const d = decide(undefined, submitEvent(alice, { id: 'req-2' }), ctx(alice, { openForResource: grant, now: grant.expiresAt! - 30 * MIN }));
    expect(d).toMatchObject({ kind: 'refused', code: 'ALREADY_OPEN', message: expect.stringMatching(/already have access to prod-db.*for another 30m.*\/access extend req-1 <duration>/) });
  });
});

describe('login names and certificate subjects come from identity the requester cannot edit', () => {
  const identityPolicy = (extra: Record<string, unknown> = {}) =>
    policyFrom({
      allowed_email_domains: ['example.com'],
      resources: {
        box: { description: 'b', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['{{user.username}}', 'deploy'] } },
        rootbox: { description: 'r', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['root'] } },
        kube: { description: 'k', workflow: 'w', duration: { default: '1h', max: '1h' }, x509: { groups: ['devs'] } },
      },
      workflows: { w: { requesters: { everyone: true }, reason: { required: false }, stages: [{ name: 's', approvers: { users: ['ULEAD1'] } }] } },
      ...extra,
    });
  const submitAs = (person: Actor, resource: string, policyUsed = identityPolicy()) =>
    decide(
      undefined,
      submitEvent(person, { resource, ticket: undefined, requester: { id: person.id, ...(person.email ? { email: person.email } : {}), ...(person.emailVerified ? { emailVerified: true } : {}) } }),
      { now: T0, policy: policyUsed, actor: person },
    );

  it('an email set to root@… never becomes the principal root (the attack: a user edits their Slack email)', () => {
    const mallory: Actor = { id: 'UMAL', email: 'root@example.com', emailVerified: true, groups: [] };
    expect(submitAs(mallory, 'box')).toMatchObject({ kind: 'refused', code: 'RESERVED_LOGIN', message: expect.stringMatching(/"root", a reserved system name/) });
    // admins' own additions count too
    const oracle: Actor = { ...mallory, id: 'UORA', email: 'oracle@example.com' };
    expect(submitAs(oracle, 'box', identityPolicy({ reserved_logins: ['oracle'] }))).toMatchObject({ kind: 'refused', code: 'RESERVED_LOGIN' });
  });

  it('an email outside the allowed domains, or not confirmed by Slack, names nothing', () => {
    const outsider: Actor = { id: 'UOUT', email: 'jane@evil.example', emailVerified: true, groups: [] };
    expect(submitAs(outsider, 'box')).toMatchObject({ kind: 'refused', code: 'IDENTITY_UNRESOLVED', message: expect.stringMatching(/evil\.example cannot name logins.*allowed: example\.com/) });
    const unconfirmed: Actor = { id: 'UUNC', email: 'jane@example.com', groups: [] };
    expect(submitAs(unconfirmed, 'box')).toMatchObject({ kind: 'refused', code: 'IDENTITY_UNRESOLVED', message: expect.stringMatching(/not confirmed/) });
    expect(submitAs(unconfirmed, 'kube')).toMatchObject({ kind: 'refused', code: 'IDENTITY_UNRESOLVED' });
    const noDomains: Actor = { id: 'UNOD', email: 'jane@example.com', emailVerified: true, groups: [] };
    expect(submitAs(noDomains, 'box', identityPolicy({ allowed_email_domains: undefined }))).toMatchObject({ kind: 'refused', code: 'IDENTITY_UNRESOLVED', message: expect.stringMatching(/allowed_email_domains/) });
  });

  it('the identities mapping wins over the email; a resource naming root literally still grants it', () => {
    const jane: Actor = { id: 'UJANE', email: 'root@example.com', emailVerified: true, groups: [] };
    const mapped = identityPolicy({ identities: { UJANE: 'jdoe' } });
    expect(transition(submitAs(jane, 'box', mapped)).request.subject).toEqual({ kind: 'ssh', principals: ['jdoe', 'deploy'] });
    expect(transition(submitAs(jane, 'rootbox', mapped)).request.subject).toEqual({ kind: 'ssh', principals: ['root'] });
  });

  it('the request records the exact principals and X.509 subject: what approvers are shown and the worker signs', () => {
    const ok: Actor = { id: 'UOK', email: 'Jane.Doe@Example.com', emailVerified: true, groups: [] };
    expect(transition(submitAs(ok, 'box')).request.subject).toEqual({ kind: 'ssh', principals: ['jane.doe', 'deploy'] });
    expect(transition(submitAs(ok, 'kube')).request.subject).toEqual({ kind: 'x509', commonName: 'jane.doe@example.com', groups: ['devs'] });
  });
});

describe('user group references: ids match ids only, handles match handles only', () => {
  const attacker: Actor = { id: 'UATTACK', email: 'a@example.com', emailVerified: true, groups: ['S0ATTACK01', 's04t8kq1n2p'] };
  const groupPolicy = policyFrom({
    admins: { slack_groups: ['S04T8KQ1N2P'] },
    allowed_email_domains: ['example.com'],
    resources: { box: { description: 'b', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['deploy'] } } },
    workflows: {
      w: { requesters: { everyone: true }, reason: { required: false }, stages: [{ name: 'sec', approvers: { slack_groups: ['S04T8KQ1N2P'] } }] },
    },
  });

  it('a group whose handle spells an admin group\'s id grants neither admin rights nor approval (the attack)', () => {
    const victim: Actor = { id: 'UVICTIM', email: 'v@example.com', emailVerified: true, groups: [] };
    const submitted = transition(
      decide(undefined, submitEvent(victim, { resource: 'box', ticket: undefined }), { now: T0, policy: groupPolicy, actor: victim, approversByStage: [['USECREAL']] }),
    ).request;
    const asAttacker = { now: T0, policy: groupPolicy, actor: attacker };
    expect(decide(submitted, { type: 'cancel', via: 'slack' }, asAttacker)).toMatchObject({ kind: 'refused', code: 'NOT_ALLOWED' });
    expect(decide(submitted, { type: 'review', decision: 'approve', via: 'slack' }, { ...asAttacker, approversByStage: [['USECREAL']] })).toMatchObject({
      kind: 'refused',
      code: 'NOT_APPROVER',
    });
  });

  it('the real group id, and handles written with @ or in capitals, still match', () => {
    const member: Actor = { id: 'USEC', groups: ['S04T8KQ1N2P', 'security-team'] };
    const byHandle = policyFrom({ admins: { slack_groups: ['@security-team'] } });
    expect(decide(pendingProdDb(), { type: 'cancel', via: 'slack' }, { now: T0, policy: groupPolicy, actor: member })).toMatchObject({ kind: 'transition' });
    expect(decide(pendingProdDb(), { type: 'cancel', via: 'slack' }, { now: T0, policy: byHandle, actor: { id: 'UX', groups: ['Security-Team'] } })).toMatchObject({
      kind: 'transition',
    });
  });
});

describe('break-glass', () => {
  it('being on call is not enough: the person must be an eligible requester (the attack: anyone on call, in no group)', () => {
    const outsider: Actor = { id: 'UOUTSIDE', email: 'o@example.com', emailVerified: true, groups: [] };
    const d = decide(undefined, submitEvent(outsider, { resource: 'prod-breakglass', breakGlass: true }), ctx(outsider, { oncallServices: ['PSVC001'], activeIncidents: [{ id: 'Q1', service: 'PSVC001' }] }));
    expect(d).toMatchObject({ kind: 'refused', code: 'NOT_ELIGIBLE', message: expect.stringMatching(/not allowed to break glass/) });
    // ...unless the workflow says so explicitly
    const open = policyFrom({
      resources: { root: { description: 'r', workflow: 'bg', duration: { default: '30m', max: '1h' }, ssh: { principals: ['root'] } } },
      workflows: {
        bg: {
          requesters: { users: ['UNOBODY'] },
          stages: [{ name: 's', approvers: { users: ['USEC1'] } }],
          break_glass: { pagerduty_services: ['PSVC001'], requesters: { everyone: true } },
        },
      },
    });
    const allowed = decide(undefined, submitEvent(outsider, { resource: 'root', breakGlass: true, ticket: undefined }), {
      now: T0,
      policy: open,
      actor: outsider,
      oncallServices: ['PSVC001'],
      activeIncidents: [{ id: 'Q1', service: 'PSVC001' }],
    });
    expect(allowed).toMatchObject({ kind: 'transition', request: { state: 'approved', breakGlass: { incidentId: 'Q1' } } });
  });

  const bg = (extra: Partial<DecisionContext>, overrides: Partial<Extract<RequestEvent, { type: 'submit' }>> = {}) =>
    decide(undefined, submitEvent(bob, { resource: 'prod-breakglass', breakGlass: true, ...overrides }), ctx(bob, extra));

  it('refuses someone not on call', () => {
    const d = bg({ oncallServices: [], activeIncidents: [{ id: 'Q1', service: 'PSVC001' }] });
    expect(d).toMatchObject({ kind: 'refused', code: 'BREAK_GLASS_NOT_ALLOWED', message: expect.stringMatching(/on call/) });
  });

  it('refuses when an active incident is required and there is none', () => {
    const d = bg({ oncallServices: ['PSVC001'], activeIncidents: [{ id: 'Q9', service: 'POTHER1' }] });
    expect(d).toMatchObject({ kind: 'refused', code: 'BREAK_GLASS_NOT_ALLOWED', message: expect.stringMatching(/active PagerDuty incident/) });
  });

  it('approves at once for the on-call during an incident, flagged for review', () => {
    const d = transition(bg({ oncallServices: ['PSVC001'], activeIncidents: [{ id: 'Q1', service: 'PSVC001' }] }));
    expect(d.request).toMatchObject({
      state: 'approved',
      breakGlass: { incidentId: 'Q1', service: 'PSVC001', reviewRequired: true },
      grantedMs: 30 * MIN,
      expiresAt: T0 + 30 * MIN,
    });
    expect(audits(d.effects)).toEqual(['request.created', 'breakglass.used', 'breakglass.review_opened', 'request.approved']);
    expect(d.effects).toContainEqual({ type: 'notify_break_glass' });
    expect(d.effects).toContainEqual({ type: 'post_incident_note', event: 'granted' });
    expect(d.effects).toContainEqual({ type: 'notify_break_glass_review', phase: 'opened' });
  });

  it('caps break-glass at its own maximum, below the resource maximum', () => {
    const d = bg({ oncallServices: ['PSVC001'], activeIncidents: [{ id: 'Q1', service: 'PSVC001' }] }, { durationMs: 90 * MIN });
    expect(d).toMatchObject({ kind: 'refused', code: 'DURATION_TOO_LONG', message: expect.stringMatching(/maximum of 1h/) });
  });
});

describe('review', () => {
  it('a stage-1 approval advances to stage 2 with the next approvers, notifications and timers', () => {
    const req = pendingProdDb();
    const now = T0 + 3 * MIN;
    const { request, effects } = transition(review(req, lead, 'approve', { now, approversByStage: [['ULEAD1'], ['USEC1', 'USEC2']] }));
    expect(request).toMatchObject({ state: 'pending', stage: 1, stageStartedAt: now, approvers: ['USEC1', 'USEC2'] });
    expect(request.reviews).toEqual([{ stage: 0, by: 'ULEAD1', decision: 'approve', via: 'slack', at: now }]);
    expect(audits(effects)).toEqual(['review.approved', 'stage.advanced']);
    expect(others(effects)).toEqual([
      { type: 'update_approval_messages' },
      { type: 'notify_approvers', stage: 1, reason: 'new' },
      { type: 'notify_requester', notice: 'stage_approved' },
      { type: 'schedule', timer: 'stage_timeout', at: now + HOUR, stage: 1 },
    ]);
  });

  it('the last stage approval approves, and access time starts at approval, not at request', () => {
    const stage2 = transition(review(pendingProdDb(), lead, 'approve', { now: T0 + MIN })).request;
    const approvedAt = T0 + 50 * MIN;
    const { request, effects } = transition(review(stage2, sec2, 'approve', { now: approvedAt }));
    expect(request).toMatchObject({ state: 'approved', approvedAt, expiresAt: approvedAt + HOUR, approvers: [] });
    expect(audits(effects)).toEqual(['review.approved', 'request.approved']);
    const approved = effects.find((e) => e.type === 'audit' && e.event.type === 'request.approved');
    expect(approved).toMatchObject({ event: { data: { approvers: ['ULEAD1', 'USEC2'], route: 'workflow' } } });
    expect(others(effects)).toEqual([
      { type: 'enqueue_issuance' },
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'approved' },
    ]);
  });

  it('a deny closes the request with the reason', () => {
    const { request, effects } = transition(review(pendingProdDb(), lead, 'deny', {}, 'use the replica'));
    expect(request).toMatchObject({ state: 'denied', closedBy: 'ULEAD1', closeReason: 'use the replica' });
    expect(audits(effects)).toEqual(['request.denied']);
    expect(effects).toContainEqual({ type: 'notify_requester', notice: 'denied' });
  });

  const refusals: Array<[string, () => Decision, string]> = [
    ['someone who is not an approver of the stage', () => review(pendingProdDb(), stranger, 'approve'), 'NOT_APPROVER'],
    ['a stage-2 approver deciding stage 1', () => review(pendingProdDb(), sec1, 'approve'), 'NOT_APPROVER'],
    [
      'the requester, even in the approver group',
      () => {
        const both: Actor = { ...alice, groups: [...alice.groups, 'db-leads'] };
        return review(pendingProdDb(), both, 'approve');
      },
      'SELF_APPROVAL',
    ],
    ['a comment over 1000 characters', () => review(pendingProdDb(), lead, 'deny', {}, 'x'.repeat(1001)), 'FIELD_TOO_LONG'],
    [
      'a decision on a request that is already denied',
      () => review(transition(review(pendingProdDb(), lead, 'deny')).request, { ...lead, id: 'ULEAD2' }, 'approve'),
      'NOT_PENDING',
    ],
  ];
  it.each(refusals)('refuses %s, audited as review.refused', (_name, run, code) => {
    const d = run();
    expect(d).toMatchObject({ kind: 'refused', code });
    if (d.kind === 'refused') expect(audits(d.effects)).toEqual(['review.refused']);
  });

  it('names the approvers when refusing someone who is not one', () => {
    const d = review(pendingProdDb(), stranger, 'approve');
    expect(d).toMatchObject({ message: expect.stringMatching(/stage "leads".*@db-leads/) });
  });

  it('accepts an approver resolved by the caller (PagerDuty on-call) even when not named', () => {
    const oncall: Actor = { id: 'UONCALL', groups: [] };
    const d = review(pendingProdDb(), oncall, 'approve', { approversByStage: [['UONCALL'], []] });
    expect(transition(d).request.stage).toBe(1);
  });

  it('a repeated click by the same approver changes nothing and is not a refusal', () => {
    const quorum = transition(decide(undefined, submitEvent(alice, { resource: 'k8s' }), ctx(alice))).request;
    const once = transition(review(quorum, sre1, 'approve')).request;
    expect(review(once, sre1, 'approve')).toMatchObject({ kind: 'noop' });
    const decided = transition(review(once, sre2, 'approve')).request;
    expect(review(decided, sre2, 'approve')).toMatchObject({ kind: 'noop' });
  });

  it('a stage needing two approvals waits for two distinct people', () => {
    const quorum = transition(decide(undefined, submitEvent(alice, { resource: 'k8s' }), ctx(alice))).request;
    const one = transition(review(quorum, sre1, 'approve'));
    expect(one.request.state).toBe('pending');
    expect(one.effects).toContainEqual(
      expect.objectContaining({ type: 'audit', event: expect.objectContaining({ data: expect.objectContaining({ approvals: 1, needed: 2 }) }) }),
    );
    expect(transition(review(one.request, sre2, 'approve')).request.state).toBe('approved');
  });

  it('with distinct approvers, someone who approved stage 1 cannot approve stage 2', () => {
    const both: Actor = { id: 'USEC1', groups: ['db-leads'] };
    const stage2 = transition(review(pendingProdDb(), both, 'approve')).request;
    expect(review(stage2, both, 'approve')).toMatchObject({ kind: 'refused', code: 'ALREADY_REVIEWED' });
  });

  it('self-approval is possible only where the workflow allows it', () => {
    const lenient = policyFrom({
      resources: { box: { description: 'b', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['x'] } } },
      workflows: { w: { requesters: { everyone: true }, self_approval: true, stages: [{ name: 's', approvers: { users: ['UALICE'] } }] } },
    });
    const req = transition(decide(undefined, submitEvent(alice, { resource: 'box' }), { now: T0, policy: lenient, actor: alice })).request;
    const d = decide(req, { type: 'review', decision: 'approve', via: 'slack' }, { now: T0, policy: lenient, actor: alice });
    expect(transition(d).request.state).toBe('approved');
  });
});

describe('timers', () => {
  it('a stage timeout escalates to the next stage and remembers the skipped stage', () => {
    const now = T0 + 30 * MIN;
    const { request, effects } = transition(
      decide(pendingProdDb(), { type: 'stage_timeout', stage: 0 }, ctx(system, { now, approversByStage: [[], ['USEC1']] })),
    );
    expect(request).toMatchObject({ state: 'pending', stage: 1, escalatedStages: [0], approvers: ['USEC1'], stageStartedAt: now });
    expect(audits(effects)).toEqual(['stage.escalated']);
    expect(others(effects)).toEqual([
      { type: 'update_approval_messages' },
      { type: 'notify_approvers', stage: 1, reason: 'escalated' },
      { type: 'schedule', timer: 'stage_timeout', at: now + HOUR, stage: 1 },
    ]);
  });

  it('the last stage timing out times the request out', () => {
    const stage2 = transition(decide(pendingProdDb(), { type: 'stage_timeout', stage: 0 }, ctx(system, { now: T0 + 30 * MIN }))).request;
    const d = transition(decide(stage2, { type: 'stage_timeout', stage: 1 }, ctx(system, { now: T0 + 90 * MIN })));
    expect(d.request.state).toBe('timed_out');
    expect(audits(d.effects)).toEqual(['request.timed_out']);
  });

  it('on_timeout: expire times out a stage that could escalate', () => {
    const quorum = transition(decide(undefined, submitEvent(alice, { resource: 'k8s' }), ctx(alice))).request;
    const d = transition(decide(quorum, { type: 'stage_timeout', stage: 0 }, ctx(system, { now: T0 + HOUR })));
    expect(d.request.state).toBe('timed_out');
  });

  it.each([
    ['a timer for a stage the request has left', { type: 'stage_timeout', stage: 1 } as RequestEvent, T0 + 2 * HOUR],
    ['a stage timer that fires early', { type: 'stage_timeout', stage: 0 } as RequestEvent, T0 + 10 * MIN],
    ['a reminder for another stage', { type: 'reminder_due', stage: 1, n: 0 } as RequestEvent, T0 + 10 * MIN],
    ['a pending TTL that is not due', { type: 'pending_ttl' } as RequestEvent, T0 + HOUR],
    ['expiry of a pending request', { type: 'expire' } as RequestEvent, T0 + 48 * HOUR],
  ])('ignores %s', (_name, event, now) => {
    expect(decide(pendingProdDb(), event, ctx(system, { now }))).toMatchObject({ kind: 'noop' });
  });

  it('the pending TTL times a request out', () => {
    const d = transition(decide(pendingProdDb(), { type: 'pending_ttl' }, ctx(system, { now: T0 + 24 * HOUR })));
    expect(d.request).toMatchObject({ state: 'timed_out', closedBy: 'system' });
  });

  it('reminders back off and stop before the stage times out', () => {
    const req = pendingProdDb();
    const d = transition(decide(req, { type: 'reminder_due', stage: 0, n: 0 }, ctx(system, { now: T0 + 10 * MIN })));
    expect(audits(d.effects)).toEqual(['reminder.sent']);
    expect(others(d.effects)).toEqual([{ type: 'notify_approvers', stage: 0, reason: 'reminder' }]);
    expect(d.request.state).toBe('pending');
  });

  it('reminders double their interval and stop after the maximum', () => {
    const p = policyFrom({
      resources: { box: { description: 'b', workflow: 'w', duration: { default: '1h', max: '1h' }, ssh: { principals: ['x'] } } },
      workflows: {
        w: { requesters: { everyone: true }, pending_ttl: '30d', stages: [{ name: 's', approvers: { users: ['ULEAD1'] }, reminder: '10m' }] },
      },
    });
    let req = transition(decide(undefined, submitEvent(alice, { resource: 'box' }), { now: T0, policy: p, actor: alice })).request;
    let at = T0 + 10 * MIN;
    const scheduled: number[] = [];
    for (let n = 0; n < MAX_REMINDERS; n++) {
      const d = transition(decide(req, { type: 'reminder_due', stage: 0, n }, { now: at, policy: p, actor: system }));
      req = d.request;
      const next = d.effects.find((e) => e.type === 'schedule');
      if (!next || next.type !== 'schedule') break;
      scheduled.push(next.at - at);
      at = next.at;
    }
    expect(scheduled).toEqual([20, 40, 80, 160, 320, 640, 1280].map((m) => m * MIN));
  });
});

describe('requester and admin actions', () => {
  it('the requester cancels a pending request', () => {
    const d = transition(decide(pendingProdDb(), { type: 'cancel', via: 'slack' }, ctx(alice)));
    expect(d.request).toMatchObject({ state: 'cancelled', closedBy: 'UALICE' });
    expect(audits(d.effects)).toEqual(['request.cancelled']);
  });

  it('an admin cancels anyone\'s request; a stranger cannot', () => {
    expect(transition(decide(pendingProdDb(), { type: 'cancel', via: 'cli' }, ctx(admin))).request.state).toBe('cancelled');
    const d = decide(pendingProdDb(), { type: 'cancel', via: 'slack' }, ctx(bob));
    expect(d).toMatchObject({ kind: 'refused', code: 'NOT_ALLOWED' });
    if (d.kind === 'refused') expect(audits(d.effects)).toEqual(['request.cancel_refused']);
  });

  it('cancel after approval says to revoke instead', () => {
    expect(decide(issuedProdDb(), { type: 'cancel', via: 'slack' }, ctx(alice))).toMatchObject({
      kind: 'refused',
      code: 'NOT_PENDING',
      message: expect.stringMatching(/revoke/),
    });
  });

  it('revoking an issued grant revokes its certificate', () => {
    const d = transition(decide(issuedProdDb(), { type: 'revoke', via: 'slack', comment: 'done early' }, ctx(alice, { now: T0 + 20 * MIN })));
    expect(d.request).toMatchObject({ state: 'revoked', closedBy: 'UALICE', closeReason: 'done early' });
    expect(audits(d.effects)).toEqual(['request.revoked']);
    expect(d.effects).toContainEqual({ type: 'revoke_certificate' });
  });

  it.each([
    ['a stranger revoking', () => decide(issuedProdDb(), { type: 'revoke', via: 'slack' }, ctx(bob)), 'NOT_ALLOWED'],
    ['revoking a pending request', () => decide(pendingProdDb(), { type: 'revoke', via: 'slack' }, ctx(alice)), 'NOT_ACTIVE'],
  ])('refuses %s', (_n, run, code) => {
    const d = run();
    expect(d).toMatchObject({ kind: 'refused', code });
    if (d.kind === 'refused') expect(audits(d.effects)).toEqual(['request.revoke_refused']);
  });

  it('an admin revokes anyone\'s grant', () => {
    expect(transition(decide(issuedProdDb(), { type: 'revoke', via: 'cli' }, ctx(admin))).request.state).toBe('revoked');
  });
});

describe('extension', () => {
  it('extends an active grant: the new window starts where the grant ends, not at approval', () => {
    const grant = issuedProdDb();
    const now = grant.expiresAt! - 10 * MIN;
    const req = transition(
      decide(undefined, submitEvent(alice, { id: 'req-2', extensionOf: grant, durationMs: 2 * HOUR }), ctx(alice, { now })),
    ).request;
    expect(req.extension).toEqual({ of: grant.id, previousExpiresAt: grant.expiresAt });
    const s2 = transition(review(req, lead, 'approve', { now, extensionParent: grant })).request;
    const approved = transition(review(s2, sec1, 'approve', { now, extensionParent: grant })).request;
    expect(approved).toMatchObject({ startsAt: grant.expiresAt, expiresAt: grant.expiresAt! + 2 * HOUR, grantedMs: 2 * HOUR, approvedAt: now });
  });

  it('refuses an extension that would run past the maximum counted from now, naming the limit and what still fits', () => {
    const grant = issuedProdDb();
    const now = grant.expiresAt! - 30 * MIN;
    const d = decide(undefined, submitEvent(alice, { id: 'req-3', extensionOf: grant, durationMs: 4 * HOUR }), ctx(alice, { now }));
    expect(d).toMatchObject({ kind: 'refused', code: 'DURATION_TOO_LONG' });
    if (d.kind === 'refused') {
      expect(d.message).toMatch(/at most 4h/);
      expect(d.message).toMatch(/Extend by at most 3h30m/);
    }
  });

  it('one open extension per grant: a second points at the first', () => {
    const grant = issuedProdDb();
    const now = grant.expiresAt! - 10 * MIN;
    const first = transition(decide(undefined, submitEvent(alice, { id: 'req-4', extensionOf: grant, durationMs: HOUR }), ctx(alice, { now }))).request;
    const d = decide(undefined, submitEvent(alice, { id: 'req-5', extensionOf: grant, durationMs: HOUR }), ctx(alice, { now, openExtension: first }));
    expect(d).toMatchObject({ kind: 'refused', code: 'ALREADY_OPEN', message: expect.stringMatching(/already has a pending extension \(req-4\)/) });
  });

  it('approving an extension re-checks that the grant it extends is still active', () => {
    const grant = issuedProdDb();
    const now = grant.expiresAt! - 10 * MIN;
    const req = transition(decide(undefined, submitEvent(alice, { id: 'req-6', extensionOf: grant, durationMs: HOUR }), ctx(alice, { now }))).request;
    const s2 = transition(review(req, lead, 'approve', { now, extensionParent: grant })).request;
    const revokedGrant = transition(decide(grant, { type: 'revoke', via: 'slack' }, ctx(alice, { now }))).request;
    const d = review(s2, sec1, 'approve', { now: now + MIN, extensionParent: revokedGrant });
    expect(d).toMatchObject({ kind: 'refused', code: 'EXTENSION_INVALID', message: expect.stringMatching(/revoked/) });
  });

  it('revoking a grant closes its extensions: a pending one is cancelled, a live one revoked with its certificate', () => {
    const grant = issuedProdDb();
    const now = grant.expiresAt! - 10 * MIN;
    const revokedGrant = transition(decide(grant, { type: 'revoke', via: 'slack' }, ctx(alice, { now })));
    expect(others(revokedGrant.effects)).toContainEqual({ type: 'close_extensions' });

    const pendingExt = transition(decide(undefined, submitEvent(alice, { id: 'req-7', extensionOf: grant, durationMs: HOUR }), ctx(alice, { now }))).request;
    const cancelled = transition(decide(pendingExt, { type: 'parent_closed', parent: revokedGrant.request }, ctx(system, { now })));
    expect(cancelled.request).toMatchObject({ state: 'cancelled', closedBy: 'system' });
    expect(audits(cancelled.effects)).toEqual(['request.cancelled']);

    const liveExt: AccessRequest = { ...pendingExt, id: 'req-8', state: 'issued', approvedAt: now, startsAt: grant.expiresAt!, expiresAt: grant.expiresAt! + HOUR, certificate: cert(grant.expiresAt! + HOUR) };
    const revokedExt = transition(decide(liveExt, { type: 'parent_closed', parent: revokedGrant.request }, ctx(system, { now })));
    expect(revokedExt.request.state).toBe('revoked');
    expect(others(revokedExt.effects)).toEqual(expect.arrayContaining([{ type: 'revoke_certificate' }, { type: 'close_extensions' }]));
    expect(audits(revokedExt.effects)).toEqual(['request.revoked']);
  });

  it('a grant that simply ran out leaves its live extension running, and cancels a pending one', () => {
    const grant = issuedProdDb();
    const end = grant.expiresAt!;
    const expired = transition(decide(grant, { type: 'expire' }, ctx(system, { now: end })));
    expect(others(expired.effects)).toContainEqual({ type: 'close_extensions' });
    const ext = transition(decide(undefined, submitEvent(alice, { id: 'req-9', extensionOf: grant, durationMs: HOUR }), ctx(alice, { now: end - MIN }))).request;
    const live: AccessRequest = { ...ext, state: 'issued', approvedAt: end - MIN, startsAt: end, expiresAt: end + HOUR };
    expect(decide(live, { type: 'parent_closed', parent: expired.request }, ctx(system, { now: end }))).toMatchObject({ kind: 'noop' });
    expect(transition(decide(ext, { type: 'parent_closed', parent: expired.request }, ctx(system, { now: end }))).request.state).toBe('cancelled');
  });

  it.each([
    ['someone else\'s grant', bob, () => issuedProdDb()],
    ['a grant that is not active', alice, () => pendingProdDb()],
  ])('refuses to extend %s', (_n, actor, parent) => {
    const d = decide(undefined, submitEvent(actor, { id: 'req-9', extensionOf: parent() }), ctx(actor, { now: T0 + 10 * MIN }));
    expect(d).toMatchObject({ kind: 'refused', code: 'EXTENSION_INVALID' });
  });
});

describe('certificate lifecycle', () => {
  it('issuance stores the certificate, audits it and tells the requester (the issuance job then follows the grant)', () => {
    const stage2 = transition(review(pendingProdDb(), lead, 'approve')).request;
    const approved = transition(review(stage2, sec1, 'approve')).request;
    const d = transition(decide(approved, { type: 'issued', certificate: cert(approved.expiresAt!) }, ctx(system, { expiryWarningMs: 10 * MIN })));
    expect(d.request).toMatchObject({ state: 'issued', certificate: { serial: '7' } });
    expect(audits(d.effects)).toEqual(['cert.issued']);
    expect(others(d.effects)).toEqual([{ type: 'notify_requester', notice: 'issued' }]);
  });

  it('a second issuance of the same request is a no-op (at-least-once delivery)', () => {
    const grant = issuedProdDb();
    expect(decide(grant, { type: 'issued', certificate: cert(grant.expiresAt!) }, ctx(system))).toMatchObject({ kind: 'noop' });
  });

  it('a certificate for a request revoked meanwhile is discarded', () => {
    const stage2 = transition(review(pendingProdDb(), lead, 'approve')).request;
    const approved = transition(review(stage2, sec1, 'approve')).request;
    const revoked = transition(decide(approved, { type: 'revoke', via: 'slack' }, ctx(alice))).request;
    expect(decide(revoked, { type: 'issued', certificate: cert(approved.expiresAt!) }, ctx(system))).toMatchObject({ kind: 'noop' });
  });

  it('issuance failure fails the request', () => {
    const stage2 = transition(review(pendingProdDb(), lead, 'approve')).request;
    const approved = transition(review(stage2, sec1, 'approve')).request;
    const d = transition(decide(approved, { type: 'issue_failed', error: 'no key' }, ctx(system)));
    expect(d.request).toMatchObject({ state: 'failed', failure: 'no key' });
    expect(audits(d.effects)).toEqual(['request.failed']);
  });

  it('expiry closes the grant when due, not before', () => {
    const grant = issuedProdDb();
    expect(decide(grant, { type: 'expire' }, ctx(system, { now: grant.expiresAt! - 5 * MIN }))).toMatchObject({ kind: 'noop' });
    const d = transition(decide(grant, { type: 'expire' }, ctx(system, { now: grant.expiresAt! })));
    expect(d.request.state).toBe('expired');
    expect(audits(d.effects)).toEqual(['request.expired']);
  });
});

describe('post-incident review of break-glass', () => {
  const used = () =>
    transition(
      decide(
        undefined,
        submitEvent(bob, { resource: 'prod-breakglass', breakGlass: true }),
        ctx(bob, { oncallServices: ['PSVC001'], activeIncidents: [{ id: 'Q1', service: 'PSVC001' }] }),
      ),
    ).request;

  it('a reviewer closes it with notes', () => {
    const d = transition(decide(used(), { type: 'break_glass_review', via: 'slack', notes: 'restarted the primary' }, ctx(sec1)));
    expect(d.request.breakGlass?.review).toEqual({ by: 'USEC1', at: T0, notes: 'restarted the primary' });
    expect(audits(d.effects)).toEqual(['breakglass.reviewed']);
  });

  it.each([
    ['by the person who used it', bob, 'notes', 'SELF_APPROVAL'],
    ['by someone who is not a reviewer', stranger, 'notes', 'NOT_ALLOWED'],
    ['without notes', sec1, '  ', 'COMMENT_REQUIRED'],
  ])('is refused %s', (_n, actor, notes, code) => {
    const d = decide(used(), { type: 'break_glass_review', via: 'slack', notes }, ctx(actor));
    expect(d).toMatchObject({ kind: 'refused', code });
    if (d.kind === 'refused') expect(audits(d.effects)).toEqual(['breakglass.review_refused']);
  });

  it('cannot be closed twice', () => {
    const closed = transition(decide(used(), { type: 'break_glass_review', via: 'slack', notes: 'ok' }, ctx(sec1))).request;
    expect(decide(closed, { type: 'break_glass_review', via: 'slack', notes: 'again' }, ctx(admin))).toMatchObject({
      kind: 'refused',
      code: 'NO_REVIEW_DUE',
    });
  });
});

describe('offboarding: a person whose Slack account was deactivated', () => {
  const offboard = (req: AccessRequest, userId: string) =>
    decide(req, { type: 'offboarded', userId, reason: 'the Slack account was deactivated', source: 'sweep' }, ctx(system));
  /** Stage 1 (security) reached after the lead's approval, with one security vote of two given. */
  const atSecurity = (): AccessRequest => ({
    ...pendingProdDb(),
    stage: 1,
    approvers: ['USEC1', 'USEC2'],
    reviews: [
      { stage: 0, by: 'ULEAD1', decision: 'approve', via: 'slack', at: T0 + MIN },
      { stage: 1, by: 'USEC1', decision: 'approve', via: 'slack', at: T0 + 2 * MIN },
    ],
  });

  it('their pending request is cancelled, with the reason', () => {
    const { request, effects } = transition(offboard(pendingProdDb(), alice.id));
    expect(request).toMatchObject({ state: 'cancelled', approvers: [], closedBy: 'system', closeReason: 'Cancelled: the Slack account was deactivated.' });
    expect(audits(effects)).toEqual(['request.cancelled']);
    expect(effects[0]).toMatchObject({ event: { data: { cause: 'offboarded', user: alice.id, source: 'sweep' } } });
  });

  it('their live grant is revoked and its certificate listed as revoked', () => {
    const issued: AccessRequest = { ...pendingProdDb(), state: 'issued', approvers: [], approvedAt: T0, expiresAt: T0 + HOUR, certificate: cert(T0 + HOUR) };
    const { request, effects } = transition(offboard(issued, alice.id));
    expect(request).toMatchObject({ state: 'revoked', closeReason: 'Revoked: the Slack account was deactivated.' });
    expect(audits(effects)).toEqual(['request.revoked']);
    expect(others(effects).map((e) => e.type)).toEqual(expect.arrayContaining(['revoke_certificate', 'close_extensions', 'notify_requester']));
  });

  it('their approval of the stage still waiting is withdrawn; approvals of stages already passed stay', () => {
    const { request, effects } = transition(offboard(atSecurity(), 'USEC1'));
    expect(request.state).toBe('pending');
    expect(request.reviews.map((r) => r.by)).toEqual(['ULEAD1']);
    expect(request.approvers).toEqual(['USEC2']);
    expect(audits(effects)).toEqual(['review.withdrawn']);
    expect(effects[0]).toMatchObject({ event: { data: { stage: 1, user: 'USEC1', votedAt: T0 + 2 * MIN } } });
    expect(offboard(atSecurity(), 'ULEAD1').kind).toBe('noop');
  });

  it('a closed request, or one they had no part in, is left alone', () => {
    const denied: AccessRequest = { ...pendingProdDb(), state: 'denied', approvers: [] };
    expect(offboard(denied, alice.id).kind).toBe('noop');
    expect(offboard(pendingProdDb(), bob.id).kind).toBe('noop');
  });
});
