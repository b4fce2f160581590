// Store on SQLite (better-sqlite3, WAL): every change is a prepared statement inside a transaction.
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { describe, StoreError } from '../core/errors.js';
import type { Grant, Protocol } from '../core/types.js';
import { openDatabase, type OpenOptions } from './sqlite-open.js';
import { prepare, type Statements } from './sqlite-sql.js';
import { queryHistory } from './sqlite-history.js';
import type { MapSink } from '../publish/map-content.js';
import type { AuditContext, AuditEntry, Change, HistoryEntry, HistoryQuery, LoginRecord, OpenSession, Position, Store } from './store.js';

/** Addresses per page of the map's text: ~50 KB, a string V8 keeps in its young generation (a whole 100k map, 2 MB, was old-generation garbage). */
const MAP_PAGE = 2000;

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

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmt: Statements;
  readonly path: string;

  constructor(path: string, options: OpenOptions = {}) {
    this.path = path;
    this.db = openDatabase(path, options);
    this.stmt = prepare(this.db);
  }

  /** Copies the WAL into the database as far as no reader holds it back (never waits). */
  checkpoint(): void {
    this.guard('checkpoint', () => this.db.pragma('wal_checkpoint(PASSIVE)'));
  }

  /** The file's identity, to notice when it is replaced or removed under a running daemon. */
  fileId(): string | null {
    if (this.path === ':memory:') return null;
    try {
      const st = statSync(this.path);
      return `${st.dev}:${st.ino}`;
    } catch {
      return null;
    }
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const full = /SQLITE_FULL|disk is full/i.test(describe(err));
      throw new StoreError(this.path, `${what} failed (${describe(err)})`, full ? 'the disk is full: free space; nothing was lost, popgate retries' : 'check the database file and its directory', err);
    }
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock at BEGIN: a CLI write racing the daemon waits (busy_timeout)
    // instead of failing with SQLITE_BUSY_SNAPSHOT when its read turns into a write.
    return this.guard('transaction', () => this.db.transaction(fn).immediate());
  }

  login(rec: LoginRecord, graceMs: number, maxHoldMs: number): Change & { action: 'grant' | 'renew' } {
    return this.guard('login', () => {
      const before = (this.stmt.expiresOf.get(rec.ip) as number | undefined) ?? null;
      const exists = before !== null;
      if (rec.session) this.stmt.openSession.run(rec.session, rec.ip, rec.user, rec.protocol, rec.at, rec.at + maxHoldMs);
      // MAX(login_until, manual_until, holds), as RECOMPUTE, in the same statement.
      const until = rec.at + graceMs;
      const after = (
        exists
          ? this.stmt.renewLogin.get(until, rec.at, rec.user, rec.server, rec.protocol, until, rec.ip, rec.ip)
          : this.stmt.insertLogin.get(rec.ip, until, rec.ip, until, rec.at, rec.at, rec.user, rec.server, rec.protocol)
      ) as number;
      const action = exists ? 'renew' : 'grant';
      this.stmt.auditEvent.run(rec.at, action, rec.ip, rec.user, rec.server, rec.protocol, null, rec.origin);
      return { action, ip: rec.ip, before, after };
    });
  }

  logout(session: string, at: number, graceMs: number, ctx?: AuditContext): Change | null {
    return this.guard('logout', () => {
      const ip = this.stmt.endSession.get(session) as string | undefined;
      if (ip === undefined) return null;
      const before = (this.stmt.expiresOf.get(ip) as number | undefined) ?? null;
      const after = (this.stmt.extendLogin.get(at + graceMs, at + graceMs, ip, ip) as number | undefined) ?? null;
      if (ctx) this.stmt.auditEvent.run(at, 'logout', ip, ctx.user, ctx.server, ctx.protocol, null, ctx.origin);
      return { ip, before, after };
    });
  }

  grantManual(ip: string, until: number, now: number, who: string): 'grant' | 'renew' {
    return this.guard('grant', () => {
      const exists = this.stmt.exists.get(ip) !== undefined;
      if (exists) this.stmt.renewManual.run({ ip, manual_until: until });
      else this.stmt.insert.run({ ip, at: now, login_until: 0, manual_until: until, user: null, server: null, protocol: null });
      this.stmt.recompute.run(ip);
      this.stmt.audit.run(now, exists ? 'renew' : 'grant', ip, null, null, null, who);
      return exists ? 'renew' : 'grant';
    });
  }

  revoke(ip: string, now: number, who: string): boolean {
    return this.guard('revoke', () => {
      const n = this.stmt.revoke.run(ip).changes;
      this.stmt.revokeSessions.run(ip);
      if (n) this.stmt.audit.run(now, 'revoke', ip, null, null, null, who);
      return n > 0;
    });
  }

  flush(now: number, who: string): number {
    return this.guard('flush', () => {
      const n = this.stmt.flushGrants.run().changes;
      this.stmt.flushSessions.run();
      this.stmt.audit.run(now, 'flush', null, null, null, null, `${who}: ${n} grants`);
      return n;
    });
  }

  isGranted(ip: string, now: number): boolean {
    return this.guard('lookup', () => this.stmt.isGranted.get(ip, now) !== undefined);
  }

  activeIps(now: number): string[] {
    return this.guard('list', () => this.stmt.active.all(now) as string[]);
  }

  /** The map's text, `IP<TAB>value` lines sorted by address, a page of MAP_PAGE addresses at a time, from one snapshot. */
  mapText(now: number, value: string, out: MapSink): void {
    const line = `\t${value}\n`;
    this.guard('list', () =>
      this.db.transaction(() => {
        for (let after = ''; ; ) {
          const page = this.stmt.mapPage.get(line, now, after, MAP_PAGE) as { text: string | null; last: string | null; n: number };
          if (page.text) out.append(page.text);
          if (page.n < MAP_PAGE || page.last === null) return;
          after = page.last;
        }
      })(),
    );
  }

  list(now: number): Grant[] {
    return this.guard('list', () =>
      (this.stmt.list.all(now) as GrantRow[]).map((r) => ({
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
        const rows = this.stmt.expired.all(now) as { ip: string; user: string | null; server: string | null; protocol: string | null }[];
        for (const r of rows) this.stmt.audit.run(now, 'expire', r.ip, r.user, r.server, r.protocol, null);
        this.stmt.deleteExpired.run(now);
        this.stmt.deleteStaleSessions.run(now);
        return rows.map((r) => r.ip);
      })(),
    );
  }

  nextExpiry(now: number): number | null {
    return this.guard('lookup', () => (this.stmt.next.get(now) as number | null) ?? null);
  }

  openSessions(): OpenSession[] {
    return this.guard('sessions', () => this.stmt.sessions.all() as OpenSession[]);
  }

  audit(ip: string | null, limit: number): AuditEntry[] {
    return this.guard('audit', () => (ip ? this.stmt.auditByIp.all(ip, limit) : this.stmt.auditAll.all(limit)) as AuditEntry[]);
  }

  shorten(byMs: number, maxHoldMs: number, now: number): number {
    return this.guard('shorten', () => {
      if (byMs > 0) this.stmt.shortenLogins.run(byMs);
      this.stmt.shortenHolds.run(maxHoldMs);
      return this.stmt.recomputeAll.run(now).changes;
    });
  }

  seenBetween(ip: string, since: number, before: number): boolean {
    return this.guard('audit', () => this.stmt.seenSince.get(ip, since, before) !== undefined);
  }

  manualAfter(id: number): (AuditEntry & { id: number })[] {
    return this.guard('audit', () => this.stmt.manualAfter.all(id) as (AuditEntry & { id: number })[]);
  }

  lastAuditId(): number {
    return this.guard('audit', () => (this.stmt.lastAuditId.get() as number | null) ?? 0);
  }

  note(at: number, action: string, ip: string | null, detail: string | null, ctx?: AuditContext): void {
    this.guard('audit', () => this.stmt.auditEvent.run(at, action, ip, ctx?.user ?? null, ctx?.server ?? null, ctx?.protocol ?? null, detail, ctx?.origin ?? null));
  }

  history(q: HistoryQuery): HistoryEntry[] {
    return this.guard('history', () => queryHistory(this.db, q));
  }

  pruneAudit(before: number, max: number): number {
    return this.guard('audit retention', () => this.stmt.pruneAudit.run(max, before).changes);
  }

  counts(now: number): { grants: number; sessions: number } {
    return this.guard('count', () => ({ grants: this.stmt.countGrants.get(now) as number, sessions: this.stmt.countSessions.get() as number }));
  }

  getPosition(source: string): Position | null {
    return this.guard('position', () => (this.stmt.getPos.get(source) as Position | undefined) ?? null);
  }

  setPosition(source: string, pos: Position, now: number): void {
    this.guard('position', () => this.stmt.setPos.run(source, pos.dev, pos.ino, pos.fingerprint, pos.offset, pos.line, now));
  }

  getState(key: string): string | null {
    return this.guard('state', () => (this.stmt.getState.get(key) as string | undefined) ?? null);
  }

  setState(key: string, value: string | null): void {
    this.guard('state', () => (value === null ? this.stmt.delState.run(key) : this.stmt.setState.run(key, value)));
  }

  externalVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
