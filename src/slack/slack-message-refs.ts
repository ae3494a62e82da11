import type { Redis } from 'ioredis';
import { z } from 'zod';
import { LuaScript } from '../store/lua-script';
import type { RedisKeys } from '../store/redis-keys';

/** Where one copy of a request's approval message lives: the channel post, or one approver's DM. */
export interface MessageRef {
  channel: string;
  ts: string;
  kind: 'channel' | 'dm';
  /** The approver a DM copy went to. */
  userId?: string;
  /** The stage the copy was sent for. */
  stage: number;
  postedAt: number;
  /** Set on a copy sent as a reminder. */
  reminder?: number;
}

const MessageRefSchema = z.object({
  channel: z.string().min(1),
  ts: z.string().min(1),
  kind: z.enum(['channel', 'dm']),
  userId: z.string().optional(),
  stage: z.number().int().min(0),
  postedAt: z.number(),
  reminder: z.number().int().optional(),
});

const MESSAGE_FIELD = 'msg:';
const CLAIM_FIELD = 'claim:';
const RENDERED_FIELD = 'rendered';
const ONCALL_FIELD = 'oncall';
const DEFAULT_TTL_MS = 90 * 86_400_000;

/** The first command's reply of a MULTI; its error (or a discarded transaction) is thrown. */
function firstResult(results: [Error | null, unknown][] | null): unknown {
  if (!results) throw new Error('Redis discarded the transaction');
  const [first] = results;
  if (!first) throw new Error('Redis returned no reply');
  const [err, value] = first;
  if (err) throw err;
  return value;
}

/** Raises the rendered version only upward; returns 1 when this caller raised it. */
const RAISE_VERSION = new LuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
local wanted = tonumber(ARGV[2])
if wanted > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`);

/**
 * Per request, in one Redis hash (`keys.adapterState('slack', id)`): every copy of the approval
 * message, which thread replies were already posted, the reminder count per stage, the highest
 * request version rendered into the copies, and the on-call context shown in them. Kept in Redis so
 * the bot and the worker (and their replicas) update the same messages.
 */
export class SlackMessageRefs {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  private key(requestId: string): string {
    return this.keys.adapterState('slack', requestId);
  }

  async add(requestId: string, ref: MessageRef): Promise<void> {
    const key = this.key(requestId);
    firstResult(await this.redis.multi().hset(key, `${MESSAGE_FIELD}${ref.channel}:${ref.ts}`, JSON.stringify(ref)).pexpire(key, this.ttlMs).exec());
  }

  async remove(requestId: string, ref: Pick<MessageRef, 'channel' | 'ts'>): Promise<void> {
    await this.redis.hdel(this.key(requestId), `${MESSAGE_FIELD}${ref.channel}:${ref.ts}`);
  }

  /** Every copy, oldest first. Entries that do not parse are skipped. */
  async list(requestId: string): Promise<MessageRef[]> {
    const all = await this.redis.hgetall(this.key(requestId));
    const refs: MessageRef[] = [];
    for (const [field, value] of Object.entries(all)) {
      if (!field.startsWith(MESSAGE_FIELD)) continue;
      try {
        const parsed = MessageRefSchema.safeParse(JSON.parse(value));
        if (parsed.success) refs.push(parsed.data);
      } catch {
        // A corrupt entry cannot name a message; the others still can be updated.
      }
    }
    return refs.sort((a, b) => a.postedAt - b.postedAt || a.ts.localeCompare(b.ts));
  }

  /** True for exactly one caller per marker, across processes (a thread reply posted once). */
  async claim(requestId: string, marker: string): Promise<boolean> {
    const key = this.key(requestId);
    const set = firstResult(await this.redis.multi().hsetnx(key, `${CLAIM_FIELD}${marker}`, '1').pexpire(key, this.ttlMs).exec());
    return Number(set) === 1;
  }

  /** The next reminder number (1, 2, …) for a stage. */
  async nextReminder(requestId: string, stage: number): Promise<number> {
    const key = this.key(requestId);
    return Number(firstResult(await this.redis.multi().hincrby(key, `reminders:${stage}`, 1).pexpire(key, this.ttlMs).exec()));
  }

  /** Records that copies now show `version`; true when no newer version had been recorded. */
  async raiseRendered(requestId: string, version: number): Promise<boolean> {
    const result = await RAISE_VERSION.run(this.redis, [this.key(requestId)], [RENDERED_FIELD, version, this.ttlMs]);
    return Number(result) === 1;
  }

  async renderedVersion(requestId: string): Promise<number> {
    const value = await this.redis.hget(this.key(requestId), RENDERED_FIELD);
    return value === null ? -1 : Number(value);
  }

  /** mrkdwn for the approval message's on-call slot (the on-call adapter sets it, then updates the messages). */
  async setOncallContext(requestId: string, mrkdwn: string): Promise<void> {
    const key = this.key(requestId);
    firstResult(await this.redis.multi().hset(key, ONCALL_FIELD, mrkdwn).pexpire(key, this.ttlMs).exec());
  }

  async oncallContext(requestId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.key(requestId), ONCALL_FIELD)) ?? undefined;
  }
}
