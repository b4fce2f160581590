// Store on SQLite (better-sqlite3, WAL): every change is a prepared statement inside a transaction.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, StoreError } from '../core/errors.js';
import type { Grant, Protocol } from '../core/types.js';
import { migrate } from './schema.js';
import type { AuditEntry, Change, LoginRecord, OpenSession, Position, Store } from './store.js';

interface GrantRow {
  ip: string;
  expires_at: number;
  first_login: number;
  last_login: number;
  user: string | null;
  server: string | null;
  protocol: string | null;
  open_sessions: number;
}

const RECOMPUTE = `UPDATE grants SET expires_at = MAX(login_until, manual_until,
  COALESCE((SELECT MAX(hold_until) FROM sessions WHERE sessions.ip = grants.ip), 0)) WHERE ip = ?`;
/** The longest hold of the open sessions of the address bound here (as in RECOMPUTE). */
const HOLD = 'COALESCE((SELECT MAX(hold_until) FROM sessions WHERE sessions.ip = ?), 0)';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt: Record<string, Database.Statement>;
  readonly path: string;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.path = path;
    try {
      if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      this.db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      this.db.pragma('busy_timeout = 5000');
      if (!options.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        migrate(this.db);
      }
    } catch (err) {
      throw new StoreError(path, `cannot open the grant database (${describe(err)})`,
        'check that the directory exists and is writable by the user popgate runs as, and that the disk is not full', err);
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
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
      // The whole map text in one string: no array of 100k strings to build and collect.
      // The subquery walks the primary key in order and group_concat takes its rows as they come
      // (a co-routine); `group_concat(… ORDER BY ip)` would sort them again: 17 ms vs 79 ms for 100k.
      mapText: p(`SELECT group_concat(line, '') FROM (SELECT ip || ? AS line FROM grants WHERE expires_at > ? ORDER BY ip)`).pluck(),
      list: p(`SELECT g.*, (SELECT COUNT(*) FROM sessions s WHERE s.ip = g.ip) AS open_sessions
               FROM grants g WHERE expires_at > ? ORDER BY expires_at, ip`),
      expired: p('SELECT ip, user, server, protocol FROM grants WHERE expires_at <= ?'),
      deleteExpired: p('DELETE FROM grants WHERE expires_at <= ?'),
      deleteStaleSessions: p('DELETE FROM sessions WHERE hold_until <= ? OR ip NOT IN (SELECT ip FROM grants)'),
      next: p('SELECT MIN(expires_at) FROM grants WHERE expires_at > ?').pluck(),
      sessions: p('SELECT key, ip, user, protocol FROM sessions'),
      audit: p(`INSERT INTO audit (at, action, ip, user, server, protocol, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      auditByIp: p('SELECT at, action, ip, user, server, detail FROM audit WHERE ip = ? ORDER BY id DESC LIMIT ?'),
      auditAll: p('SELECT at, action, ip, user, server, detail FROM audit ORDER BY id DESC LIMIT ?'),
      getPos: p('SELECT dev, ino, fingerprint, offset, line FROM positions WHERE source = ?'),
      setPos: p(`INSERT OR REPLACE INTO positions (source, dev, ino, fingerprint, offset, line, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)`),
      getState: p('SELECT value FROM state WHERE key = ?').pluck(),
      setState: p('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)'),
      delState: p('DELETE FROM state WHERE key = ?'),
    };
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const full = /SQLITE_FULL|disk is full/i.test(describe(err));
      throw new StoreError(this.path, `${what} failed (${describe(err)})`,
        full ? 'the disk is full: free space; nothing was lost, popgate retries' : 'check the database file and its directory', err);
    }
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock at BEGIN: a CLI write racing the daemon waits (busy_timeout)
    // instead of failing with SQLITE_BUSY_SNAPSHOT when its read turns into a write.
    return this.guard('transaction', () => this.db.transaction(fn).immediate());
  }

  login(rec: LoginRecord, graceMs: number, maxHoldMs: number): Change & { action: 'grant' | 'renew' } {
    return this.guard('login', () => {
      const before = (this.stmt.expiresOf!.get(rec.ip) as number | undefined) ?? null;
      const exists = before !== null;
      if (rec.session) this.stmt.openSession!.run(rec.session, rec.ip, rec.user, rec.protocol, rec.at, rec.at + maxHoldMs);
      // MAX(login_until, manual_until, holds), as RECOMPUTE, in the same statement.
      const until = rec.at + graceMs;
      const after = (exists
        ? this.stmt.renewLogin!.get(until, rec.at, rec.user, rec.server, rec.protocol, until, rec.ip, rec.ip)
        : this.stmt.insertLogin!.get(rec.ip, until, rec.ip, until, rec.at, rec.at, rec.user, rec.server, rec.protocol)) as number;
      const action = exists ? 'renew' : 'grant';
      this.stmt.audit!.run(rec.at, action, rec.ip, rec.user, rec.server, rec.protocol, rec.origin);
      return { action, ip: rec.ip, before, after };
    });
  }

  logout(session: string, at: number, graceMs: number): Change | null {
    return this.guard('logout', () => {
      const ip = this.stmt.endSession!.get(session) as string | undefined;
      if (ip === undefined) return null;
      const before = (this.stmt.expiresOf!.get(ip) as number | undefined) ?? null;
      const after = (this.stmt.extendLogin!.get(at + graceMs, at + graceMs, ip, ip) as number | undefined) ?? null;
      return { ip, before, after };
    });
  }

  grantManual(ip: string, until: number, now: number, who: string): 'grant' | 'renew' {
    return this.guard('grant', () => {
      const exists = this.stmt.exists!.get(ip) !== undefined;
      if (exists) this.stmt.renewManual!.run({ ip, manual_until: until });
      else this.stmt.insert!.run({ ip, at: now, login_until: 0, manual_until: until, user: null, server: null, protocol: null });
      this.stmt.recompute!.run(ip);
      this.stmt.audit!.run(now, exists ? 'renew' : 'grant', ip, null, null, null, who);
      return exists ? 'renew' : 'grant';
    });
  }

  revoke(ip: string, now: number, who: string): boolean {
    return this.guard('revoke', () => {
      const n = this.stmt.revoke!.run(ip).changes;
      this.stmt.revokeSessions!.run(ip);
      if (n) this.stmt.audit!.run(now, 'revoke', ip, null, null, null, who);
      return n > 0;
    });
  }

  flush(now: number, who: string): number {
    return this.guard('flush', () => {
      const n = this.stmt.flushGrants!.run().changes;
      this.stmt.flushSessions!.run();
      this.stmt.audit!.run(now, 'flush', null, null, null, null, `${who}: ${n} grants`);
      return n;
    });
  }

  isGranted(ip: string, now: number): boolean {
    return this.guard('lookup', () => this.stmt.isGranted!.get(ip, now) !== undefined);
  }

  activeIps(now: number): string[] {
    return this.guard('list', () => this.stmt.active!.all(now) as string[]);
  }

  /** The map's text, `IP<TAB>value` lines sorted by address, as one string. */
  mapText(now: number, value: string): string {
    return this.guard('list', () => (this.stmt.mapText!.get(`\t${value}\n`, now) as string | null) ?? '');
  }

  list(now: number): Grant[] {
    return this.guard('list', () =>
      (this.stmt.list!.all(now) as GrantRow[]).map((r) => ({
        ip: r.ip,
        expiresAt: r.expires_at,
        firstLogin: r.first_login,
        lastLogin: r.last_login,
        user: r.user,
        server: r.server,
        protocol: r.protocol as Protocol | null,
        openSessions: r.open_sessions,
      })),
    );
  }

  expire(now: number): string[] {
    return this.guard('expire', () =>
      this.db.transaction(() => {
        const rows = this.stmt.expired!.all(now) as { ip: string; user: string | null; server: string | null; protocol: string | null }[];
        for (const r of rows) this.stmt.audit!.run(now, 'expire', r.ip, r.user, r.server, r.protocol, null);
        this.stmt.deleteExpired!.run(now);
        this.stmt.deleteStaleSessions!.run(now);
        return rows.map((r) => r.ip);
      })(),
    );
  }

  nextExpiry(now: number): number | null {
    return this.guard('lookup', () => (this.stmt.next!.get(now) as number | null) ?? null);
  }

  openSessions(): OpenSession[] {
    return this.guard('sessions', () => this.stmt.sessions!.all() as OpenSession[]);
  }

  audit(ip: string | null, limit: number): AuditEntry[] {
    return this.guard('audit', () => (ip ? this.stmt.auditByIp!.all(ip, limit) : this.stmt.auditAll!.all(limit)) as AuditEntry[]);
  }

  note(at: number, action: string, ip: string | null, detail: string | null): void {
    this.guard('audit', () => this.stmt.audit!.run(at, action, ip, null, null, null, detail));
  }

  getPosition(source: string): Position | null {
    return this.guard('position', () => (this.stmt.getPos!.get(source) as Position | undefined) ?? null);
  }

  setPosition(source: string, pos: Position, now: number): void {
    this.guard('position', () => this.stmt.setPos!.run(source, pos.dev, pos.ino, pos.fingerprint, pos.offset, pos.line, now));
  }

  getState(key: string): string | null {
    return this.guard('state', () => (this.stmt.getState!.get(key) as string | undefined) ?? null);
  }

  setState(key: string, value: string | null): void {
    this.guard('state', () => (value === null ? this.stmt.delState!.run(key) : this.stmt.setState!.run(key, value)));
  }

  externalVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
