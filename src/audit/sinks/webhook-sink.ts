import { createHmac } from 'node:crypto';
import type { AuditEvent } from '../audit-event';
import type { AuditSink } from './audit-sink';

export class AuditWebhookError extends Error {
  readonly code = 'AUDIT_WEBHOOK_FAILED';
}

/**
 * POSTs batches of events as JSON (`{"events":[…]}`) to a collector. With a secret, the body is
 * signed: `X-Access-Bot-Signature: sha256=<hex HMAC of the raw body>`. Anything but a 2xx is a
 * failure and the batch is delivered again later (at-least-once; dedupe on `seq`).
 */
export class WebhookSink implements AuditSink {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  async write(events: AuditEvent[]): Promise<void> {
    const body = JSON.stringify({ events });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'access-bot-audit' };
    if (this.secret) headers['x-access-bot-signature'] = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    await res.arrayBuffer();
    if (!res.ok) throw new AuditWebhookError(`audit webhook answered ${res.status}`);
  }

  async close(): Promise<void> {}
}
