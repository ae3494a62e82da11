import { z } from 'zod';

/** Job payloads are input like any other: a job may have been written by an older or newer version. */
export const IssueJobData = z.object({
  requestId: z.string().min(1).max(64),
  /** Set once the grant's expiry warning went out. */
  warned: z.boolean().optional(),
});
export const RevokeJobData = z.object({ requestId: z.string().min(1).max(64) });
export const CloseExtensionsJobData = z.object({ requestId: z.string().min(1).max(64) });
export const TimerJobData = z.object({
  requestId: z.string().min(1).max(64),
  timer: z.enum(['stage_timeout', 'reminder', 'pending_ttl', 'expiry', 'expiry_warning', 'review_reminder']),
  stage: z.number().int().min(0).max(20).optional(),
  n: z.number().int().min(0).max(100).optional(),
});
export type TimerJobData = z.infer<typeof TimerJobData>;

/** The requester's DMs that go through the delivery lane. */
export const DeliveryJobData = z.object({
  requestId: z.string().min(1).max(64),
  notice: z.enum(['issued', 'approved']),
});
export type DeliveryJobData = z.infer<typeof DeliveryJobData>;
