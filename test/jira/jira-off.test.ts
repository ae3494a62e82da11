import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { E2e, hasButton, messageText, userSshKey } from '../slack/e2e-harness';

/**
 * Jira off (no settings), and a workflow that approves only in Jira: its approvers are still asked,
 * by Slack DM, and the message says why; a click there decides as usual.
 */

const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', groups: [] } satisfies FakeSlackUser;
const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;

let e2e: E2e;
const key = userSshKey('alice@laptop');
beforeAll(async () => {
  e2e = await E2e.start({
    workflows: {
      resources: { kube: { description: 'Kubernetes', workflow: 'jira-only', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'] } } },
      workflows: {
        'jira-only': {
          requesters: { everyone: true },
          stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }],
          approval: { jira: { project: 'PLAT', issue_type: 'Access Request' } },
        },
      },
    },
    users: [ALICE, BOB],
    usergroups: [{ id: 'S0LEADS', handle: 'leads' }],
  });
  await e2e.ctx.keyService.register(ALICE.id, key.pub, 'slack');
}, 60_000);
afterAll(async () => {
  await e2e?.stop();
  key.remove();
});

test('the approvers get a DM that says Jira is not connected, and decide there', async () => {
  expect(e2e.ctx.env.jira).toBeUndefined();
  const submitted = await e2e.ctx.service.submit(ALICE.id, { resource: 'kube', reason: 'no Jira here', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(submitted.message);
  const id = submitted.request.id;
  const dm = await eventually(() => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(BOB.id) && hasButton(m, 'access.approve', id)), 10_000, 'the DM to Bob');
  expect(messageText(dm)).toContain('This workflow approves in Jira (project PLAT), but Jira is not connected to access-bot, so the request came here');
  expect((await e2e.click(BOB.id, dm, 'access.approve', id)).status).toBe(200);
  await e2e.waitForState(id, 'issued', 15_000);
});
