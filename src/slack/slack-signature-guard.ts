import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import type { Logger } from '../log/logger';
import type { ReplayLedger } from './slack-replay-ledger';

/** Slack's rule: a request signed more than five minutes away from now is refused (replays). */
export const SLACK_SIGNATURE_WINDOW_S = 300;

export type SignatureRefusal = 'missing headers' | 'stale or future timestamp' | 'signature mismatch' | 'replayed';

export interface SlackSignatureGuardOptions {
  signingSecret: string;
  /** Told of every refusal (to audit it). */
  onRefused: (reason: SignatureRefusal, remoteAddress: string | undefined) => void;
  /** Where accepted deliveries are remembered, shared by every replica. */
  replays: ReplayLedger;
  logger: Logger;
  limit?: string | number;
  clock?: () => number;
}

/**
 * Verifies Slack's v0 signature (HMAC-SHA256 over `v0:{ts}:{raw body}`) before Bolt sees the
 * request, so a refusal can be audited: Bolt answers 401 on its own and tells nobody. Unlike Bolt,
 * it also refuses timestamps from the future, and a signed request it has already accepted: the
 * window alone lets whoever captured a request (a proxy log, a leaked HAR file) send it again for
 * five minutes and get a second grant. Verified bytes are handed to Bolt as `req.rawBody`, which
 * Bolt reads instead of the consumed stream (and verifies again).
 *
 * When the replay check cannot be made (Redis down or slow) the request is refused with 503: a
 * signature alone is not enough to act on. Slack retries events after a 503; a person sees the
 * slash command fail and can run it again.
 */
export function slackSignatureGuard(options: SlackSignatureGuardOptions): RequestHandler[] {
  const { signingSecret, onRefused, replays, logger } = options;
  const clock = options.clock ?? Date.now;
  return [
    express.raw({ type: () => true, limit: options.limit ?? '1mb' }),
    (req, res, next) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.get('x-slack-signature');
      const timestamp = req.get('x-slack-request-timestamp');
      const refuse = (reason: SignatureRefusal) => {
        onRefused(reason, req.socket.remoteAddress);
        const answer =
          reason === 'replayed'
            ? { error: 'SIGNATURE_REPLAYED', message: 'This signed Slack request was already received.' }
            : { error: 'SIGNATURE_INVALID', message: 'Slack signature verification failed.' };
        res.status(401).type('application/json').send(JSON.stringify(answer));
      };
      if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return refuse('missing headers');
      if (Math.abs(clock() / 1000 - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_S) return refuse('stale or future timestamp');
      const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`);
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('signature mismatch');
      // Only a correctly signed request is remembered: forgeries cannot fill Redis or claim a pair first.
      replays.claim(timestamp, signature).then(
        (first) => {
          if (!first) return refuse('replayed');
          (req as typeof req & { rawBody?: Buffer }).rawBody = body;
          next();
        },
        (err: unknown) => {
          logger.error(
            { err, remoteAddress: req.socket.remoteAddress },
            'Slack request refused (503): could not check whether it was already received; failing closed',
          );
          const code = (err as { code?: string }).code ?? 'SLACK_REPLAY_CHECK_UNAVAILABLE';
          res.status(503).type('application/json').send(JSON.stringify({ error: code, message: 'Try again shortly.' }));
        },
      )
        .catch(next);
    },
  ];
}
