// The grant store interface: grants with expiry, open sessions, log positions and the audit trail.
import type { MapSink } from '../publish/map-content.js';
import type { Grant, Protocol } from '../core/types.js';

export interface LoginRecord {
  ip: string;
  user: string | null;
  server: string;
  protocol: Protocol | null;
  /** When the login happened (ms). */
  at: number;
  /** Session key, when the server logs session ends; the grant is then held until the logout. */
  session: string | null;
  /** Where the line came from, for the audit trail. */
  origin: string;
}

export interface Position {
  dev: string;
  ino: string;
  fingerprint: string | null;
  offset: number;
  line: number;
}

export interface OpenSession {
  key: string;
  ip: string;
  user: string | null;
  protocol: Protocol | null;
}

export interface AuditEntry {
  at: number;
  action: string;
  ip: string | null;
  user: string | null;
  server: string | null;
  detail: string | null;
}

/** The parsed event behind an audit row: who, which server, and the log line (`file:line`). */
export interface AuditContext {
  user: string | null;
  server: string;
  protocol: Protocol | null;
  origin: string;
}

/** An audit row as `popgate history` shows it. */
export interface HistoryEntry extends AuditEntry {
  id: number;
  protocol: string | null;
  origin: string | null;
}

/** Which rows `history` returns: the newest `limit` that match, oldest first. */
export interface HistoryQuery {
  ip?: string;
  user?: string;
  /** Rows at or after this time (ms). */
  since?: number;
  actions?: readonly string[];
  limit: number;
}

/** What a login or logout did to one address's expiry (null: no grant row before / after). */
export interface Change {
  ip: string;
  before: number | null;
  after: number | null;
}

export interface Store {
  /** Human name of the store for messages (its path or URL). */
  readonly path: string;
  /** Records a login: creates or renews the grant. */
  login(rec: LoginRecord, graceMs: number, maxHoldMs: number): Change & { action: 'grant' | 'renew' };
  /** Closes a session; the grace then counts from `at`. Null when no such session was open. */
  logout(session: string, at: number, graceMs: number, ctx?: AuditContext): Change | null;
  /** A grant by hand, valid until `until` (never shortens a longer one). */
  grantManual(ip: string, until: number, now: number, who: string): 'grant' | 'renew';
  revoke(ip: string, now: number, who: string): boolean;
  flush(now: number, who: string): number;
  isGranted(ip: string, now: number): boolean;
  /** Addresses granted at `now`, sorted. */
  activeIps(now: number): string[];
  /** Writes the access map's text for the grants active at `now` into `out`: `IP<TAB>value` lines, sorted. */
  mapText(now: number, value: string, out: MapSink): void;
  list(now: number): Grant[];
  /** Deletes grants and session holds that ended by `now`; returns the expired addresses. */
  expire(now: number): string[];
  nextExpiry(now: number): number | null;
  openSessions(): OpenSession[];
  audit(ip: string | null, limit: number): AuditEntry[];
  /**
   * A reload shortened the grace by `byMs` (0: unchanged) or max_hold to `maxHoldMs`: existing
   * grants and open sessions shortened to match. Returns how many grants were looked at.
   */
  shorten(byMs: number, maxHoldMs: number, now: number): number;
  /** Whether `ip` had a grant (new or renewed) after `since` and before `before`, by the audit trail. */
  seenBetween(ip: string, since: number, before: number): boolean;
  /** Audit rows of changes made by hand (grant, revoke, flush, brake, release) after row `id`. */
  manualAfter(id: number): (AuditEntry & { id: number })[];
  lastAuditId(): number;
  /** Writes one audit row for something that is not a grant change (a release, a refusal). */
  note(at: number, action: string, ip: string | null, detail: string | null, ctx?: AuditContext): void;
  /** Audit rows for `popgate history`. */
  history(q: HistoryQuery): HistoryEntry[];
  /** Deletes at most `max` of the oldest audit rows written before `before`; returns how many. */
  pruneAudit(before: number, max: number): number;
  /** Active grants at `now` and open sessions, counted (`popgate status`, metrics). */
  counts(now: number): { grants: number; sessions: number };
  getPosition(source: string): Position | null;
  setPosition(source: string, pos: Position, now: number): void;
  getState(key: string): string | null;
  setState(key: string, value: string | null): void;
  /** Runs `fn` in one transaction: all of it is stored, or none. */
  transaction<T>(fn: () => T): T;
  /** Housekeeping the daemon runs off the hot path (SQLite: a WAL checkpoint). */
  checkpoint(): void;
  /** The identity of the backing file (`dev:ino`), null when there is none: noticed when it is replaced. */
  fileId(): string | null;
  /** Changes when another process commits (PRAGMA data_version). */
  externalVersion(): number;
  close(): void;
}
