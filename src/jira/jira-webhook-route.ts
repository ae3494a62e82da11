import type express from 'express';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { signedWebhookRouter, type WebhookRouteOptions, type WebhookSender } from '../http/signed-webhook-route';
import { WebhookBodySchema } from './jira-schemas';
import { checkJiraSignature } from './webhook-signature';

export const JIRA_WEBHOOK_PATH = '/webhooks/jira';

/** `handle` gets the issue id the body names; it re-reads the issue and its changelog from the API. */
export type JiraWebhookOptions = WebhookRouteOptions<string>;

const JIRA: WebhookSender<string> = {
  source: 'jira',
  signatureHeader: 'X-Hub-Signature',
  checkSignature: checkJiraSignature,
  bodyLimit: '1mb',
  parse: (raw, req) => {
    const identifier = req.headers['x-atlassian-webhook-identifier'];
    const deliveryId = typeof identifier === 'string' && /^[A-Za-z0-9._:-]{1,200}$/.test(identifier) ? identifier : undefined;
    const parsed = WebhookBodySchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success || !deliveryId) return undefined;
    const issueId = parsed.data.issue.id;
    return {
      id: deliveryId,
      event: issueId,
      received: { delivery: deliveryId, eventType: parsed.data.webhookEvent, issue: issueId },
      failed: { what: `webhook for issue ${issueId}`, delivery: deliveryId },
    };
  },
  receivedType: A.jiraWebhook,
  notAnEvent: {
    reason: 'not a Jira issue webhook with an X-Atlassian-Webhook-Identifier',
    message: 'Not a Jira issue webhook (an issue id and X-Atlassian-Webhook-Identifier are needed).',
  },
};

/** `POST /webhooks/jira`: admin webhooks (`jira:issue_updated`) signed with a secret, deduped on `X-Atlassian-Webhook-Identifier`. */
export function jiraWebhookRouter(options: JiraWebhookOptions): express.Router {
  return signedWebhookRouter(JIRA, options);
}
