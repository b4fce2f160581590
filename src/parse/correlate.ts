// Correlation state, bounded: open sessions (logout ↔ login), pending client addresses of
// two-line servers (connect → login), and logins held for a possible veto. Oldest dropped first.
// The engine decides what a line means; this module only remembers across lines.
import type { Found, Protocol } from '../core/types.js';

export interface SessionInfo {
  ip: string;
  user: string | null;
  protocol: Protocol | null;
}

interface Held {
  found: Found;
  /** The login line's own time, or the reference time when it had none. */
  at: number;
  /** The reference (clock) time when it was held. */
  heldAt: number;
  holdMs: number;
}

export interface CorrelatorLimits {
  /** Most open sessions remembered for logout correlation (also the most pid aliases). */
  maxSessions?: number;
  /** Most pending `connect` lines remembered for two-line servers. */
  maxLinks?: number;
  /** Most logins held for a possible veto. */
  maxHolds?: number;
}

/** A Map that forgets its oldest entry past `max`; a re-set key counts as new. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  take(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

/**
 * A copy of a string kept for long (sessions, links): a slice of a line keeps the whole text the
 * line was cut from alive in V8 (a read of up to 1 MiB), and an open session can live for hours.
 */
function own(text: string): string {
  return (' ' + text).slice(1);
}

export class Correlator {
  private readonly sessions: BoundedMap<SessionInfo>;
  private readonly links: BoundedMap<{ ip: string; at: number }>;
  private readonly holds: BoundedMap<Held>;
  /** A mail process's pid key → the session key of the login that started it (see `alias`). */
  private readonly aliases: BoundedMap<string>;
  /** Moves whenever a link or a hold is made or used: the pending state must be stored again. */
  private pendingMoves = 0;

  constructor(limits: CorrelatorLimits = {}) {
    this.sessions = new BoundedMap(limits.maxSessions ?? 100_000);
    this.aliases = new BoundedMap(limits.maxSessions ?? 100_000);
    this.links = new BoundedMap(limits.maxLinks ?? 10_000);
    this.holds = new BoundedMap(limits.maxHolds ?? 10_000);
  }

  /** True while a login waits for its confirmation (lines then matter for their time alone). */
  get holding(): boolean {
    return this.holds.size > 0;
  }

  openSession(key: string, info: SessionInfo): void {
    this.sessions.set(own(key), { ip: own(info.ip), user: info.user === null ? null : own(info.user), protocol: info.protocol });
  }

  closeSession(key: string): SessionInfo | undefined {
    return this.sessions.take(key);
  }

  /**
   * A login that names both its session and the process that serves it (Dovecot's mpid=): a
   * session end that only names the process (mail_log_prefix without %{session}) finds it. A pid
   * used again by a later login points to that one.
   */
  alias(pidKey: string, sessionKey: string): void {
    this.aliases.set(own(pidKey), own(sessionKey));
  }

  /** The session key a session end names, through its pid alias when it has one (used up). */
  resolve(key: string): string {
    return this.aliases.take(key) ?? key;
  }

  link(key: string, ip: string, at: number): void {
    this.pendingMoves++;
    this.links.set(own(key), { ip: own(ip), at });
  }

  hasLink(key: string): boolean {
    return this.links.get(key) !== undefined;
  }

  takeLink(key: string): { ip: string; at: number } | undefined {
    this.pendingMoves++;
    return this.links.take(key);
  }

  /** Holds a login; returns the one held before under the same key (a new session: it counts). */
  hold(key: string, found: Found, at: number, heldAt: number, holdMs: number): Found | undefined {
    this.pendingMoves++;
    const before = this.holds.take(key);
    this.holds.set(own(key), { found, at, heldAt, holdMs });
    return before?.found;
  }

  /** Logins released but not stored: held again, due at the next look. */
  holdAgain(found: readonly Found[]): void {
    for (const f of found) if (f.event.session) this.holds.set(f.event.session, { found: f, at: 0, heldAt: 0, holdMs: 0 });
    this.pendingMoves++;
  }

  /** The held login of a session that ended without a refusal: it counts. */
  confirm(key: string): Found | undefined {
    this.pendingMoves++;
    return this.holds.take(key)?.found;
  }

  /** The server refused a held login: it is dropped with its session. */
  veto(key: string): Found | undefined {
    this.pendingMoves++;
    const held = this.holds.take(key);
    if (held) this.sessions.delete(key);
    return held?.found;
  }

  /**
   * Held logins that are due, by a line's own time or by the clock. Holds are kept in the order
   * they were made, so the scan stops at the first one not yet due: one check per line.
   */
  due(lineTime: number | null, nowMs: number, out: Found[]): void {
    for (const [key, h] of this.holds.entries()) {
      const byLine = lineTime !== null && lineTime - h.at >= h.holdMs;
      if (!byLine && nowMs - h.heldAt < h.holdMs) break;
      this.pendingMoves++;
      this.holds.delete(key);
      out.push(h.found);
    }
  }

  /**
   * What is pending between lines — client addresses waiting for their login line, logins held
   * for a veto — to be stored with the log position (a restart must not lose them), or null
   * when nothing moved since the last call. The newest `max` of each are kept.
   */
  pending(max = 1000): { state: PendingState; moves: number } | null {
    if (this.pendingMoves === this.storedMoves) return null;
    return {
      moves: this.pendingMoves,
      state: {
        links: [...this.links.entries()].slice(-max).map(([k, l]) => [k, l.ip, l.at]),
        holds: [...this.holds.entries()].slice(-max).map(([k, h]) => [k, h.found, h.at, h.holdMs]),
      },
    };
  }

  /** The pending state of `moves` is committed (called after the transaction that stored it). */
  stored(moves: number): void {
    this.storedMoves = moves;
  }

  private storedMoves = 0;

  /** Brings back a stored pending state (at start); a hold's clock starts again at `now`. */
  restore(state: PendingState, now: number): void {
    for (const [k, ip, at] of state.links) this.links.set(k, { ip, at });
    for (const [k, found, at, holdMs] of state.holds) this.holds.set(k, { found, at, heldAt: now, holdMs });
    this.storedMoves = this.pendingMoves;
  }
}

export interface PendingState {
  links: [key: string, ip: string, at: number][];
  holds: [key: string, found: Found, at: number, holdMs: number][];
}
