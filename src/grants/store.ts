// The grant store interface: grants with expiry, open sessions, log positions and the audit trail.
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

export interface Store {
  /** Records a login: creates or renews the grant. */
  login(rec: LoginRecord, graceMs: number, maxHoldMs: number): 'grant' | 'renew';
  /** Closes a session; the grace then counts from `at`. Returns the IP whose session closed. */
  logout(session: string, at: number, graceMs: number): string | null;
  /** A grant by hand, valid until `until` (never shortens a longer one). */
  grantManual(ip: string, until: number, now: number, who: string): 'grant' | 'renew';
  revoke(ip: string, now: number, who: string): boolean;
  flush(now: number, who: string): number;
  isGranted(ip: string, now: number): boolean;
  /** Addresses granted at `now`, sorted: the content of the map. */
  activeIps(now: number): string[];
  list(now: number): Grant[];
  /** Deletes grants and session holds that ended by `now`; returns the expired addresses. */
  expire(now: number): string[];
  nextExpiry(now: number): number | null;
  openSessions(): OpenSession[];
  audit(ip: string | null, limit: number): AuditEntry[];
  getPosition(source: string): Position | null;
  setPosition(source: string, pos: Position, now: number): void;
  getState(key: string): string | null;
  setState(key: string, value: string | null): void;
  /** Runs `fn` in one transaction: all of it is stored, or none. */
  transaction<T>(fn: () => T): T;
  /** Changes when another process commits (PRAGMA data_version). */
  externalVersion(): number;
  close(): void;
}
