import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { APPROVALS, Cluster, type Child } from './cluster';

/**
 * Two bot replicas and two workers (child processes of dist/cli.js) on one Redis: requests arrive
 * at either bot, approvals are clicked on either (half of them twice, once on each bot, as a
 * double click behind a load balancer), in a burst and then as a stream. Every request ends with
 * exactly one approval message, one certificate, one certificate DM and one of each audit event.
 */

const BURST = 16;
const STREAM = 6;
const LEAD = { id: 'U0LEAD', name: 'lead', email: 'lead@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const people: FakeSlackUser[] = Array.from({ length: BURST + STREAM }, (_, i) => ({ id: `U0ENG${i}`, name: `eng${i}`, email: `eng${i}@example.com`, groups: ['S0ENG'] }));
const workflows = {
  resources: { box: { description: 'box', workflow: 'ops', duration: { default: '1h', max: '1h' }, ssh: { principals: ['deploy'] } } },
  workflows: { ops: { requesters: { slack_groups: ['engineers'] }, reason: { required: false }, stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }], approval: { slack_channel: APPROVALS } } },
};

let cluster: Cluster;
let bots: Child[];

beforeAll(async () => {
  cluster = await Cluster.create({ workflows, users: [LEAD, ...people], usergroups: [{ id: 'S0ENG', handle: 'engineers' }, { id: 'S0LEADS', handle: 'leads' }] });
  const { app } = cluster;
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(app.dir, 'id')]);
  const pub = readFileSync(join(app.dir, 'id.pub'), 'utf8');
  for (const p of people) await app.ctx.keyService.register(p.id, pub, 'slack');
  const started = await Promise.all([cluster.start('serve'), cluster.start('serve'), cluster.start('worker'), cluster.start('worker')]);
  bots = started.slice(0, 2);
}, 60_000);
afterAll(() => cluster?.stop(), 30_000);

it('a burst and a stream of approvals through two bots and two workers: nothing duplicated, nothing lost', async () => {
  const { app } = cluster;
  const ids: string[] = [];
  const requestOf = async (userId: string) => eventually(async () => (await app.ctx.store.listByRequester(userId, 1))[0]?.id, 20_000, `request of ${userId}`);

  // The burst: every request through alternating bots at once, then every approval at once.
  await Promise.all(people.slice(0, BURST).map((p, i) => cluster.command(bots[i % 2]!, p.id, 'box 1h burst')));
  for (const p of people.slice(0, BURST)) ids.push(await requestOf(p.id));
  const messages = await Promise.all(ids.map((id) => cluster.approvalMessage(id)));
  const clicks = await Promise.all(
    ids.flatMap((id, i) => [cluster.click(bots[i % 2]!, LEAD.id, messages[i]!, id), ...(i % 2 === 0 ? [cluster.click(bots[(i + 1) % 2]!, LEAD.id, messages[i]!, id)] : [])]),
  );
  expect(clicks.every((c) => c.status === 200)).toBe(true);

  // The stream: one request and its approval after another, alternating bots.
  for (const [i, p] of people.slice(BURST).entries()) {
    await cluster.command(bots[i % 2]!, p.id, 'box 1h stream');
    const id = await requestOf(p.id);
    ids.push(id);
    await cluster.click(bots[(i + 1) % 2]!, LEAD.id, await cluster.approvalMessage(id), id);
  }

  const requests = await eventually(async () => {
    const all = await app.ctx.store.getMany(ids);
    return all.length === ids.length && all.every((r) => r.state === 'issued') ? all : undefined;
  }, 60_000, 'every request issued');
  expect(new Set(requests.map((r) => r.certificate!.serial)).size).toBe(ids.length);

  // One certificate DM per person (both workers deliver, never the same one twice), one approval message per request.
  await eventually(() => (cluster.counts(ids, people.map((p) => p.id)).certificateDms.every((n) => n >= 1) ? true : undefined), 30_000, 'every certificate delivered');
  await new Promise((r) => setTimeout(r, 500));
  expect(cluster.counts(ids, people.map((p) => p.id))).toEqual({ approvalMessages: ids.map(() => 1), certificateDms: people.map(() => 1) });

  // Exactly one of each audit event per request, and the chain unbroken.
  const perRequest = new Map<string, string[]>();
  for await (const e of app.ctx.audit.read()) if (e.requestId) perRequest.set(e.requestId, [...(perRequest.get(e.requestId) ?? []), e.type]);
  for (const id of ids) {
    const types = perRequest.get(id) ?? [];
    for (const type of ['request.created', 'review.approved', 'request.approved', 'cert.issued', 'cert.delivered']) expect({ id, type, n: types.filter((t) => t === type).length }).toEqual({ id, type, n: 1 });
  }
  expect((await app.ctx.audit.verify()).ok).toBe(true);
  // Both workers took part.
  const workers = cluster.children.filter((c) => c.role === 'worker');
  const issuedBy = await Promise.all(workers.map(async (w) => Number(/access_bot_request_transitions_total\{state="issued",workflow="ops"\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text())?.[1] ?? 0)));
  expect(issuedBy.reduce((a, b) => a + b, 0)).toBe(ids.length);
}, 120_000);
