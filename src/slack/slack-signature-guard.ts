import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler } from 'express';

/** Slack's rule: a request signed more than five minutes away from now is refused (replays). */
export const SLACK_SIGNATURE_WINDOW_S = 300;

export type SignatureRefusal = 'missing headers' | 'stale or future timestamp' | 'signature mismatch';

/**
 * Verifies Slack's v0 signature (HMAC-SHA256 over `v0:{ts}:{raw body}`) before Bolt sees the
 * request, so a refusal can be audited: Bolt answers 401 on its own and tells nobody. Unlike Bolt,
 * it also refuses timestamps from the future. Verified bytes are handed to Bolt as `req.rawBody`,
 * which Bolt reads instead of the consumed stream (and verifies again).
 */
export function slackSignatureGuard(
  signingSecret: string,
  onRefused: (reason: SignatureRefusal, remoteAddress: string | undefined) => void,
  options: { limit?: string | number; clock?: () => number } = {},
): RequestHandler[] {
  const clock = options.clock ?? Date.now;
  return [
    express.raw({ type: () => true, limit: options.limit ?? '1mb' }),
    (req, res, next) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.get('x-slack-signature');
      const timestamp = req.get('x-slack-request-timestamp');
      const refuse = (reason: SignatureRefusal) => {
        onRefused(reason, req.socket.remoteAddress);
        res.status(401).type('application/json').send(JSON.stringify({ error: 'SIGNATURE_INVALID', message: 'Slack signature verification failed.' }));
      };
      if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return refuse('missing headers');
      if (Math.abs(clock() / 1000 - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_S) return refuse('stale or future timestamp');
      const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`);
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('signature mismatch');
      (req as typeof req & { rawBody?: Buffer }).rawBody = body;
      next();
    },
  ];
}
