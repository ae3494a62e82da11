import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { AuditBody, AuditEvent } from './audit-event';

export const GENESIS_HASH = '0'.repeat(64);

/** Format 1's body hash: SHA-256 of the canonical body. */
export function bodyHash(body: AuditBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** Format 2's body digest: SHA-512 of the canonical body, exactly one SHA-256 block. */
export function bodyDigest(canonicalBody: string): Buffer {
  return createHash('sha512').update(canonicalBody).digest();
}

function seqBytes(seq: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(seq));
  return bytes;
}

/** Format 1 link (events appended before format 2): SHA-256(prev ‖ SHA-256(body) ‖ seq). */
export function chainHash(prev: string, bodyHashHex: string, seq: number): string {
  return createHash('sha256').update(Buffer.from(prev, 'hex')).update(Buffer.from(bodyHashHex, 'hex')).update(seqBytes(seq)).digest('hex');
}

/** Format 2 link, as the Lua append script finishes it inside Redis: SHA-256(SHA-512(body) ‖ prev ‖ seq). */
export function chainHashV2(prev: string, digest: Buffer, seq: number): string {
  return createHash('sha256').update(digest).update(Buffer.from(prev, 'hex')).update(seqBytes(seq)).digest('hex');
}

/**
 * Whether `event.hash` is the link of its body, prev and seq in either chain format. Both are
 * SHA-256 over the body's hash, prev and seq, so accepting either gives a forger nothing; a log
 * holds format 1 events up to the upgrade and format 2 after it, interleaved while replicas of both
 * versions run side by side during a rolling upgrade. `hint` is the format to try first (the
 * previous event's), so each event is hashed once in the common case. Returns the format, or 0.
 */
export function linkFormat(event: AuditEvent, hint: 1 | 2 = 2): 0 | 1 | 2 {
  const canonical = canonicalJson(bodyOf(event));
  const v2 = () => chainHashV2(event.prev, bodyDigest(canonical), event.seq) === event.hash;
  const v1 = () => chainHash(event.prev, createHash('sha256').update(canonical).digest('hex'), event.seq) === event.hash;
  if (hint === 2) return v2() ? 2 : v1() ? 1 : 0;
  return v1() ? 1 : v2() ? 2 : 0;
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
  let format: 1 | 2 = 2;
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
    const found = linkFormat(event, format);
    if (found === 0) return { ok: false, count, firstBad: { ...where, problem: 'hash does not match the content: the event was altered' } };
    format = found;
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
