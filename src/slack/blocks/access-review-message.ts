import { ITEMS_PER_MESSAGE, type ReviewAnswer, type ReviewCampaign, type ReviewItem } from '../../access-review/access-review-campaign';
import { escapeText, mention } from './format';

export const REVIEW_ACTION_IDS = { keep: 'access.review_keep', remove: 'access.review_remove' } as const;

/** Button value: campaign id and item number. Campaign ids are review names and period labels. */
export const reviewButtonValue = (campaignId: string, n: number): string => `${campaignId}|${n}`;

export function parseReviewButtonValue(value: string | undefined): { campaignId: string; n: number } | undefined {
  const m = /^([A-Za-z0-9._-]{1,200})\|(\d{1,6})$/.exec(value ?? '');
  return m ? { campaignId: m[1]!, n: Number(m[2]) } : undefined;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function itemText(item: ReviewItem): string {
  return `${mention(item.user)}${item.email ? ` (${escapeText(item.email)})` : ''} on *${escapeText(item.resource)}*: ${item.grants} grant${item.grants === 1 ? '' : 's'}, ${item.hours} h, last ${day(item.lastGrantAt)}`;
}

function answerText(answer: ReviewAnswer, reviewerId: string): string {
  const who = answer.by === reviewerId ? 'you' : mention(answer.by);
  return answer.decision === 'keep' ? `:white_check_mark: Kept by ${who}` : `:no_entry: Removal requested by ${who} (pending change \`${escapeText(answer.change ?? '')}\`, for the admins)`;
}

/** The review messages one reviewer gets: one per ITEMS_PER_MESSAGE items. */
export function accessReviewMessages(campaign: ReviewCampaign, reviewerId: string, answers: ReadonlyMap<number, ReviewAnswer> = new Map()): { text: string; blocks: unknown[] }[] {
  const chunks: ReviewItem[][] = [];
  for (let i = 0; i < campaign.items.length; i += ITEMS_PER_MESSAGE) chunks.push(campaign.items.slice(i, i + ITEMS_PER_MESSAGE));
  if (chunks.length === 0) chunks.push([]);
  return chunks.map((items, k) => accessReviewMessage(campaign, reviewerId, answers, k, items, chunks.length));
}

/** The message holding item `n`, as it should look now. */
export function accessReviewMessageFor(campaign: ReviewCampaign, reviewerId: string, answers: ReadonlyMap<number, ReviewAnswer>, n: number) {
  const k = Math.floor(n / ITEMS_PER_MESSAGE);
  const items = campaign.items.slice(k * ITEMS_PER_MESSAGE, (k + 1) * ITEMS_PER_MESSAGE);
  return accessReviewMessage(campaign, reviewerId, answers, k, items, Math.ceil(campaign.items.length / ITEMS_PER_MESSAGE));
}

function accessReviewMessage(
  campaign: ReviewCampaign,
  reviewerId: string,
  answers: ReadonlyMap<number, ReviewAnswer>,
  k: number,
  items: ReviewItem[],
  parts: number,
): { text: string; blocks: unknown[] } {
  const title = `Access review ${campaign.review}, ${campaign.period.label}${parts > 1 ? ` (${k + 1}/${parts})` : ''}`;
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    {
      type: 'context',
      block_id: `review.${campaign.id}.${k}`,
      elements: [
        {
          type: 'mrkdwn',
          text: `${campaign.description ? `${escapeText(campaign.description)} ` : ''}Who held each resource from ${day(campaign.period.since)} to ${day(campaign.period.until - 1)}. *Keep* confirms the access is still needed; *Remove* asks the admins to take the person out of the requesters. Every answer is audited.`,
        },
      ],
    },
  ];
  if (items.length === 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'Nobody held any of these resources in the period: nothing to review.' } });
  for (const item of items) {
    const answer = answers.get(item.n);
    blocks.push({ type: 'section', block_id: `review.item.${item.n}`, text: { type: 'mrkdwn', text: itemText(item) } });
    if (answer) blocks.push({ type: 'context', block_id: `review.answer.${item.n}`, elements: [{ type: 'mrkdwn', text: answerText(answer, reviewerId) }] });
    else if (item.user === reviewerId) blocks.push({ type: 'context', block_id: `review.answer.${item.n}`, elements: [{ type: 'mrkdwn', text: 'Your own access: another reviewer decides.' }] });
    else
      blocks.push({
        type: 'actions',
        block_id: `review.decide.${item.n}`,
        elements: [
          { type: 'button', action_id: REVIEW_ACTION_IDS.keep, style: 'primary', text: { type: 'plain_text', text: 'Keep' }, value: reviewButtonValue(campaign.id, item.n) },
          { type: 'button', action_id: REVIEW_ACTION_IDS.remove, style: 'danger', text: { type: 'plain_text', text: 'Remove' }, value: reviewButtonValue(campaign.id, item.n) },
        ],
      });
  }
  return { text: `${title}: ${items.length} to review`, blocks };
}
