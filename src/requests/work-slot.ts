import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A slot of bounded work (the Slack bot's post-ack queue) that the request service gives back once
 * a transition is committed and its durable effects (issuance, timers) are enqueued: the messages
 * that follow wait on Slack's rate limits, and a slot held through them would hold the next click's
 * commit (and its certificate) behind another request's message updates.
 */
const slots = new AsyncLocalStorage<{ release(): void }>();

export function runInWorkSlot<T>(release: () => void, work: () => Promise<T>): Promise<T> {
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  return slots.run({ release: once }, async () => {
    try {
      return await work();
    } finally {
      once();
    }
  });
}

/** Gives the current work slot back early (a no-op outside one, or when already given back). */
export function releaseWorkSlot(): void {
  slots.getStore()?.release();
}
