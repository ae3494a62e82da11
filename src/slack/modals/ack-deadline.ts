/**
 * Slack waits 3 s for the answer to a view submission; past that the person sees "We had some
 * trouble connecting". Work that usually takes milliseconds (a refusal is decided from Redis and
 * the cached directory) is awaited before answering; work that runs long is answered with a
 * "working" view and finished afterwards.
 */
export const VIEW_ANSWER_BUDGET_MS = 2_500;

export type Settled<T> = { settled: true; value: T } | { settled: false; later: Promise<T> };

/** Waits for `work` at most `ms`; the work keeps running either way, and a late failure stays observable in `later`. */
export async function settleWithin<T>(work: Promise<T>, ms = VIEW_ANSWER_BUDGET_MS): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const first = await Promise.race([work.then((value) => ({ value })), timeout]);
    return first === 'timeout' ? { settled: false, later: work } : { settled: true, value: first.value };
  } finally {
    clearTimeout(timer);
  }
}
