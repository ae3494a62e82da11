import { Pool, type PoolClient } from 'pg';
import type { Logger } from '../../log/logger';
import { bodyOf, verifyChain, type VerifyResult } from '../audit-chain';
import type { AuditBody, AuditEvent } from '../audit-event';
import { canonicalJson } from '../canonical-json';
import { ARCHIVE_MIGRATIONS, appRoleGrants, EVENTS_TABLE, LATEST_VERSION, MIGRATIONS_TABLE } from './archive-schema';
import { ArchiveDivergedError } from './errors/archive-diverged-error';
import { ArchiveSchemaError } from './errors/archive-schema-error';

/** Serialises migrations across replicas starting at once. */
const MIGRATION_LOCK = 0x61636362; // 'accb'

export interface InsertResult {
  inserted: number;
  /** Already archived (a batch delivered again after a crash before its ack): skipped. */
  duplicates: number;
}

export interface ArchiveQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, inclusive. */
  until?: number;
  /** Start after this sequence number. */
  afterSeq?: number;
  batch?: number;
}

type Row = { seq: string; prev: string; hash: string; type: string; at: Date | null; actor_id: string; request_id: string | null; body: string; stream_id: string | null };

/**
 * The append-only PostgreSQL copy of the audit chain (`AUDIT_DATABASE_URL`). Inserts are keyed on
 * the sequence number, so a batch delivered twice (a shipper crashed after committing and before
 * acknowledging it in Redis) archives each event once; an event that differs from the archived
 * one at the same number is refused as a divergence, never overwritten.
 */
export class PostgresAuditArchive {
  readonly pool: Pool;

  constructor(url: string, options: { max?: number } = {}) {
    this.pool = new Pool({ connectionString: url, max: options.max ?? 4, application_name: 'access-bot' });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async schemaVersion(): Promise<number> {
    try {
      const { rows } = await this.pool.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${MIGRATIONS_TABLE}`);
      return rows[0]?.v ?? 0;
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return 0;
      throw err;
    }
  }

  /** Applies every migration not applied yet, in one transaction; returns the versions applied. */
  async migrate(options: { appRole?: string } = {}): Promise<number[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE}`);
      const done = new Set(rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of ARCHIVE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query(m.sql);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        applied.push(m.version);
      }
      if (options.appRole !== undefined) for (const sql of appRoleGrants(options.appRole)) await client.query(sql);
      await client.query('COMMIT');
      return applied;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * For process start: migrates when allowed and needed; otherwise refuses to run on a schema
   * this version does not know, with what to do.
   */
  async ensureSchema(options: { migrate: boolean; logger?: Logger }): Promise<void> {
    const version = await this.schemaVersion();
    if (version === LATEST_VERSION) return;
    if (version > LATEST_VERSION)
      throw new ArchiveSchemaError(`the audit archive's schema is at version ${version}, newer than this access-bot knows (${LATEST_VERSION}): upgrade access-bot`);
    if (!options.migrate)
      throw new ArchiveSchemaError(`the audit archive's schema is at version ${version}, this access-bot needs ${LATEST_VERSION}: run \`access-bot db migrate\``);
    try {
      const applied = await this.migrate();
      options.logger?.info({ applied }, 'audit archive schema migrated');
    } catch (err) {
      if ((err as { code?: string }).code === '42501')
        throw new ArchiveSchemaError(
          `the audit archive needs migrating (version ${version} → ${LATEST_VERSION}) and this role may not: run \`access-bot db migrate\` as the database owner`,
          { cause: err },
        );
      throw err;
    }
  }

  /** Archives events (any order, any repeats), in one transaction. */
  async insert(events: AuditEvent[]): Promise<InsertResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const cols = { seq: [] as string[], prev: [] as string[], hash: [] as string[], type: [] as string[], at: [] as (string | null)[], actor: [] as string[], request: [] as (string | null)[], body: [] as string[], stream: [] as (string | null)[] };
    for (const e of events) {
      cols.seq.push(String(e.seq));
      cols.prev.push(e.prev);
      cols.hash.push(e.hash);
      cols.type.push(e.type);
      cols.at.push(Number.isNaN(Date.parse(e.at)) ? null : e.at);
      cols.actor.push(e.actor.id);
      cols.request.push(e.requestId ?? null);
      cols.body.push(bodyText(e));
      cols.stream.push(e.id ?? null);
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ seq: string }>(
        `INSERT INTO ${EVENTS_TABLE} (seq, prev, hash, type, at, actor_id, request_id, body, stream_id)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[])
         ON CONFLICT (seq) DO NOTHING RETURNING seq`,
        [cols.seq, cols.prev, cols.hash, cols.type, cols.at, cols.actor, cols.request, cols.body, cols.stream],
      );
      const inserted = new Set(rows.map((r) => r.seq));
      const repeated = events.filter((e) => !inserted.has(String(e.seq)));
      if (repeated.length) await this.checkSame(client, repeated);
      await client.query('COMMIT');
      return { inserted: inserted.size, duplicates: repeated.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async checkSame(client: PoolClient, events: AuditEvent[]): Promise<void> {
    const { rows } = await client.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${EVENTS_TABLE} WHERE seq = ANY($1::bigint[])`, [
      events.map((e) => String(e.seq)),
    ]);
    const archived = new Map(rows.map((r) => [Number(r.seq), r.hash]));
    for (const e of events) {
      const hash = archived.get(e.seq);
      if (hash !== undefined && hash !== e.hash)
        throw new ArchiveDivergedError(`audit event ${e.seq} in Redis (hash ${e.hash.slice(0, 12)}…) differs from the archived one (${hash.slice(0, 12)}…)`);
    }
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const { rows } = await this.pool.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${EVENTS_TABLE} ORDER BY seq DESC LIMIT 1`);
    const row = rows[0];
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }

  async hashAt(seq: number): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ hash: string }>(`SELECT hash FROM ${EVENTS_TABLE} WHERE seq = $1`, [seq]);
    return rows[0]?.hash;
  }

  /** Events in sequence order, rebuilt from the columns an auditor queries (so a changed column breaks the chain). */
  async *read(query: ArchiveQuery = {}): AsyncGenerator<AuditEvent> {
    const batch = query.batch ?? 2000;
    let after = query.afterSeq ?? 0;
    for (;;) {
      const params: unknown[] = [after, batch];
      let where = 'seq > $1';
      if (query.since !== undefined) {
        params.push(new Date(query.since));
        where += ` AND at >= $${params.length}`;
      }
      if (query.until !== undefined) {
        params.push(new Date(query.until));
        where += ` AND at <= $${params.length}`;
      }
      const { rows } = await this.pool.query<Row>(
        `SELECT seq, prev, hash, type, at, actor_id, request_id, body, stream_id FROM ${EVENTS_TABLE} WHERE ${where} ORDER BY seq LIMIT $2`,
        params,
      );
      for (const row of rows) yield eventOf(row);
      if (rows.length < batch) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  /** Proves the archived chain from event 1 to the archive's head. */
  async verify(): Promise<VerifyResult> {
    return verifyChain(this.read());
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The bytes the chain hashed: the body as canonical JSON (an unreadable entry keeps its raw text). */
function bodyText(e: AuditEvent): string {
  if (e.type === '(unreadable)' && typeof e.data.raw === 'string') return e.data.raw;
  return canonicalJson(bodyOf(e));
}

function eventOf(row: Row): AuditEvent {
  const chain = { seq: Number(row.seq), prev: row.prev, hash: row.hash, ...(row.stream_id ? { id: row.stream_id } : {}) };
  let body: AuditBody;
  try {
    body = JSON.parse(row.body) as AuditBody;
  } catch {
    return { ...chain, type: '(unreadable)', at: '', actor: { id: row.actor_id }, data: { raw: row.body } };
  }
  // Columns win over the body: whatever an auditor's SQL sees must be what the chain proves.
  const event: AuditEvent = { ...body, ...chain, type: row.type, actor: { ...body.actor, id: row.actor_id } };
  if (row.request_id !== null) event.requestId = row.request_id;
  else delete event.requestId;
  if (row.at === null) event.at = '';
  else if (Date.parse(body.at) !== row.at.getTime()) event.at = row.at.toISOString();
  return event;
}
