import type { ReportPeriod } from '../reports/report-period';

/** One person's access to one resource in the period, put to the reviewers. */
export interface ReviewItem {
  n: number;
  user: string;
  email?: string;
  resource: string;
  grants: number;
  hours: number;
  lastGrantAt: number;
}

/** One run of a review (`reviews:` entry) for one period. */
export interface ReviewCampaign {
  id: string;
  review: string;
  description?: string;
  period: ReportPeriod;
  createdAt: number;
  reviewers: string[];
  items: ReviewItem[];
}

export interface ReviewAnswer {
  decision: 'keep' | 'remove';
  by: string;
  at: number;
  /** The pending change a removal made. */
  change?: string;
}

/** Items per Slack message: two blocks each, under Slack's 50 blocks. */
export const ITEMS_PER_MESSAGE = 20;

export const campaignId = (review: string, period: ReportPeriod): string => `${review}-${period.label}`.replace(/[^A-Za-z0-9._-]/g, '-');
