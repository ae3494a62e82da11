import { startAuditSinks } from '../../src/app/audit-sinks';
import type { RunningProcess } from '../../src/app/running-process';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import { loadEnv } from '../../src/config/env';
import type { AccessRequest } from '../../src/engine/types';
import { silentLogger } from '../../src/log/logger';
import type { RegisteredKey } from '../../src/requests/ports';
import { StaticDirectory } from '../../src/requests/static-directory';
import { RetentionSweeper } from '../../src/retention/retention-sweeper';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { testDatabase } from '../helpers/postgres';

const DAY = 86_400_000;
// One resource per request: a person may have one open request per resource.
const box = { description: 'box', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'] } };
const workflows = {
  resources: { 'box-denied': box, 'box-cancelled': box, 'box-pending': box, 'box-approved': box, 'box-break-glass': box },
  workflows: { w: { requesters: { everyone: true }, reason: { required: false }, stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }] } },
};
const people = [
  { id: 'UALICE', email: 'alice@example.com', groups: [] },
  { id: 'ULEAD', email: 'lead@example.com', groups: [] },
];
const key: RegisteredKey = { fingerprint: 'SHA256:alice', kind: 'ssh', algorithm: 'ssh-ed25519', text: 'ssh-ed25519 AAAA', addedAt: 0 };

async function submit(app: TestApp, reason: string): Promise<AccessRequest> {
  const r = await app.ctx.service.submit('UALICE', { resource: `box-${reason}`, reason, via: 'slack' });
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  return r.request;
}

/** One request in each state retention must tell apart. */
async function requestsInEveryState(app: TestApp) {
  await app.ctx.keyRegistry.put('UALICE', key);
  const denied = await submit(app, 'denied');
  await app.ctx.service.review(denied.id, 'ULEAD', 'deny', 'slack', 'no');
  const cancelled = await submit(app, 'cancelled');
  await app.ctx.service.cancel(cancelled.id, 'UALICE', 'slack');
  const pending = await submit(app, 'pending');
  const approved = await submit(app, 'approved');
  await app.ctx.service.review(approved.id, 'ULEAD', 'approve', 'slack');
  // A break-glass grant that ended with its post-incident review still open (written as the engine would leave it).
  const bg = await submit(app, 'break-glass');
  const now = Date.now();
  const ended: AccessRequest = { ...bg, state: 'expired', approvers: [], closedAt: now, closedBy: 'system', breakGlass: { reviewRequired: true } };
  expect((await app.ctx.store.commit(bg, ended, [], now)).ok).toBe(true);
  return { denied, cancelled, pending, approved, bg };
}

async function indexed(app: TestApp, id: string): Promise<string[]> {
  const { keys, redis } = app.ctx;
  const where: string[] = [];
  for (const state of ['pending', 'approved', 'denied', 'cancelled', 'expired']) if ((await redis.zscore(keys.stateIndex(state), id)) !== null) where.push(`state:${state}`);
  if ((await redis.zscore(keys.requesterIndex('UALICE'), id)) !== null) where.push('requester');
  if ((await redis.zscore(keys.approverIndex('ULEAD'), id)) !== null) where.push('approver');
  if ((await redis.exists(keys.request(id))) === 1) where.push('record');
  return where;
}

describe('with the archive: AUDIT_REDIS_RETENTION', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let app: TestApp;
  let sinks: RunningProcess | undefined;

  beforeAll(async () => {
    db = await testDatabase('retention');
    app = await testApp({ workflows, ca: false, env: { AUDIT_DATABASE_URL: db.url, AUDIT_REDIS_RETENTION: '1d' }, integrations: { directory: new StaticDirectory(people) } });
  });
  afterAll(async () => {
    await sinks?.stop();
    await app.cleanup();
    await db.drop();
  });

  it('trims only archived events, keeps the anchor, and both `audit verify` (Redis) and `--source postgres` pass', async () => {
    sinks = await startAuditSinks(app.ctx, 'start');
    const states = await requestsInEveryState(app);
    const archive = new PostgresAuditArchive(db.url, { max: 1 });
    const archivedHead = (await app.ctx.audit.head()).seq;
    await eventually(async () => ((await archive.head())?.seq === archivedHead ? true : undefined), 10_000, 'archived');
    await sinks.stop();
    sinks = undefined;
    // Written while the archive is away: not archived, so never trimmed whatever its age.
    await app.ctx.audit.append([{ type: 'key.removed', actor: { id: 'UALICE', via: 'slack' }, data: { user: 'UALICE', fingerprint: 'SHA256:x' } }], Date.now());

    const connection = app.ctx.redis.duplicate();
    const sweeper = new RetentionSweeper(connection, app.ctx.keys, app.ctx.audit, { auditMs: DAY, requestsMs: DAY }, silentLogger(), { archive, group: 'sink-postgres' });
    const result = await sweeper.sweep(Date.now() + 2 * DAY);
    connection.disconnect();

    expect(result.audit).toMatchObject({ trimmed: archivedHead, anchor: { seq: archivedHead } });
    expect(result.audit?.heldBy).toMatch(/consumer group sink-postgres has not acknowledged/);
    const left: number[] = [];
    for await (const e of app.ctx.audit.read()) left.push(e.seq);
    // The unarchived event and the two retention events written by the sweep.
    expect(left).toEqual([archivedHead + 1, archivedHead + 2, archivedHead + 3]);
    expect(await app.ctx.audit.anchor()).toEqual({ seq: archivedHead, hash: await archive.hashAt(archivedHead) });

    const env = { REDIS_PREFIX: app.ctx.env.REDIS_PREFIX, AUDIT_DATABASE_URL: db.url };
    const redisVerify = await runCli(['audit', 'verify'], env);
    expect(redisVerify.stdout).toMatch(new RegExp(`^ok: 3 events after the anchor ${archivedHead} \\(earlier events are in the archive\\), chain unbroken; head ${archivedHead + 3}:`));
    expect((await app.ctx.audit.verify()).ok).toBe(true);
    const pgVerify = await runCli(['audit', 'verify', '--source', 'postgres'], env);
    expect(pgVerify.code).toBe(0);
    expect(pgVerify.stdout).toContain(`ok: ${archivedHead} events, chain unbroken`);
    expect(pgVerify.stdout).toContain(`matches Redis at event ${archivedHead} (Redis holds ${archivedHead + 1}–${archivedHead + 3}; 3 not archived yet)`);

    // Closed records and every index entry of theirs are gone; open ones and the unreviewed break-glass stay.
    expect(await indexed(app, states.denied.id)).toEqual([]);
    expect(await indexed(app, states.cancelled.id)).toEqual([]);
    expect(await indexed(app, states.pending.id)).toEqual(['state:pending', 'requester', 'approver', 'record']);
    expect(await indexed(app, states.approved.id)).toEqual(['state:approved', 'requester', 'record']);
    expect(await indexed(app, states.bg.id)).toEqual(['state:expired', 'requester', 'record']);
    expect(result.requests).toEqual({ removed: 2, byState: { denied: 1, cancelled: 1 }, keptForReview: 1 });
    expect(await app.ctx.store.listByRequester('UALICE')).toHaveLength(3);

    const retention: { type: string; data: Record<string, unknown> }[] = [];
    for await (const e of app.ctx.audit.read()) if (e.type.startsWith('retention.')) retention.push(e);
    expect(retention).toEqual([
      expect.objectContaining({ type: 'retention.audit_trimmed', data: expect.objectContaining({ events: archivedHead, olderThan: '1d' }) }),
      expect.objectContaining({ type: 'retention.requests_removed', data: { count: 2, byState: { denied: 1, cancelled: 1 }, olderThan: '1d' } }),
    ]);

    // A head noted earlier: the retention anchor itself checks in Redis; an older one, in the archive.
    const anchorHash = (await archive.hashAt(archivedHead))!;
    expect((await runCli(['audit', 'verify', '--anchor', `${archivedHead}:${anchorHash}`], env)).code).toBe(0);
    const old = `3:${(await archive.hashAt(3))!}`;
    const tooOld = await runCli(['audit', 'verify', '--anchor', old], env);
    expect(tooOld.code).toBe(1);
    expect(tooOld.stdout).toContain(`the anchor 3 is older than what Redis keeps (from ${archivedHead + 1}): check it against the archive with --source postgres`);
    expect((await runCli(['audit', 'verify', '--source', 'postgres', '--anchor', old], env)).code).toBe(0);

    // A Redis rewrite of a kept event is still caught, starting from the anchor.
    const [first] = (await app.ctx.redis.xrange(app.ctx.keys.auditStream, '-', '+', 'COUNT', 1)) as [string, string[]][];
    await app.ctx.redis.xdel(app.ctx.keys.auditStream, first![0]);
    const broken = await runCli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`expected event ${archivedHead + 1} but found event ${archivedHead + 2}`);
    await archive.close();
  });
});

describe('without the archive', () => {
  it('AUDIT_REDIS_RETENTION alone is refused at start: trimmed events would exist nowhere', () => {
    expect(() => loadEnv({ AUDIT_REDIS_RETENTION: '30d' })).toThrow(/Invalid environment/);
  });

  it('REQUEST_RETENTION removes old closed records and never touches the audit log', async () => {
    const app = await testApp({ workflows, ca: false, env: { REQUEST_RETENTION: '7d' }, integrations: { directory: new StaticDirectory(people) } });
    try {
      expect(app.ctx.env.REQUEST_RETENTION).toBe(7 * DAY);
      const states = await requestsInEveryState(app);
      const before = (await app.ctx.audit.head()).seq;
      const connection = app.ctx.redis.duplicate();
      const sweeper = new RetentionSweeper(connection, app.ctx.keys, app.ctx.audit, { requestsMs: 7 * DAY }, silentLogger());
      // Six days on, nothing is old enough.
      expect((await sweeper.sweep(Date.now() + 6 * DAY)).requests?.removed).toBe(0);
      const result = await sweeper.sweep(Date.now() + 8 * DAY);
      connection.disconnect();
      expect(result.audit).toBeUndefined();
      expect(result.requests?.removed).toBe(2);
      expect(await app.ctx.store.get(states.denied.id)).toBeUndefined();
      expect((await app.ctx.store.get(states.pending.id))?.state).toBe('pending');
      expect(await app.ctx.audit.anchor()).toBeUndefined();
      const events: string[] = [];
      for await (const e of app.ctx.audit.read()) events.push(e.type);
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)).toBe('retention.requests_removed');
      // The history of a removed request is still in the log.
      expect(events.filter((t) => t === 'request.denied')).toHaveLength(1);
    } finally {
      await app.cleanup();
    }
  });
});
