import type { App, ViewOutput, ViewResponseAction, webApi } from '@slack/bolt';
import type { Logger } from '../../log/logger';

export type ViewAck = (response?: ViewResponseAction) => Promise<void>;

export const SOMETHING_WENT_WRONG = 'Something went wrong on our side (it is logged); try again in a moment.';

/**
 * Registers a view_submission handler that knows whether it has acked yet. A failure before the
 * ack shows SOMETHING_WENT_WRONG inline on `errorBlock`; a failure after it (the modal already
 * closed or shows "Submitting…") goes to `afterAck`, if given.
 */
export function onViewSubmission(
  app: App,
  callbackId: string,
  options: {
    logger: Logger;
    what: string;
    errorBlock: string;
    submit: (userId: string, view: ViewOutput, client: webApi.WebClient, ack: ViewAck) => Promise<void>;
    afterAck?: (client: webApi.WebClient, view: ViewOutput) => Promise<void>;
  },
): void {
  app.view(callbackId, async ({ ack, body, view, client }) => {
    let acked = false;
    const answer: ViewAck = async (response) => {
      acked = true;
      await (response ? ack(response) : ack());
    };
    try {
      await options.submit(body.user.id, view, client, answer);
    } catch (err) {
      options.logger.error({ err, userId: body.user.id }, `${options.what} submission failed`);
      if (!acked) await ack({ response_action: 'errors', errors: { [options.errorBlock]: SOMETHING_WENT_WRONG } });
      else if (options.afterAck) await options.afterAck(client, view);
    }
  });
}
