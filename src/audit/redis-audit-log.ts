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
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Bodies and the SHA-256 state after their digest block, flattened as the Lua append expects
   * them: Node does all the hashing it can before the append, so Redis hashes one block per event.
   */
  static prepare(inputs: AuditInput[], now: number): string[] {
    const at = new Date(now).toISOString();
    return inputs.flatMap((input) => {
      const body: AuditBody = { type: input.type, at, actor: input.actor, data: input.data };
      if (input.requestId !== undefined) body.requestId = input.requestId;
      const canonical = canonicalJson(body);
      return [canonical, sha256Midstate(bodyDigest(canonical))];
    });
  }

  /** Appends events that belong to no state change; returns the last sequence number. */
  async append(inputs: AuditInput[], now: number): Promise<number> {
    if (inputs.length === 0) return (await this.head()).seq;
    const seq = await appendOnly.run(this.redis, [this.keys.auditStream, this.keys.auditHead], [
      inputs.length,
      ...RedisAuditLog.prepare(inputs, now),
    ]);
    return Number(seq);
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
    let start = query.since !== undefined ? String(query.since) : '-';
    const end = query.until !== undefined ? String(query.until) : '+';
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
