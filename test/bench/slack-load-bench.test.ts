import { join } from 'node:path';
import { benchSlackPhase } from '../../src/bench/slack-load-bench';
import { REDIS_URL } from '../helpers/redis';

/**
 * `npm run bench`'s Slack load phases, small: a bot and a worker as child processes, the burst,
 * two approval stages, the certificate DMs, counted at the fake Slack's HTTP boundary. Figures are
 * only sanity-checked here (speed is the bench's business, never a test's).
 */
const cli = join(__dirname, '..', '..', 'dist', 'cli.js');

describe('benchSlackPhase', () => {
  test('without limits: every request persisted and answered, every certificate DMed, calls counted per request and approval', async () => {
    const r = await benchSlackPhase({ url: REDIS_URL, requests: 8, approvals: 4, spreadMs: 100, rateScale: null, cli, timeoutMs: 60_000 });
    expect(r.requests).toMatchObject({ count: 8, persisted: 8, repliesDelivered: 8, approvalMessagesPosted: 8 });
    expect(r.requests.ack.samples).toBe(8);
    expect(r.requests.baselineHealthz.samples).toBeGreaterThan(0);
    // A new requester costs users.info and conversations.open once; then a channel post and two DMs.
    expect(r.requests.callsByMethod['chat.postMessage']).toBe(24);
    expect(r.requests.slackCallsPerRequest).toBeLessThanOrEqual(6);
    expect(r.approvals.count).toBe(4);
    expect(r.approvals.clickToCertificateDm.samples).toBe(4);
    expect(r.approvals.clickToCertificateDm.p50Ms).toBeGreaterThan(0);
    // The final approval: four copies updated and the certificate DM (and the worker's own identity check).
    expect(r.approvals.slackCallsPerApproval.callsByMethod['chat.update']).toBe(16);
    expect(r.approvals.slackCallsPerApproval.callsByMethod['chat.postMessage']).toBe(4);
    expect(r.rateLimited).toEqual({});
    expect(r.peakRssMb.bot).toBeGreaterThan(0);
    expect(r.peakRssMb.worker).toBeGreaterThan(0);
  }, 120_000);

  test('under Slack’s tiers: 429s are waited out, nothing is lost, and the certificates are all delivered', async () => {
    // Slack's own tiers: the burst's channel posts outrun chat.postMessage's one a second, so they are paced.
    const r = await benchSlackPhase({ url: REDIS_URL, requests: 6, approvals: 3, spreadMs: 0, rateScale: 1, cli, timeoutMs: 100_000 });
    expect(r.slackRateScale).toBe(1);
    expect(r.requests).toMatchObject({ count: 6, persisted: 6, repliesDelivered: 6, approvalMessagesPosted: 6 });
    expect(r.approvals.clickToCertificateDm.samples).toBe(3);
  }, 180_000);
});
