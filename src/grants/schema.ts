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
  // 3: the outbox of a writer to the shared PostgreSQL store (src/multihost/): every grant change
  // is queued by these triggers in the transaction that makes it, so none is lost or reordered.
  // They fire only while the state row 'outbox' exists (store = postgresql://…); AUTOINCREMENT
  // never reuses a sequence number, which the shared store dedupes on.
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,               -- login, update, revoke, flush, brake, release
     ip TEXT, at INTEGER NOT NULL,     -- when it happened (ms, this host's clock)
     expires_at INTEGER,               -- the grant's local expiry after it (login, update)
     user TEXT, server TEXT, protocol TEXT, detail TEXT
   );
   CREATE TRIGGER outbox_login AFTER INSERT ON audit
     WHEN NEW.action IN ('grant', 'renew') AND NEW.ip IS NOT NULL AND EXISTS (SELECT 1 FROM state WHERE key = 'outbox')
     BEGIN INSERT INTO outbox (kind, ip, at, expires_at, user, server, protocol)
       SELECT 'login', ip, NEW.at, expires_at, user, server, protocol FROM grants WHERE ip = NEW.ip; END;
   CREATE TRIGGER outbox_update AFTER UPDATE OF expires_at ON grants
     WHEN NEW.expires_at <> OLD.expires_at AND NEW.last_login = OLD.last_login AND EXISTS (SELECT 1 FROM state WHERE key = 'outbox')
     BEGIN INSERT INTO outbox (kind, ip, at, expires_at) VALUES ('update', NEW.ip, CAST(unixepoch('subsec') * 1000 AS INTEGER), NEW.expires_at); END;
   CREATE TRIGGER outbox_revoke AFTER INSERT ON audit
     WHEN NEW.action IN ('revoke', 'flush') AND EXISTS (SELECT 1 FROM state WHERE key = 'outbox')
     BEGIN INSERT INTO outbox (kind, ip, at, detail) VALUES (NEW.action, NEW.ip, NEW.at, NEW.detail); END;
   CREATE TRIGGER outbox_brake AFTER INSERT ON state
     WHEN NEW.key = 'brake' AND EXISTS (SELECT 1 FROM state WHERE key = 'outbox')
     BEGIN INSERT INTO outbox (kind, at, detail) VALUES ('brake', CAST(unixepoch('subsec') * 1000 AS INTEGER), NEW.value); END;
   CREATE TRIGGER outbox_release AFTER DELETE ON state
     WHEN OLD.key = 'brake' AND EXISTS (SELECT 1 FROM state WHERE key = 'outbox')
     BEGIN INSERT INTO outbox (kind, at) VALUES ('release', CAST(unixepoch('subsec') * 1000 AS INTEGER)); END;`,
  // 4: the log line (file:line) of an audit row in its own column, so `detail` says why (a refusal's
  // reason) and `popgate history` shows both; rows of logins written before move theirs over.
  `ALTER TABLE audit ADD COLUMN origin TEXT;
   UPDATE audit SET origin = detail, detail = NULL WHERE action IN ('grant', 'renew') AND server IS NOT NULL;`,
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
