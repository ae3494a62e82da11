import { REQUEST_BLOCKS, type RequestBlockId } from '../actions/interaction-ids';

/**
 * The request-modal block a refusal belongs on, so Slack shows it under the field to fix. A block
 * the view does not have falls back to the resource picker, which every request modal has: Slack
 * rejects an `errors` answer naming a block that is not in the view.
 */
export function refusalBlock(code: string, message: string, present: readonly RequestBlockId[]): RequestBlockId {
  let block: RequestBlockId = REQUEST_BLOCKS.resource;
  if (code.startsWith('REASON_')) block = REQUEST_BLOCKS.reason;
  else if (code.startsWith('TICKET_')) block = REQUEST_BLOCKS.ticket;
  else if (code.startsWith('DURATION_')) block = REQUEST_BLOCKS.duration;
  else if (code.startsWith('KEY_')) block = REQUEST_BLOCKS.pubkey;
  else if (code === 'BREAK_GLASS_NOT_ALLOWED') block = REQUEST_BLOCKS.breakGlass;
  else if (code === 'FIELD_TOO_LONG') block = /ticket/i.test(message) ? REQUEST_BLOCKS.ticket : REQUEST_BLOCKS.reason;
  return present.includes(block) ? block : REQUEST_BLOCKS.resource;
}
