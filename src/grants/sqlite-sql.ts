// The SQL of the SQLite store, prepared once per connection. Hot-path statements (a login or a
// logout per event) take positional parameters and return plain values, no row objects.
import type Database from 'better-sqlite3';

const RECOMPUTE = `UPDATE grants SET expires_at = MAX(login_until, manual_until,
  COALESCE((SELECT MAX(hold_until) FROM sessions WHERE sessions.ip = grants.ip), 0)) WHERE ip = ?`;
/** The longest hold of the open sessions of the address bound here (as in RECOMPUTE). */
const HOLD = 'COALESCE((SELECT MAX(hold_until) FROM sessions WHERE sessions.ip = ?), 0)';

/** Prepares every statement the store uses. */
export function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    // Hot path (a login or a logout per event): few statements, positional parameters, no row objects.
    exists: p('SELECT 1 FROM grants WHERE ip = ?').pluck(),
    expiresOf: p('SELECT expires_at FROM grants WHERE ip = ?').pluck(),
    insert: p(`INSERT INTO grants (ip, expires_at, login_until, manual_until, first_login, last_login, user, server, protocol)
               VALUES (@ip, 0, @login_until, @manual_until, @at, @at, @user, @server, @protocol)`),
    renewManual: p('UPDATE grants SET manual_until = MAX(manual_until, @manual_until) WHERE ip = @ip'),
    recompute: p(RECOMPUTE),
    // A login: the grant created or renewed with its expiry computed at once (its session is stored first).
    insertLogin: p(`INSERT INTO grants (ip, expires_at, login_until, manual_until, first_login, last_login, user, server, protocol)
                    VALUES (?, MAX(?, ${HOLD}), ?, 0, ?, ?, ?, ?, ?) RETURNING expires_at`).pluck(),
    renewLogin: p(`UPDATE grants SET login_until = MAX(login_until, ?), last_login = MAX(last_login, ?), user = ?, server = ?, protocol = ?,
                   expires_at = MAX(login_until, ?, manual_until, ${HOLD}) WHERE ip = ? RETURNING expires_at`).pluck(),
    // A logout: the session gone, the grace from now on, the expiry computed again.
    endSession: p('DELETE FROM sessions WHERE key = ? RETURNING ip').pluck(),
    extendLogin: p(`UPDATE grants SET login_until = MAX(login_until, ?), expires_at = MAX(login_until, ?, manual_until, ${HOLD}) WHERE ip = ?
                    RETURNING expires_at`).pluck(),
    openSession: p(`INSERT OR REPLACE INTO sessions (key, ip, user, protocol, opened_at, hold_until)
                    VALUES (?, ?, ?, ?, ?, ?)`),
    revoke: p('DELETE FROM grants WHERE ip = ?'),
    revokeSessions: p('DELETE FROM sessions WHERE ip = ?'),
    flushGrants: p('DELETE FROM grants'),
    flushSessions: p('DELETE FROM sessions'),
    isGranted: p('SELECT 1 FROM grants WHERE ip = ? AND expires_at > ?').pluck(),
    active: p('SELECT ip FROM grants WHERE expires_at > ? ORDER BY ip').pluck(),
    // A page of the map text in one string (no array of strings to build and collect), the next
    // page after `last`. The subquery walks the primary key in order and group_concat takes its rows
    // as they come (a co-routine); `group_concat(… ORDER BY ip)` would sort them again.
    mapPage: p(`SELECT group_concat(line, '') AS text, max(ip) AS last, count(*) AS n
                FROM (SELECT ip, ip || ? AS line FROM grants WHERE expires_at > ? AND ip > ? ORDER BY ip LIMIT ?)`),
    list: p(`SELECT g.*, (SELECT COUNT(*) FROM sessions s WHERE s.ip = g.ip) AS open_sessions
             FROM grants g WHERE expires_at > ? ORDER BY expires_at, ip`),
    expired: p('SELECT ip, user, server, protocol FROM grants WHERE expires_at <= ?'),
    deleteExpired: p('DELETE FROM grants WHERE expires_at <= ?'),
    deleteStaleSessions: p('DELETE FROM sessions WHERE hold_until <= ? OR ip NOT IN (SELECT ip FROM grants)'),
    next: p('SELECT MIN(expires_at) FROM grants WHERE expires_at > ?').pluck(),
    sessions: p('SELECT key, ip, user, protocol FROM sessions'),
    audit: p(`INSERT INTO audit (at, action, ip, user, server, protocol, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    // A row of a parsed event (login, logout, refusal): its log line in `origin`.
    auditEvent: p(`INSERT INTO audit (at, action, ip, user, server, protocol, detail, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    // Retention: among the oldest rows by id (ids grow with time), those written before the cutoff.
    pruneAudit: p('DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?) AND at < ?'),
    countGrants: p('SELECT COUNT(*) FROM grants WHERE expires_at > ?').pluck(),
    countSessions: p('SELECT COUNT(*) FROM sessions').pluck(),
    // detail as before migration 4: the log line where a row has no other detail (a login's).
    auditByIp: p('SELECT at, action, ip, user, server, COALESCE(detail, origin) AS detail FROM audit WHERE ip = ? ORDER BY id DESC LIMIT ?'),
    // Changes made by hand (the CLI writes `cli:USER` as the detail), after a given row.
    manualAfter: p(`SELECT id, at, action, ip, user, server, detail FROM audit
      WHERE id > ? AND (detail LIKE 'cli:%' OR detail LIKE 'brake (cli:%') ORDER BY id LIMIT 200`),
    lastAuditId: p('SELECT MAX(id) FROM audit').pluck(),
    auditAll: p('SELECT at, action, ip, user, server, COALESCE(detail, origin) AS detail FROM audit ORDER BY id DESC LIMIT ?'),
    getPos: p('SELECT dev, ino, fingerprint, offset, line FROM positions WHERE source = ?'),
    setPos: p(`INSERT OR REPLACE INTO positions (source, dev, ino, fingerprint, offset, line, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)`),
    getState: p('SELECT value FROM state WHERE key = ?').pluck(),
    setState: p('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)'),
    delState: p('DELETE FROM state WHERE key = ?'),
    // A reload with a shorter grace or max_hold: existing grants shortened by the difference
    // (login_until is the last activity plus the old grace), open sessions held no longer.
    // Whether an address had a grant before (the automatic brake counts only new ones).
    seenSince: p("SELECT 1 FROM audit WHERE ip = ? AND at > ? AND at < ? AND action IN ('grant', 'renew') LIMIT 1").pluck(),
    shortenLogins: p('UPDATE grants SET login_until = login_until - ? WHERE login_until > 0'),
    shortenHolds: p('UPDATE sessions SET hold_until = MIN(hold_until, opened_at + ?)'),
    recomputeAll: p(`UPDATE grants SET expires_at = MAX(login_until, manual_until,
      COALESCE((SELECT MAX(hold_until) FROM sessions WHERE sessions.ip = grants.ip), 0)) WHERE expires_at > ?`),
  };
}

export type Statements = ReturnType<typeof prepare>;
