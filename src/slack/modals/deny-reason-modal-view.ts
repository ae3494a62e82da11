import type { types } from '@slack/bolt';
import { z } from 'zod';
import type { Policy } from '../../config/policy';
import { MAX_REASON_LENGTH } from '../../engine/policy-rules';
import type { AccessRequest } from '../../engine/types';
import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import { ACTION_IDS, DENY_REASON_BLOCK, VIEW_IDS } from '../actions/interaction-ids';
import { requestSummaryText } from '../blocks/app-home-view';

/** Where Deny was clicked, so a late outcome can be told there. */
export interface DenyReasonMetadata {
  requestId: string;
  channel?: string;
  ts?: string;
}

const MetadataSchema = z.object({
  requestId: z.string().regex(REQUEST_ID_PATTERN),
  channel: z.string().max(64).optional(),
  ts: z.string().max(64).optional(),
});

export function parseDenyReasonMetadata(text: string): DenyReasonMetadata | undefined {
  try {
    const parsed = MetadataSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The modal Deny opens: the request, and a required reason the requester will read. */
export function denyReasonModalView(request: AccessRequest, policy: Policy, metadata: DenyReasonMetadata): types.ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_IDS.denyReason,
    title: { type: 'plain_text', text: 'Deny request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(metadata),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: requestSummaryText(request, policy) } },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        label: { type: 'plain_text', text: 'Why are you denying it?' },
        hint: { type: 'plain_text', text: 'The requester reads this; say what would make it acceptable.' },
        element: { type: 'plain_text_input', action_id: ACTION_IDS.reasonInput, multiline: true, max_length: MAX_REASON_LENGTH },
      },
    ],
  };
}
