import path from 'node:path';
import type { Redis } from 'ioredis';
import type { AuditInput } from '../engine/types';
import { LuaScript } from '../store/lua-script';
import type { RedisKeys } from '../store/redis-keys';
import { bodyDigest, GENESIS_HASH, verifyChain, type VerifyResult } from './audit-chain';
import { canonicalJson } from './canonical-json';
import type { AuditBody, AuditEvent } from './audit-event';
import { sha256Midstate } from './sha256-midstate';

const appendOnly = LuaScript.fromFile(path.join(__dirname, 'lua', 'append-only.lua'));

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** A stream id to start at (inclusive), instead of `since`. */
  fromId?: string;
  /** A stream id to stop before (exclusive), instead of `until`. */
  beforeId?: string;
  /** Epoch ms, inclusive. */
  until?: number;
  /** Stop after this sequence number. */
  toSeq?: number;
  batch?: number;
}

/** The audit log in a Redis stream: appended by Lua (with the hash chain), read in order. */
export class RedisAuditLog {
  constructor(
    private readonly redis: Redis,
    readonly keys: RedisKeys,
  ) {}

  /**
   * Bodies, the SHA-256 state after their digest block, and the index keys of each event, flattened
   * as the Lua append expects them: Node does all the hashing it can before the append, so Redis
   * hashes one block per event.
   */
  static prepare(inputs: AuditInput[], now: number, keys: RedisKeys): string[] {
    const at = new Date(now).toISOString();
    return inputs.flatMap((input) => {
      const body: AuditBody = { type: input.type, at, actor: input.actor, data: input.data };
      if (input.requestId !== undefined) body.requestId = input.requestId;
      const canonical = canonicalJson(body);
      return [canonical, sha256Midstate(bodyDigest(canonical)), indexKeysOf(body, keys).join('\n')];
    });
  }

  /** Appends events that belong to no state change; returns the last sequence number. */
  async append(inputs: AuditInput[], now: number): Promise<number> {
    if (inputs.length === 0) return (await this.head()).seq;
    const seq = await appendOnly.run(this.redis, [this.keys.auditStream, this.keys.auditHead], [
      inputs.length,
      ...RedisAuditLog.prepare(inputs, now, this.keys),
    ]);
    return Number(seq);
  }

  /** The first event written with index entries, if any: events before it are in no index. */
  async indexedFrom(): Promise<{ seq: number; id: string } | undefined> {
    const [seq, id] = await this.redis.hmget(this.keys.auditHead, 'indexed', 'indexedId');
    return typeof seq === 'string' && typeof id === 'string' ? { seq: Number(seq), id } : undefined;
  }

  /** The events whose stream ids an index list holds, in order; ids no longer in the stream (trimmed) are skipped. */
  async *readIndex(indexKey: string, batch = 1000): AsyncGenerator<AuditEvent> {
    for (let start = 0; ; start += batch) {
      const ids = await this.redis.lrange(indexKey, start, start + batch - 1);
      if (ids.length === 0) return;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.xrange(this.keys.auditStream, id, id);
      for (const [err, entries] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        const entry = (entries as [string, string[]][])[0];
        if (entry) yield parseStreamEntry(entry[0], entry[1]);
      }
      if (ids.length < batch) return;
    }
  }

  /**
   * The stream id of event `seq`, found by bisecting the stream on time (stream ids are the times
   * Redis stored the events, and seq grows with them): about 40 short reads at any size.
   */
  async locate(seq: number): Promise<string | undefined> {
    const stream = this.keys.auditStream;
    const [first] = (await this.redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][];
    const [last] = (await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    if (!first || !last) return undefined;
    const seqOf = (entry: [string, string[]]) => parseStreamEntry(entry[0], entry[1]).seq;
    if (seq < seqOf(first) || seq > seqOf(last)) return undefined;
    let lo = Number(first[0].split('-')[0]);
    let hi = Number(last[0].split('-')[0]);
    // Invariant: the event is stored at a time in [lo, hi].
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      const [entry] = (await this.redis.xrange(stream, `${mid}-0`, '+', 'COUNT', 1)) as [string, string[]][];
      if (entry && seqOf(entry) <= seq) lo = Number(entry[0].split('-')[0]);
      else hi = mid - 1;
    }
    // Events stored in the same millisecond: walk them.
    for (const [id, fields] of (await this.redis.xrange(stream, `${lo}-0`, `${lo}-${Number.MAX_SAFE_INTEGER}`)) as [string, string[]][])
      if (parseStreamEntry(id, fields).seq === seq) return id;
    return undefined;
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const [seq, hash] = await this.redis.hmget(this.keys.auditHead, 'seq', 'hash');
    return { seq: Number(seq ?? 0), hash: hash ?? GENESIS_HASH };
  }

  /** The chain anchor left by retention (the last event trimmed), if any event was ever trimmed. */
  async anchor(): Promise<{ seq: number; hash: string } | undefined> {
    const [seq, hash] = await this.redis.hmget(this.keys.auditAnchor, 'seq', 'hash');
    return seq != null && hash != null ? { seq: Number(seq), hash } : undefined;
  }

  async *read(query: AuditQuery = {}): AsyncGenerator<AuditEvent> {
    const batch = query.batch ?? 1000;
    let start = query.fromId ?? (query.since !== undefined ? String(query.since) : '-');
    const end = query.beforeId !== undefined ? `(${query.beforeId}` : query.until !== undefined ? String(query.until) : '+';
    for (;;) {
      const entries = await this.redis.xrange(this.keys.auditStream, start, end, 'COUNT', batch);
      for (const [id, fields] of entries) {
        const event = parseStreamEntry(id, fields);
        if (query.toSeq !== undefined && event.seq > query.toSeq) return;
        yield event;
      }
      if (entries.length < batch) return;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  /**
   * Verifies the chain from the anchor (or the first event) up to the head as it was when
   * verification began. A trim racing the read moves the anchor: verify again from the new one.
   */
  async verify(): Promise<VerifyResult> {
    for (let attempt = 0; ; attempt++) {
      const anchor = await this.anchor();
      const head = await this.head();
      const result = await verifyChain(this.read({ toSeq: head.seq }), head, anchor);
      if (result.ok || attempt >= 2) return result;
      const now = await this.anchor();
      if (now?.seq === anchor?.seq) return result;
    }
  }
}

/** A person's id where an event names them: its actor, `data.requester` (an id or `{id}`), `data.user`. */
export function peopleOf(body: Pick<AuditBody, 'actor' | 'data'>): string[] {
  const requester = body.data.requester;
  const ids = [body.actor.id, typeof requester === 'string' ? requester : (requester as { id?: unknown } | undefined)?.id, body.data.user];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== '' && !id.includes('\n')))];
}

/** The index lists an event is pushed onto: its request's, and each person's it names. */
function indexKeysOf(body: AuditBody, keys: RedisKeys): string[] {
  return [...(body.requestId !== undefined && !body.requestId.includes('\n') ? [keys.auditRequestIndex(body.requestId)] : []), ...peopleOf(body).map((id) => keys.auditUserIndex(id))];
}

export function parseStreamEntry(id: string, fields: string[]): AuditEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const base = { id, seq: Number(map.get('seq')), prev: map.get('prev') ?? '', hash: map.get('hash') ?? '' };
  try {
    const body = JSON.parse(map.get('body') ?? '') as AuditBody;
    return { ...body, ...base };
  } catch {
    return { ...base, type: '(unreadable)', at: '', actor: { id: '' }, data: { raw: map.get('body') ?? null } };
  }
}
