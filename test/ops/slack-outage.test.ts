import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { APPROVALS_CHANNEL, BOB, LOGIN, USERGROUPS } from '../slack/e2e-fixtures';
import { certificateIn, E2e, userSshKey } from '../slack/e2e-harness';

/**
 * Slack answering 500 and 429 for a while: the certificate DM is retried with backoff (honouring
 * Retry-After) and delivered once Slack recovers, with no failure audited; an outage that outlasts
 * every try is audited as failed once, after the last try, and the request keeps its certificate.
 */

const CARA = { id: 'U0CARA', name: 'cara', email: 'cara@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;
const DAN = { id: 'U0DAN', name: 'dan', email: 'dan@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;
const WORKFLOWS = {
  resources: { app: { description: 'App servers', workflow: 'one', duration: { default: '1h', max: '2h' }, ssh: { principals: [LOGIN] } } },
  workflows: { one: { requesters: { slack_groups: ['engineers'] }, reason: { required: false }, stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }], approval: { slack_channel: APPROVALS_CHANNEL } } },
};

let e2e: E2e;
const keys = [userSshKey('cara@laptop'), userSshKey('dan@laptop')];

beforeAll(async () => {
  // Two tries (each with the Slack client's own retries of a 500) instead of an hour of them, so the
  // outage outlasts every try within the test; the first test's three failures fit in the client's retries.
  e2e = await E2e.start({ workflows: WORKFLOWS, users: [CARA, DAN, BOB], usergroups: USERGROUPS, env: { DELIVERY_ATTEMPTS: '2', DELIVERY_BACKOFF: '1s' } });
  await e2e.command(CARA.id, `key add ${keys[0]!.pub}`);
  await e2e.command(DAN.id, `key add ${keys[1]!.pub}`);
});
afterAll(async () => {
  await e2e?.stop();
  for (const k of keys) k.remove();
});

/** A chat.postMessage carrying a certificate to this person's DM. */
const certificateDm = (userId: string) => (args: Record<string, unknown>) =>
  args.channel === e2e.fake.dmChannelOf(userId) && /-cert-v01@openssh\.com /.test(`${String(args.text ?? '')}${JSON.stringify(args.blocks ?? [])}`);

async function requestAndApprove(userId: string): Promise<string> {
  await e2e.command(userId, 'app 1h deploy');
  const id = (await e2e.latestRequestOf(userId)).id;
  const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
  expect((await e2e.click(BOB.id, message, 'access.approve', id)).status).toBe(200);
  return id;
}

it('500, 429 and 500 on the certificate DM: retried with backoff and Retry-After honoured, then delivered once, no failure audited', async () => {
  const isCertDm = certificateDm(CARA.id);
  e2e.fake.failNext('chat.postMessage', 'internal_error', { status: 500, when: isCertDm });
  e2e.fake.failNext('chat.postMessage', 'ratelimited', { retryAfterSec: 1, when: isCertDm });
  e2e.fake.failNext('chat.postMessage', 'internal_error', { status: 500, when: isCertDm });
  const id = await requestAndApprove(CARA.id);

  await eventually(() => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(CARA.id) && certificateIn(m)), 20_000, 'certificate DM');
  const attempts = e2e.fake.calls('chat.postMessage').filter((c) => isCertDm(c.args));
  expect(attempts.map((c) => c.response.ok)).toEqual([false, false, false, true]);
  const gaps = attempts.slice(1).map((c, i) => c.at - attempts[i]!.at);
  expect(gaps.every((g) => g >= 250)).toBe(true); // backoff, not a hammering loop
  expect(gaps[1]).toBeGreaterThanOrEqual(950); // after the 429: its Retry-After of 1 s

  const request = await e2e.request(id);
  expect(request.state).toBe('issued');
  expect(e2e.fake.messages.filter((m) => m.channel === e2e.fake.dmChannelOf(CARA.id) && certificateIn(m))).toHaveLength(1);
  await eventually(async () => ((await e2e.audit((ev) => ev.type === 'cert.delivered' && ev.requestId === id)).length === 1 ? true : undefined), 10_000, 'cert.delivered');
  expect(await e2e.audit((ev) => ev.type === 'external.failed' && ev.requestId === id)).toEqual([]);
}, 60_000);

it('an outage that outlasts every try is audited as failed once, after the last try; the request keeps its certificate', async () => {
  let outage = true;
  const isCertDm = certificateDm(DAN.id);
  for (let i = 0; i < 20; i++) e2e.fake.failNext('chat.postMessage', 'internal_error', { status: 500, when: (a) => outage && isCertDm(a) });
  const id = await requestAndApprove(DAN.id);

  const [failed] = await eventually(async () => {
    const l = await e2e.audit((ev) => ev.type === 'external.failed' && ev.requestId === id);
    return l.length ? l : undefined;
  }, 30_000, 'failure audited');
  outage = false;
  const attempts = e2e.fake.calls('chat.postMessage').filter((c) => isCertDm(c.args));
  expect(attempts.length).toBeGreaterThanOrEqual(2);
  expect(attempts.every((c) => c.response.ok === false)).toBe(true);
  // Audited after the last try, not at the first failure.
  expect(Date.parse(failed!.at)).toBeGreaterThanOrEqual(attempts.at(-1)!.at);
  expect(failed!.data).toMatchObject({ effect: 'notify_requester' });
  await new Promise((r) => setTimeout(r, 300));
  expect(await e2e.audit((ev) => ev.type === 'external.failed' && ev.requestId === id)).toHaveLength(1);
  const request = await e2e.request(id);
  expect(request.state).toBe('issued');
  expect(request.certificate?.text).toMatch(/-cert-v01@openssh\.com /);
}, 60_000);
