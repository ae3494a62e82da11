import type { ReviewCampaign } from './access-review-campaign';
import type { PendingChange } from './pending-change-store';

/** How reviewers and admins are reached: Slack DMs (src/slack/slack-review-poster.ts). */
export interface ReviewPoster {
  /** Sends one reviewer the people and resources of the campaign, with Keep / Remove. */
  sendReview(reviewerId: string, campaign: ReviewCampaign): Promise<void>;
  /** Tells the admins a reviewer asked for a removal. */
  notifyAdmins(change: PendingChange): Promise<void>;
}
