// The shared store's schema in PostgreSQL and its versioned migrations (like the SQLite ones:
// never edit a released entry, append a new one). popgate_meta holds the version reached.
import type pg from 'pg';
import { StoreError } from '../core/errors.js';
import { inTransaction, shown } from './pg-connect.js';

export const PG_MIGRATIONS: readonly string[] = [
  // 1. One row per address and writer: each writer sets its own expiry (a logout may shorten it),
  // the address is granted while any row is unexpired by the database's clock. Addresses are
  // canonical text: Postfix also looks up names and partial keys, which inet would reject.
  `CREATE TABLE popgate_meta (key text PRIMARY KEY, value text NOT NULL);
   CREATE TABLE popgate_grants (
     ip text NOT NULL,
     writer text NOT NULL,
     expires_at timestamptz NOT NULL,
     granted_at timestamptz NOT NULL,   -- the login it stems from; a revoke ends what came before it
     username text, server text, protocol text,
     PRIMARY KEY (ip, writer)
   );
   CREATE INDEX popgate_grants_expires ON popgate_grants (expires_at);
   -- The last outbox sequence applied per writer: a batch delivered twice is applied once.
   CREATE TABLE popgate_writers (writer text PRIMARY KEY, last_seq bigint NOT NULL, seen_at timestamptz NOT NULL);
   -- When an address was revoked ('*': everything flushed): older logins never grant again.
   CREATE TABLE popgate_revocations (ip text PRIMARY KEY, at timestamptz NOT NULL, by text);
   CREATE TABLE popgate_brake (id int PRIMARY KEY CHECK (id = 1), since timestamptz NOT NULL, by text NOT NULL, reason text NOT NULL);
   -- What every reader asks: the addresses granted now, none while the brake is on.
   CREATE VIEW popgate_active AS
     SELECT ip, max(expires_at) AS expires_at FROM popgate_grants
     WHERE expires_at > now() AND NOT EXISTS (SELECT 1 FROM popgate_brake) GROUP BY ip;`,
  // 2. The shared audit trail (popgate history from any host), at the database's clock; writers
  // delete what is older than their audit_keep. Revocations are deleted too, once older than
  // login_max_age and a day: a login older than login_max_age when it arrives never grants (it
  // could no longer be told from a revoked one), so a revocation older than that blocks nothing.
  `CREATE TABLE popgate_history (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL,
     writer text NOT NULL,              -- the writer's name (host/tag), or the host of a CLI action
     action text NOT NULL,              -- grant, renew, refuse, revoke, flush, release
     ip text, username text, server text, protocol text, detail text
   );
   CREATE INDEX popgate_history_ip ON popgate_history (ip, id);
   CREATE INDEX popgate_revocations_at ON popgate_revocations (at);
   INSERT INTO popgate_meta (key, value) VALUES ('login_max_age', '7 days');`,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Tables a reader (Postfix's pgsql: table, a reader popgate) must be able to SELECT. */
export const READER_TABLES = ['popgate_grants', 'popgate_brake', 'popgate_active', 'popgate_meta'] as const;

/** The NOTIFY channel: payload is space-separated addresses, or '*' for "read everything". */
export const CHANNEL = 'popgate_grants';

/** The schema version reached, 0 when popgate never migrated this database. */
export async function pgSchemaVersion(client: pg.Client): Promise<number> {
  const t = await client.query<{ t: string | null }>("SELECT to_regclass('popgate_meta')::text AS t");
  if (!t.rows[0]?.t) return 0;
  const r = await client.query<{ value: string }>("SELECT value FROM popgate_meta WHERE key = 'schema_version'");
  return Number(r.rows[0]?.value ?? 0);
}

/**
 * Brings the schema up to PG_SCHEMA_VERSION (two hosts starting at once take turns on an
 * advisory lock); `reader` gets SELECT on what readers need. Refuses a newer schema.
 */
export async function migratePg(client: pg.Client, url: string, reader?: string): Promise<{ from: number; to: number }> {
  return inTransaction(client, async () => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('popgate schema'))");
    const from = await pgSchemaVersion(client);
    if (from > PG_SCHEMA_VERSION) {
      throw new StoreError(shown(url), `schema version ${from} is newer than this popgate understands (${PG_SCHEMA_VERSION})`, 'upgrade popgate on this host');
    }
    for (let v = from; v < PG_SCHEMA_VERSION; v++) await client.query(PG_MIGRATIONS[v]!);
    if (from < PG_SCHEMA_VERSION) {
      await client.query("INSERT INTO popgate_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [String(PG_SCHEMA_VERSION)]);
    }
    if (reader) {
      const role = client.escapeIdentifier(reader);
      await client.query(`GRANT SELECT ON ${READER_TABLES.join(', ')} TO ${role}`);
    }
    return { from, to: PG_SCHEMA_VERSION };
  });
}

/** Fails unless the schema is exactly this popgate's version (readers and writers check). */
export async function requireSchema(client: pg.Client, url: string): Promise<void> {
  const v = await pgSchemaVersion(client);
  if (v === PG_SCHEMA_VERSION) return;
  const hint = v < PG_SCHEMA_VERSION ? 'run popgate store migrate (or start a writer popgate, which migrates)' : 'upgrade popgate on this host';
  throw new StoreError(shown(url), `schema version ${v}, this popgate needs ${PG_SCHEMA_VERSION}`, hint);
}
