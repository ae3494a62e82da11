/**
 * Slack's published Web API rate limits (api.slack.com/apis/rate-limits, and each method's page):
 * Tier 2 20+ per minute, Tier 3 50+, Tier 4 100+, per method, per workspace, per app, with short
 * bursts allowed. chat.postMessage is "special": about one message per second per channel. The
 * "+" means Slack may allow more; these are the rates every app may count on.
 */
export interface SlackRateTier {
  /** Sustained calls per minute. */
  perMinute: number;
  /** Calls that may go at once after a quiet spell (the bucket's size). */
  burst: number;
}

const TIER2: SlackRateTier = { perMinute: 20, burst: 3 };
const TIER3: SlackRateTier = { perMinute: 50, burst: 8 };
const TIER4: SlackRateTier = { perMinute: 100, burst: 16 };
/** chat.postMessage, per channel: one a second, a few at once. */
const POST_PER_CHANNEL: SlackRateTier = { perMinute: 60, burst: 3 };

export const SLACK_RATE_TIERS: Readonly<Record<string, SlackRateTier>> = {
  'auth.test': TIER4,
  'users.info': TIER4,
  'users.lookupByEmail': TIER3,
  'usergroups.list': TIER2,
  'usergroups.users.list': TIER2,
  'conversations.open': TIER3,
  'chat.postMessage': POST_PER_CHANNEL,
  'chat.update': TIER3,
  'chat.postEphemeral': TIER4,
  'chat.getPermalink': TIER4,
  'views.open': TIER4,
  'views.push': TIER4,
  'views.update': TIER4,
  'views.publish': TIER4,
  'reactions.add': TIER3,
};

/** A method not listed: Tier 3, the most common. */
export const DEFAULT_SLACK_RATE_TIER = TIER3;

/**
 * The bucket a call counts against: chat.postMessage per channel (its limit is per channel),
 * every other method on its own.
 */
export function rateKeyOf(method: string, channel: string | undefined): string {
  return method === 'chat.postMessage' && channel ? `${method}:${channel}` : method;
}

export function tierOf(method: string, scale = 1): SlackRateTier {
  const tier = SLACK_RATE_TIERS[method] ?? DEFAULT_SLACK_RATE_TIER;
  return { perMinute: tier.perMinute * scale, burst: Math.max(1, Math.round(tier.burst * scale)) };
}
