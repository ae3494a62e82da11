import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand, webApi } from '@slack/bolt';
import { z } from 'zod';
import { parseDuration } from '../../config/duration';
import type { AppContext } from '../../app/app-context';
import { KeyRejectedError } from '../../keys/errors/key-rejected-error';
import type { Logger } from '../../log/logger';
import type { AppHome } from '../app-home';
import { code, escapeText } from '../blocks/format';
import type { RequestModal } from '../modals/request-modal';
import { requestableResources } from '../modals/requestable-resources';
import type { ServiceResult } from '../../requests/request-service';
import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import { commandPolicy, ticketExample } from './command-policy';
import { parseAccessCommand, type AccessCommand } from './access-command-parser';
import {
  alreadyOpenReply,
  EXTEND_ACTION_ID,
  keyAddedText,
  keyListReply,
  LIST_PAGE_SIZE,
  listReply,
  PAGE_ACTION_ID,
  PENDING_PAGE_SIZE,
  pendingReply,
  type CommandReply,
} from './command-replies';
import { SlackWorkQueue } from '../slack-work-queue';
import { helpText } from './help-text';
import { actionResultText, submitResultText } from './result-text';
import { groupLabelsOf, type GroupLabels } from './slack-text';

export const ACCESS_COMMAND = '/access';

/** `<grant id> <duration>` on the Extend button of an "already open" reply. */
const ExtendButtonValue = z.string().regex(new RegExp(`^${REQUEST_ID_PATTERN.source.replace(/^\^|\$$/g, '')} [0-9a-z]{1,12}$`));

/** `list 2` or `pending 3` on a Next page button. */
const PageButtonValue = z.string().regex(/^(list|pending) [1-9][0-9]{0,4}$/);

interface Invocation {
  command: SlashCommand;
  client: webApi.WebClient;
  respond: RespondFn;
}

/**
 * `/access` and its subcommands. Every invocation is acked at once with an empty answer; the work
 * follows, and the outcome is sent as an ephemeral reply through the command's response_url (which
 * works in any channel, the bot a member or not), or chat.postEphemeral when that fails.
 */
export class AccessCommandHandler {
  constructor(
    private readonly ctx: AppContext,
    private readonly modal: RequestModal,
    private readonly home: AppHome,
    private readonly logger: Logger,
    /** Post-ack work, a few at a time, so a burst of commands is acked at once. */
    private readonly work: SlackWorkQueue = new SlackWorkQueue(),
    private readonly clock: () => number = Date.now,
  ) {}

  register(app: App): void {
    app.action<BlockAction<ButtonAction>>(EXTEND_ACTION_ID, async ({ ack, body, action, respond }) => {
      await ack();
      try {
        await this.extendClicked(body.user.id, action.value, respond);
      } catch (err) {
        this.logger.error({ err, userId: body.user.id }, 'extend button failed');
        await respond({ response_type: 'ephemeral', replace_original: false, text: ':warning: That did not work: something went wrong on our side (it is logged). Try again in a moment.' });
      }
    });

    // Next page of `/access list` or `/access pending`: the reply is replaced by that page.
    app.action<BlockAction<ButtonAction>>(PAGE_ACTION_ID, async ({ ack, body, action, respond }) => {
      await ack();
      const parsed = PageButtonValue.safeParse(action.value);
      try {
        if (!parsed.success) {
          await respond({ response_type: 'ephemeral', replace_original: false, text: ':warning: This button does not name a page.' });
          return;
        }
        const [kind, page] = parsed.data.split(' ') as ['list' | 'pending', string];
        const reply = await this.pageReply(body.user.id, kind, Number(page));
        await respond({ response_type: 'ephemeral', replace_original: true, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) });
      } catch (err) {
        this.logger.error({ err, userId: body.user.id }, 'next page failed');
        await respond({ response_type: 'ephemeral', replace_original: false, text: ':warning: That did not work: something went wrong on our side (it is logged). Try again in a moment.' });
      }
    });

    app.command(ACCESS_COMMAND, async ({ ack, command, client, respond }) => {
      await ack();
      const invocation = { command, client, respond };
      try {
        // The modal must open within the trigger's 3 s: it never waits behind other work.
        const opensModal = parseAccessCommand(command.text ?? '', commandPolicy(this.ctx.policy)).kind === 'open_modal';
        await (opensModal ? this.run(invocation) : this.work.run(() => this.run(invocation)));
      } catch (err) {
        this.logger.error({ err, userId: command.user_id }, '/access failed');
        await this.reply(invocation, { text: ':warning: Something went wrong on our side; it is logged. Try again in a moment.' });
      }
    });
  }

  private async run(inv: Invocation): Promise<void> {
    const { command } = inv;
    const userId = command.user_id;
    const policy = this.ctx.policy;
    const parsed: AccessCommand = parseAccessCommand(command.text ?? '', commandPolicy(policy));

    switch (parsed.kind) {
      case 'open_modal':
        await this.modal.open(inv.client, command.trigger_id, userId, parsed.resource);
        return;
      case 'help': {
        const actor = await this.ctx.directory.actor(userId);
        const names = requestableResources(policy, actor).flatMap((g) => g.resources.map((r) => r.name));
        await this.reply(inv, { text: helpText(names, parsed.problem) });
        return;
      }
      case 'unknown': {
        if (parsed.suggestion === undefined) {
          const actor = await this.ctx.directory.actor(userId);
          const names = requestableResources(policy, actor).flatMap((g) => g.resources.map((r) => r.name));
          await this.reply(inv, { text: helpText(names, `There is no command or resource called ${code(parsed.word)}.`) });
          return;
        }
        await this.reply(inv, {
          text: `:thinking_face: There is no command or resource called ${code(parsed.word)}. Did you mean ${code(parsed.suggestion)}?\n\`/access help\` lists every command and what you may request.`,
        });
        return;
      }
      case 'usage':
        await this.reply(inv, { text: `:thinking_face: ${parsed.problem}\nUsage: \`${escapeText(parsed.usage)}\`` });
        return;
      case 'list':
      case 'pending':
        await this.reply(inv, await this.pageReply(userId, parsed.kind, parsed.page));
        return;
      case 'cancel':
      case 'revoke': {
        const result =
          parsed.kind === 'cancel'
            ? await this.ctx.service.cancel(parsed.id, userId, 'slack')
            : await this.ctx.service.revoke(parsed.id, userId, 'slack');
        await this.reply(inv, { text: actionResultText(parsed.kind, result, policy, { now: this.clock(), krlRefreshMs: this.ctx.env.KRL_REFRESH_INTERVAL, ...(this.ctx.env.PUBLIC_URL ? { publicUrl: this.ctx.env.PUBLIC_URL } : {}) }) });
        await this.home.refresh(userId);
        return;
      }
      case 'extend': {
        const result = await this.extend(userId, parsed.id, parsed.durationMs, parsed.reason);
        await this.reply(inv, { text: submitResultText(result, policy, await this.groups()) });
        await this.home.refresh(userId);
        return;
      }
      case 'request': {
        const result = await this.ctx.service.submit(userId, {
          resource: parsed.resource,
          reason: parsed.reason,
          via: 'slack',
          ...(parsed.ticket !== undefined ? { ticket: parsed.ticket } : {}),
          ...(parsed.durationMs !== undefined ? { durationMs: parsed.durationMs } : {}),
          ...(parsed.breakGlass ? { breakGlass: true } : {}),
        });
        if (result.status === 'refused' && result.code === 'ALREADY_OPEN') {
          const open = await this.ctx.store.openRequestFor(userId, parsed.resource, parsed.breakGlass);
          const resource = policy.resources.get(parsed.resource);
          const durationMs = parsed.durationMs ?? resource?.duration.default;
          await this.reply(inv, alreadyOpenReply(result.message, open, durationMs));
          return;
        }
        const formHint =
          result.status === 'refused' && result.code === 'TICKET_REQUIRED'
            ? ` Put the ticket in the command (\`${escapeText(`/access ${parsed.resource} 1h ${ticketExample(policy, parsed.resource)} <reason>`)}\`), or use \`/access ${escapeText(parsed.resource)}\` for the form.`
            : '';
        await this.reply(inv, { text: `${submitResultText(result, policy, await this.groups())}${formHint}` });
        await this.home.refresh(userId);
        return;
      }
      case 'key_add':
        try {
          const key = await this.ctx.keyService.register(userId, parsed.text, 'slack');
          await this.reply(inv, { text: keyAddedText(key) });
        } catch (err) {
          if (!(err instanceof KeyRejectedError)) throw err;
          await this.reply(inv, { text: `:no_entry_sign: Key not registered: ${escapeText(err.message)}` });
        }
        return;
      case 'key_list':
        await this.reply(inv, keyListReply(await this.ctx.keyService.list(userId)));
        return;
      case 'key_remove': {
        const removed = await this.ctx.keyService.remove(userId, parsed.fingerprint, 'slack');
        await this.reply(inv, {
          text: removed
            ? `:wastebasket: Removed key ${code(parsed.fingerprint)}.`
            : `:information_source: You have no key ${code(parsed.fingerprint.slice(0, 100))} (see \`/access key list\`).`,
        });
        return;
      }
    }
  }

  /** One page of `/access list` or `/access pending`, with the true total. */
  private async pageReply(userId: string, kind: 'list' | 'pending', page: number): Promise<CommandReply> {
    const { store } = this.ctx;
    if (kind === 'list') {
      const offset = (page - 1) * LIST_PAGE_SIZE;
      const [items, total] = await Promise.all([store.listByRequester(userId, LIST_PAGE_SIZE, offset), store.countByRequester(userId)]);
      return listReply({ items, total, page, pageSize: LIST_PAGE_SIZE }, this.ctx.policy, this.clock(), await this.groups());
    }
    const offset = (page - 1) * PENDING_PAGE_SIZE;
    const [waiting, total] = await Promise.all([store.listPendingForApprover(userId, PENDING_PAGE_SIZE, offset), store.countPendingForApprover(userId)]);
    const items = waiting.filter((r) => r.requester.id !== userId);
    return pendingReply({ items, total, page, pageSize: PENDING_PAGE_SIZE }, this.ctx.policy, this.clock(), await this.groups());
  }

  private groups(): Promise<GroupLabels> {
    return groupLabelsOf(this.ctx.directory, this.logger);
  }

  /** An extension of `grantId`: the grant's reason and ticket carry over unless a new reason is given. */
  private async extend(userId: string, grantId: string, durationMs: number, reason?: string): Promise<ServiceResult> {
    const parent = await this.ctx.service.get(grantId);
    return this.ctx.service.submit(userId, {
      resource: parent?.resource ?? '',
      extensionOf: grantId,
      durationMs,
      reason: reason ?? parent?.reason ?? '',
      ...(parent?.ticket !== undefined ? { ticket: parent.ticket } : {}),
      via: 'slack',
    });
  }

  /** The Extend button of an "already open" reply: the same as typing the command it shows. */
  private async extendClicked(userId: string, value: string | undefined, respond: RespondFn): Promise<void> {
    const parsed = ExtendButtonValue.safeParse(value);
    if (!parsed.success) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: ':warning: This button does not name a grant.' });
      return;
    }
    const [grantId, duration] = parsed.data.split(' ') as [string, string];
    const result = await this.extend(userId, grantId, parseDuration(duration) ?? 0);
    await respond({ response_type: 'ephemeral', replace_original: true, text: submitResultText(result, this.ctx.policy) });
    await this.home.refresh(userId);
  }

  private async reply(inv: Invocation, reply: CommandReply): Promise<void> {
    const message = { response_type: 'ephemeral' as const, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) };
    try {
      await inv.respond(message);
      return;
    } catch (err) {
      this.logger.debug({ err }, 'response_url failed; trying chat.postEphemeral');
    }
    try {
      await inv.client.chat.postEphemeral({
        channel: inv.command.channel_id,
        user: inv.command.user_id,
        text: reply.text,
        ...(reply.blocks ? { blocks: reply.blocks } : {}),
      });
    } catch (err) {
      this.logger.warn({ err, userId: inv.command.user_id }, 'could not answer /access');
    }
  }
}
