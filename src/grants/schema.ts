// SQLite schema and its migrations; PRAGMA user_version holds the version reached.
import type Database from 'better-sqlite3';

/** Each entry moves the schema one version up; never edit a released entry, add a new one. */
export const MIGRATIONS: readonly string[] = [
  // 1: grants with their expiry parts, open sessions, log positions, audit trail, daemon state.
  `CREATE TABLE grants (
     ip TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL,      -- max(login_until, manual_until, open session holds)
     login_until INTEGER NOT NULL DEFAULT 0,
     manual_until INTEGER NOT NULL DEFAULT 0,
     first_login INTEGER NOT NULL,
     last_login INTEGER NOT NULL,
     user TEXT, server TEXT, protocol TEXT
   ) WITHOUT ROWID;
   CREATE INDEX grants_expires ON grants(expires_at);
   CREATE TABLE sessions (
     key TEXT PRIMARY KEY,
     ip TEXT NOT NULL,
     user TEXT, protocol TEXT,
     opened_at INTEGER NOT NULL,
     hold_until INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX sessions_ip ON sessions(ip);
   CREATE TABLE positions (
     source TEXT PRIMARY KEY,
     dev TEXT NOT NULL, ino TEXT NOT NULL,
     fingerprint TEXT,
     offset INTEGER NOT NULL,
     line INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     action TEXT NOT NULL,
     ip TEXT,
     user TEXT, server TEXT, protocol TEXT,
     detail TEXT
   );
   CREATE INDEX audit_ip ON audit(ip, at);
   CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: the longest hold of an address's open sessions is one index lookup, however many it has
  // (a NAT gateway can hold hundreds): MAX(hold_until) WHERE ip = ? reads the index's last entry.
  `CREATE INDEX sessions_ip_hold ON sessions(ip, hold_until);
   DROP INDEX sessions_ip;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database up to SCHEMA_VERSION; refuses a database newer than this program. */
export function migrate(db: Database.Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new Error(`database schema version ${from} is newer than this popgate understands (${SCHEMA_VERSION})`);
  }
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
