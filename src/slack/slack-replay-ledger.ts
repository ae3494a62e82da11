import type { Redis } from 'ioredis';
import type { RedisKeys } from '../store/redis-keys';
import { SlackReplayCheckError } from './errors/slack-replay-check-error';
import { SLACK_SIGNATURE_WINDOW_S } from './slack-signature-guard';

/**
 * How long an accepted (timestamp, signature) pair is remembered. The window is two-sided: a pair
 * signed 300 s in the future is accepted now and stays acceptable until 300 s past its timestamp,
 * 600 s from now. One more minute covers clocks that differ between replicas.
 */
export const REPLAY_MEMORY_S = 2 * SLACK_SIGNATURE_WINDOW_S + 60;

/** Remembers which signed deliveries were accepted, so each is accepted once by any replica. */
export interface ReplayLedger {
  /** True the first time the pair is claimed, false every time after; rejects when it cannot tell. */
  claim(timestamp: string, signature: string): Promise<boolean>;
}

/**
 * One key per accepted delivery (`SET NX EX`): atomic in Redis, so two replicas given the same
 * bytes at once accept it once. Slack's own redeliveries carry a new timestamp and signature, so
 * they are new deliveries here; whether they repeat work is for the idempotent handlers to say.
 */
export class RedisReplayLedger implements ReplayLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** Slack gives up after 3 s; answer before that even when Redis does not. */
    private readonly timeoutMs = 1_500,
  ) {}

  async claim(timestamp: string, signature: string): Promise<boolean> {
    const key = this.keys.delivery('slack', `${timestamp}:${signature.replace(/^v0=/, '')}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SlackReplayCheckError(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const set = await Promise.race([this.redis.set(key, '1', 'EX', REPLAY_MEMORY_S, 'NX'), timeout]);
      return set === 'OK';
    } catch (err) {
      if (err instanceof SlackReplayCheckError) throw err;
      throw new SlackReplayCheckError(err instanceof Error ? err.message : String(err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
