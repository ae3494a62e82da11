export const CERTIFICATES_QUEUE = 'certificates';
export const TIMERS_QUEUE = 'timers';
/** The Jira channel's follow-ups (issue creation, comments, moves), retried with backoff; run by the bot. */
export const JIRA_QUEUE = 'jira';
/** Messages to the requester that must not wait behind any other Slack call: the certificate first. */
export const DELIVERIES_QUEUE = 'deliveries';

/**
 * BullMQ key prefix: the same hash tag as our own keys, so one Redis Cluster slot holds
 * everything (see docs/operations.md).
 */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}}-bull`;
}

/** Custom job ids: BullMQ forbids `:` and bare integers; request ids are `ar-…`. */
export const jobIds = {
  issue: (requestId: string) => `issue-${requestId}`,
  revoke: (requestId: string) => `revoke-${requestId}`,
  deliver: (notice: string, requestId: string) => `deliver-${notice}-${requestId}`,
  closeExtensions: (requestId: string) => `close-extensions-${requestId}`,
  timer: (timer: string, requestId: string, stage = 0, n = 0) => `${timer}-${requestId}-${stage}-${n}`,
  jiraFollow: (requestId: string, version: number) => `jira-${requestId}-${version}`,
  jiraRemind: (requestId: string, version: number) => `jira-remind-${requestId}-${version}`,
};
