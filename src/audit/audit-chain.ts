import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { AuditBody, AuditEvent } from './audit-event';

export const GENESIS_HASH = '0'.repeat(64);

export function bodyHash(body: AuditBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** The chain link, as the Lua append script computes it inside Redis. */
export function chainHash(prev: string, bodyHashHex: string, seq: number): string {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return createHash('sha256').update(Buffer.from(prev, 'hex')).update(Buffer.from(bodyHashHex, 'hex')).update(seqBytes).digest('hex');
}

export function bodyOf(event: AuditEvent): AuditBody {
  const body: AuditBody = { type: event.type, at: event.at, actor: event.actor, data: event.data };
  if (event.requestId !== undefined) body.requestId = event.requestId;
  return body;
}

export type VerifyResult =
  | { ok: true; count: number; head: { seq: number; hash: string } }
  | { ok: false; count: number; firstBad: { seq: number; id?: string; problem: string } };

/**
 * Walks events in stored order and proves the chain unbroken, or names the first event where it
 * breaks: content altered (hash mismatch), event missing (sequence gap), or order changed.
 * `from`: the chain anchor of a log whose older events were trimmed (archived elsewhere): the
 * first event must follow it. `count` counts the events walked, not those before the anchor.
 */
export async function verifyChain(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  expectedHead?: { seq: number; hash: string },
  from?: { seq: number; hash: string },
): Promise<VerifyResult> {
  let prev = from?.hash ?? GENESIS_HASH;
  const base = from?.seq ?? 0;
  let expectedSeq = base + 1;
  let count = 0;
  for await (const event of events) {
    const where = { seq: event.seq, ...(event.id !== undefined ? { id: event.id } : {}) };
    if (event.seq !== expectedSeq) {
      const problem =
        event.seq > expectedSeq
          ? `expected event ${expectedSeq} but found event ${event.seq}: events missing or out of order`
          : `expected event ${expectedSeq} but found event ${event.seq} again: events out of order or duplicated`;
      return { ok: false, count, firstBad: { ...where, problem } };
    }
    if (event.prev !== prev)
      return { ok: false, count, firstBad: { ...where, problem: 'previous-hash link does not match the event before it: reordered or replaced' } };
    const expected = chainHash(prev, bodyHash(bodyOf(event)), event.seq);
    if (expected !== event.hash)
      return { ok: false, count, firstBad: { ...where, problem: 'hash does not match the content: the event was altered' } };
    prev = event.hash;
    expectedSeq++;
    count++;
  }
  const last = base + count;
  if (expectedHead && (expectedHead.seq !== last || expectedHead.hash !== prev)) {
    return {
      ok: false,
      count,
      firstBad: {
        seq: last + 1,
        problem:
          expectedHead.seq > last
            ? `the log ends at ${last} but its head says ${expectedHead.seq}: events missing at the end`
            : `the log's head (${expectedHead.seq}) does not match its last event (${last})`,
      },
    };
  }
  return { ok: true, count, head: { seq: last, hash: prev } };
}
