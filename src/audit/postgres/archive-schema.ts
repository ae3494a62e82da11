/**
 * The archive's schema, one migration per version, applied in order by `access-bot db migrate`
 * (and by `start` on first use). A migration never changes once shipped: add the next one.
 */
export interface ArchiveMigration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS_TABLE = 'access_bot_migrations';
export const EVENTS_TABLE = 'audit_events';

export const ARCHIVE_MIGRATIONS: readonly ArchiveMigration[] = [
  {
    version: 1,
    name: 'append-only audit_events',
    // `body` is the canonical JSON the chain hashed, byte for byte; the other columns are copies
    // for querying, and the archive reader rebuilds events from them, so a change to either breaks
    // the chain. The trigger refuses UPDATE, DELETE and TRUNCATE even to the table's owner; the
    // app's role gets only SELECT and INSERT (`db migrate --app-role`).
    sql: `
CREATE TABLE ${EVENTS_TABLE} (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  prev text NOT NULL CHECK (prev ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  type text NOT NULL,
  at timestamptz,
  actor_id text NOT NULL,
  request_id text,
  body text NOT NULL,
  stream_id text,
  archived_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_at ON ${EVENTS_TABLE} (at);
CREATE INDEX audit_events_request ON ${EVENTS_TABLE} (request_id) WHERE request_id IS NOT NULL;
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON ${EVENTS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON ${EVENTS_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
`,
  },
];

export const LATEST_VERSION = ARCHIVE_MIGRATIONS[ARCHIVE_MIGRATIONS.length - 1]!.version;

/** The GRANTs for the role the bot and worker connect as: read and append, nothing else. */
export function appRoleGrants(role: string): string[] {
  const r = quoteIdent(role);
  return [
    `REVOKE ALL ON ${EVENTS_TABLE} FROM ${r}`,
    `GRANT SELECT, INSERT ON ${EVENTS_TABLE} TO ${r}`,
    `REVOKE ALL ON ${MIGRATIONS_TABLE} FROM ${r}`,
    `GRANT SELECT ON ${MIGRATIONS_TABLE} TO ${r}`,
  ];
}

export const ROLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!ROLE_PATTERN.test(name)) throw new Error(`not a plain role name: ${name}`);
  return `"${name}"`;
}
