import { z } from 'zod';

/**
 * The parts of Jira Cloud REST v3 answers access-bot reads. Objects are loose (Jira sends far more);
 * what is read is checked. Embedded users (changelog authors, comment authors) carry no email on
 * Cloud: only the user endpoints (`/myself`, `/user?accountId=`) do, and only when the person's
 * profile visibility allows it.
 */
export const JiraUserSchema = z.object({
  accountId: z.string().min(1),
  displayName: z.string().optional(),
  emailAddress: z.string().optional(),
  active: z.boolean().optional(),
});
export type JiraUser = z.infer<typeof JiraUserSchema>;

export const StatusRefSchema = z.object({ id: z.string(), name: z.string() });

export const ProjectSchema = z.object({ id: z.string(), key: z.string(), name: z.string().optional() });

/** `GET /project/{key}/statuses`: per issue type, the statuses its workflow has. */
export const ProjectStatusesSchema = z.array(
  z.object({ id: z.string(), name: z.string(), statuses: z.array(StatusRefSchema) }),
);

export const CreatedIssueSchema = z.object({ id: z.string(), key: z.string() });

export const IssueSchema = z.object({
  id: z.string(),
  key: z.string(),
  fields: z
    .object({
      status: StatusRefSchema.optional(),
      labels: z.array(z.string()).optional(),
      updated: z.string().optional(),
    })
    .optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
export type JiraIssue = z.infer<typeof IssueSchema>;

/** `GET /search/jql` (enhanced search): issues with only `id` unless `fields` is asked for. */
export const SearchPageSchema = z.object({
  issues: z.array(IssueSchema.partial({ key: true })).default([]),
  nextPageToken: z.string().optional(),
  isLast: z.boolean().optional(),
});

export const ChangelogItemSchema = z.object({
  field: z.string(),
  fieldId: z.string().optional(),
  from: z.string().nullable().optional(),
  fromString: z.string().nullable().optional(),
  to: z.string().nullable().optional(),
  toString: z.string().nullable().optional(),
});

export const ChangelogHistorySchema = z.object({
  id: z.string(),
  author: JiraUserSchema.partial({ accountId: true }).optional(),
  created: z.string(),
  items: z.array(ChangelogItemSchema),
});
export type ChangelogHistory = z.infer<typeof ChangelogHistorySchema>;

export const ChangelogPageSchema = z.object({
  startAt: z.number().int(),
  maxResults: z.number().int(),
  total: z.number().int(),
  values: z.array(ChangelogHistorySchema),
});

export const TransitionsSchema = z.object({
  transitions: z.array(z.object({ id: z.string(), name: z.string(), to: StatusRefSchema })),
});
export type JiraTransition = z.infer<typeof TransitionsSchema>['transitions'][number];

/** An Atlassian Document Format node, as far as text is concerned. */
export interface AdfNode {
  type: string;
  /** On the document root only: 1. */
  version?: number;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
}
const AdfNodeSchema: z.ZodType<AdfNode> = z.lazy(() =>
  z.object({
    type: z.string(),
    version: z.number().optional(),
    text: z.string().optional(),
    content: z.array(AdfNodeSchema).optional(),
    attrs: z.record(z.string(), z.unknown()).optional(),
    marks: z.array(z.object({ type: z.string(), attrs: z.record(z.string(), z.unknown()).optional() })).optional(),
  }),
);

export const CommentSchema = z.object({
  id: z.string(),
  author: JiraUserSchema.partial({ accountId: true }).optional(),
  body: AdfNodeSchema.optional(),
  created: z.string(),
});
export type JiraComment = z.infer<typeof CommentSchema>;

export const CommentPageSchema = z.object({
  comments: z.array(CommentSchema),
  total: z.number().int().optional(),
});

/** The webhook body: only which issue it is about is read from it, and only to know what to re-read. */
export const WebhookBodySchema = z.object({
  webhookEvent: z.string().max(200).optional(),
  issue: z.object({ id: z.string().regex(/^\d{1,20}$/), key: z.string().max(100).optional() }),
});
