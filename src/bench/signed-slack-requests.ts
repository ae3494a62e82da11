import { createHmac } from 'node:crypto';

/**
 * Signed requests as Slack sends them to the bot's Request URL (v0 HMAC-SHA256 of
 * `v0:{timestamp}:{body}`), for the benchmark: slash commands and button clicks. Resolves with the
 * time the bot took to answer (its ack).
 */
export class SignedSlackRequests {
  constructor(
    private readonly url: string,
    private readonly signingSecret: string,
  ) {}

  private async post(body: string): Promise<{ status: number; ms: number }> {
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', this.signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const started = performance.now();
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
      body,
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  }

  command(userId: string, text: string, responseUrl: string): Promise<{ status: number; ms: number }> {
    return this.post(
      new URLSearchParams({
        token: 'bench',
        team_id: 'TBENCH',
        team_domain: 'bench',
        channel_id: 'CBENCHGEN',
        channel_name: 'general',
        user_id: userId,
        user_name: userId.toLowerCase(),
        command: '/access',
        text,
        api_app_id: 'ABENCH',
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: `${Date.now()}.1.${userId}`,
      }).toString(),
    );
  }

  click(userId: string, actionId: string, value: string, message: { channel: string; ts: string }, responseUrl: string): Promise<{ status: number; ms: number }> {
    const payload = {
      type: 'block_actions',
      user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: 'TBENCH' },
      api_app_id: 'ABENCH',
      token: 'bench',
      trigger_id: `${Date.now()}.1.${userId}`,
      team: { id: 'TBENCH', domain: 'bench' },
      enterprise: null,
      is_enterprise_install: false,
      actions: [{ action_id: actionId, block_id: 'access.decision', type: 'button', action_ts: `${Date.now() / 1000}`, value, text: { type: 'plain_text', text: actionId } }],
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      channel: { id: message.channel, name: 'approvals' },
      message: { type: 'message', ts: message.ts, text: 'approval request', blocks: [] },
      response_url: responseUrl,
      state: { values: {} },
    };
    return this.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }
}
