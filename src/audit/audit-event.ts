import type { Channel } from '../engine/types';

/** What an audit event says: hashed as canonical JSON. */
export interface AuditBody {
  type: string;
  /** ISO 8601 time the event was written. */
  at: string;
  actor: { id: string; via?: Channel };
  requestId?: string;
  data: Record<string, unknown>;
}

/** An audit event as stored: its body plus its place in the chain. */
export interface AuditEvent extends AuditBody {
  /** 1, 2, 3, … with no gaps. */
  seq: number;
  /** Hash of the previous event (64 zeros for the first). */
  prev: string;
  /** sha256(prev ‖ sha256(canonical body) ‖ seq as uint64 big-endian), hex. */
  hash: string;
  /** Redis stream entry id: the time Redis stored it. */
  id?: string;
}
