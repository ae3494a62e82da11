import type { BlockAction, RespondFn, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../../log/logger';
import type { AppHome } from '../app-home';

/** Where a button was clicked: on a message (channel or DM), or in a view (the App Home, a modal). */
export interface ClickSource {
  userId: string;
  channel?: string;
  messageTs?: string;
  /** The click came from the App Home tab. */
  home: boolean;
  respond?: RespondFn;
}

const MessageContainer = z.object({ type: z.literal('message'), channel_id: z.string().min(1).max(64), message_ts: z.string().min(1).max(64) });
const ViewContainer = z.object({ type: z.literal('view') });

export function clickSourceOf(body: BlockAction, respond?: RespondFn): ClickSource {
  const message = MessageContainer.safeParse(body.container);
  if (message.success) {
    return {
      userId: body.user.id,
      channel: message.data.channel_id,
      messageTs: message.data.message_ts,
      home: false,
      ...(respond ? { respond } : {}),
    };
  }
  const inView = ViewContainer.safeParse(body.container).success;
  return { userId: body.user.id, home: inView && body.view?.type === 'home', ...(respond ? { respond } : {}) };
}

/**
 * Tells the person who clicked what happened, where they clicked: an ephemeral message next to
 * the message they clicked on, or a notice at the top of their App Home. chat.postEphemeral needs
 * the bot in the channel (it is, where it posted the approval); a button on an ephemeral reply in
 * some other channel falls back to the interaction's response_url.
 */
export class ClickerReply {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly home: AppHome,
    private readonly logger: Logger,
  ) {}

  /** A click whose handling failed after the ack: logged, and the person told it did not work. */
  async failed(source: ClickSource, err: unknown, what: string): Promise<void> {
    this.logger.error({ err, userId: source.userId }, `${what} failed`);
    await this.send(source, ':warning: That did not work: something went wrong on our side (it is logged). Try again in a moment.');
  }

  async send(source: ClickSource, text: string): Promise<void> {
    if (source.home || source.channel === undefined) {
      await this.home.refresh(source.userId, text);
      return;
    }
    try {
      await this.client.chat.postEphemeral({ channel: source.channel, user: source.userId, text });
      return;
    } catch (err) {
      if (!source.respond) {
        this.logger.warn({ err, userId: source.userId }, 'could not tell the user the outcome of a click');
        return;
      }
      this.logger.debug({ err }, 'chat.postEphemeral failed; answering through the response_url');
    }
    try {
      await source.respond({ response_type: 'ephemeral', replace_original: false, text });
    } catch (err) {
      this.logger.warn({ err, userId: source.userId }, 'could not tell the user the outcome of a click');
    }
  }
}
