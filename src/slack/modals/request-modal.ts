import type { App, BlockAction, ExternalSelectAction, StaticSelectAction, types, ViewOutput, ViewStateValue, webApi } from '@slack/bolt';
import type { AppContext } from '../../app/app-context';
import { parseDuration } from '../../config/duration';
import type { Resource } from '../../config/policy';
import { certificateSubject } from '../../engine/certificate-subject';
import type { Actor } from '../../engine/types';
import { KeyRejectedError } from '../../keys/errors/key-rejected-error';
import { parsePublicKey } from '../../keys/key-service';
import type { Logger } from '../../log/logger';
import type { ServiceResult } from '../../requests/request-service';
import { SlackApiError } from '../errors/slack-api-error';
import { ACTION_IDS, REQUEST_BLOCKS, VIEW_IDS, type RequestBlockId } from '../actions/interaction-ids';
import type { AppHome } from '../app-home';
import { escapeText, truncate } from '../blocks/format';
import { groupLabelsOf } from '../commands/slack-text';
import { settleWithin } from './ack-deadline';
import { onViewSubmission, SOMETHING_WENT_WRONG, type ViewAck } from './view-submission';
import { refusalBlock } from './refusal-block';
import {
  parseRequestModalMetadata,
  requestLoadingView,
  requestModalView,
  requestNotSubmittedView,
  requestSubmittedView,
  requestWorkingView,
  type SelectedResource,
} from './request-modal-view';
import { filterResources, requestableResources } from './requestable-resources';

type StateValues = Record<string, Record<string, ViewStateValue>>;


/** The outcome of a submission: a service result, or a problem with one field found before the service. */
type SubmitOutcome = { kind: 'result'; result: ServiceResult } | { kind: 'field'; block: RequestBlockId; message: string };

function textValue(values: StateValues, block: string, action: string): string {
  const value: unknown = values[block]?.[action]?.value;
  return typeof value === 'string' ? value : '';
}

function checked(values: StateValues, block: string, action: string, option: string): boolean {
  const selected: unknown = values[block]?.[action]?.selected_options;
  return Array.isArray(selected) && selected.some((o: unknown) => typeof o === 'object' && o !== null && (o as { value?: unknown }).value === option);
}

function selectedValue(values: StateValues, block: string, action: string): string | undefined {
  const value: unknown = values[block]?.[action]?.selected_option?.value;
  return typeof value === 'string' && value !== '' && value.length <= 150 ? value : undefined;
}

/**
 * The `/access` request modal. Opened with a loading view at once (trigger ids live 3 s), then
 * filled with what the person may request. Choosing a resource re-renders it for that resource
 * (views.update with the view's hash, so a stale update never overwrites a newer one). Submitting
 * registers a pasted key, then submits through the service; every refusal comes back inline on
 * the field it concerns.
 */
export class RequestModal {
  constructor(
    private readonly ctx: AppContext,
    private readonly home: AppHome,
    private readonly logger: Logger,
  ) {}

  register(app: App): void {
    app.action<BlockAction<StaticSelectAction | ExternalSelectAction>>(ACTION_IDS.resourceSelect, async ({ ack, body, action, client }) => {
      await ack();
      const view = body.view;
      const resource = action.selected_option?.value;
      if (!view || view.callback_id !== VIEW_IDS.request || !resource) return;
      await this.updateView(client, view.id, view.hash, await this.build(body.user.id, resource));
    });

    app.options<'block_suggestion'>({ action_id: ACTION_IDS.resourceSelect }, async ({ ack, body }) => {
      const actor = await this.ctx.directory.actor(body.user.id);
      const groups = filterResources(requestableResources(this.ctx.policy, actor), body.value ?? '');
      await ack({
        option_groups: groups.map((g) => ({
          label: { type: 'plain_text' as const, text: truncate(g.workflow.name, 75) },
          options: g.resources.map((r) => ({ text: { type: 'plain_text' as const, text: truncate(`${r.name} — ${r.description}`, 75) }, value: r.name })),
        })),
      });
    });

    onViewSubmission(app, VIEW_IDS.request, {
      logger: this.logger,
      what: 'request modal',
      errorBlock: REQUEST_BLOCKS.resource,
      submit: (userId, view, client, ack) => this.onSubmit(userId, view, client, ack),
      afterAck: (client, view) =>
        this.updateView(client, view.id, undefined, requestNotSubmittedView(`${SOMETHING_WENT_WRONG} Check \`/access list\` before submitting again.`)),
    });
  }

  private async onSubmit(userId: string, view: ViewOutput, client: webApi.WebClient, ack: ViewAck): Promise<void> {
    const values = view.state.values;
    const metadata = parseRequestModalMetadata(view.private_metadata);
    const resource = selectedValue(values, REQUEST_BLOCKS.resource, ACTION_IDS.resourceSelect);
    if (!resource) {
      await ack({ response_action: 'errors', errors: { [REQUEST_BLOCKS.resource]: 'Choose a resource.' } });
      return;
    }
    if (resource !== metadata.resource) {
      // Submitted before the form caught up with the chosen resource: show its fields first.
      await ack({ response_action: 'update', view: await this.build(userId, resource) });
      return;
    }

    const outcome = await settleWithin(this.submit(userId, resource, values, metadata.blocks));
    if (outcome.settled) {
      await ack(this.answer(outcome.value, metadata.blocks));
      if (outcome.value.kind === 'result' && outcome.value.result.status === 'ok') await this.home.refresh(userId);
      return;
    }
    await ack({ response_action: 'update', view: requestWorkingView() });
    const late = await outcome.later;
    const final =
      late.kind === 'field'
        ? requestNotSubmittedView(late.message)
        : late.result.status === 'ok'
          ? requestSubmittedView(late.result.request, this.ctx.policy)
          : requestNotSubmittedView(late.result.message);
    await this.updateView(client, view.id, undefined, final);
    await this.home.refresh(userId);
  }

  /** Opens the modal on a fresh trigger: a loading view first, then the form. */
  async open(client: webApi.WebClient, triggerId: string, userId: string, resource?: string): Promise<void> {
    const opened = await client.views.open({ trigger_id: triggerId, view: requestLoadingView() });
    const id = opened.view?.id;
    if (!id) throw new SlackApiError('views.open', 'no view id in the answer');
    await this.updateView(client, id, opened.view?.hash, await this.build(userId, resource));
  }

  /** The form for this person, with `resourceName` selected when they may request it. */
  async build(userId: string, resourceName?: string): Promise<types.ModalView> {
    const actor = await this.ctx.directory.actor(userId);
    const policy = this.ctx.policy;
    const groups = requestableResources(policy, actor);
    if (resourceName === undefined) return requestModalView({ groups });
    const resource = groups.flatMap((g) => g.resources).find((r) => r.name === resourceName);
    if (!resource) {
      const known = policy.resources.has(resourceName);
      const notice = known
        ? `:no_entry_sign: You may not request *${escapeText(resourceName)}*: its workflow does not name you or a group you are in as a requester.`
        : `:no_entry_sign: There is no resource called *${escapeText(truncate(resourceName, 64))}*.`;
      return requestModalView({ groups, notice });
    }
    return requestModalView({ groups, selected: await this.selected(actor, resource) });
  }

  private async selected(actor: Actor, resource: Resource): Promise<SelectedResource> {
    const workflow = this.ctx.policy.workflows.get(resource.workflow);
    if (!workflow) throw new Error(`resource ${resource.name} names a missing workflow ${resource.workflow}`);
    const [key, groupLabels] = await Promise.all([
      this.ctx.keyRegistry.latest(actor.id, resource.ssh ? 'ssh' : 'x509'),
      groupLabelsOf(this.ctx.directory, this.logger),
    ]);
    const subject = certificateSubject(resource, { id: actor.id, ...(actor.email ? { email: actor.email } : {}), ...(actor.emailVerified ? { emailVerified: true } : {}) }, this.ctx.policy);
    return { resource, workflow, needsKey: key === undefined, groupLabels, ...(subject.ok ? { subject: subject.subject } : {}) };
  }

  private async submit(userId: string, resourceName: string, values: StateValues, blocks: RequestBlockId[]): Promise<SubmitOutcome> {
    const resource = this.ctx.policy.resources.get(resourceName);
    const durationText = selectedValue(values, REQUEST_BLOCKS.duration, ACTION_IDS.durationSelect);
    const durationMs = durationText !== undefined ? parseDuration(durationText) : undefined;
    if (durationText !== undefined && durationMs === undefined)
      return { kind: 'field', block: refusalBlock('DURATION_INVALID', '', blocks), message: `"${truncate(durationText, 40)}" is not a duration.` };
    const reason = textValue(values, REQUEST_BLOCKS.reason, ACTION_IDS.reasonInput);
    const ticket = textValue(values, REQUEST_BLOCKS.ticket, ACTION_IDS.ticketInput).trim();
    const pubkey = blocks.includes(REQUEST_BLOCKS.pubkey) ? textValue(values, REQUEST_BLOCKS.pubkey, ACTION_IDS.pubkeyInput).trim() : '';
    const breakGlass = blocks.includes(REQUEST_BLOCKS.breakGlass) && checked(values, REQUEST_BLOCKS.breakGlass, ACTION_IDS.breakGlassToggle, 'yes');

    let keyFingerprint: string | undefined;
    if (pubkey !== '' && resource) {
      const registered = await this.registerKey(userId, pubkey, resource.ssh ? 'ssh' : 'x509');
      if ('message' in registered) return { kind: 'field', block: REQUEST_BLOCKS.pubkey, message: registered.message };
      keyFingerprint = registered.fingerprint;
    }

    const result = await this.ctx.service.submit(userId, {
      resource: resourceName,
      reason,
      via: 'slack',
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(ticket !== '' ? { ticket } : {}),
      ...(keyFingerprint !== undefined ? { keyFingerprint } : {}),
      ...(breakGlass ? { breakGlass: true } : {}),
    });
    return { kind: 'result', result };
  }

  /** Registers a key pasted in the form, once; a key of the wrong kind or a refused key is a field error. */
  private async registerKey(userId: string, text: string, needed: 'ssh' | 'x509'): Promise<{ fingerprint: string } | { message: string }> {
    let parsed;
    try {
      parsed = parsePublicKey(text, Date.now());
    } catch {
      parsed = undefined; // register() refuses it again, with the reason, and audits the refusal
    }
    if (parsed && parsed.kind !== needed)
      return {
        message:
          needed === 'ssh'
            ? 'This resource gives an SSH certificate: paste an SSH public key (ssh-ed25519 AAAA…), not a PEM key.'
            : 'This resource gives an X.509 certificate: paste a PEM public key or CSR, not an SSH key.',
      };
    if (parsed && (await this.ctx.keyRegistry.get(userId, parsed.fingerprint))) return { fingerprint: parsed.fingerprint };
    try {
      const key = await this.ctx.keyService.register(userId, text, 'slack');
      return { fingerprint: key.fingerprint };
    } catch (err) {
      if (err instanceof KeyRejectedError) return { message: err.message };
      throw err;
    }
  }

  private answer(outcome: SubmitOutcome, blocks: RequestBlockId[]) {
    if (outcome.kind === 'field') {
      return { response_action: 'errors' as const, errors: { [outcome.block]: truncate(outcome.message, 1000) } };
    }
    const { result } = outcome;
    if (result.status === 'ok') return { response_action: 'update' as const, view: requestSubmittedView(result.request, this.ctx.policy) };
    const code = result.status === 'refused' ? result.code : 'NOOP';
    return { response_action: 'errors' as const, errors: { [refusalBlock(code, result.message, blocks)]: truncate(result.message, 1000) } };
  }

  /** views.update; a hash conflict means a newer render already landed, which is fine. */
  private async updateView(client: webApi.WebClient, viewId: string, hash: string | undefined, view: types.ModalView): Promise<void> {
    try {
      await client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view });
    } catch (err) {
      if (SlackApiError.slackErrorOf(err) === 'hash_conflict') {
        this.logger.debug({ viewId }, 'request modal changed meanwhile; skipped a stale update');
        return;
      }
      throw err;
    }
  }
}
