// Turns parsed events into grants: the time rules, the grant view's decision, sessions, and one
// log line each. Runs inside the batch's transaction; the caller learns what changed.
import type { Logger } from 'winston';
import type { AuthEvent, Found, LogLine } from '../core/types.js';
import { applyBrake, type BrakeState } from './brake.js';
import type { RateGuard, Trip } from './rate-guard.js';
import type { Change, Store } from './store.js';
import type { GrantView } from './view.js';

/** An address granted this recently is no stranger: it does not count towards the automatic brake. */
export const BRAKE_MEMORY_MS = 30 * 86_400_000;

export interface GranterOptions {
  graceMs: number;
  maxHoldMs: number;
  /** Counts new grants for the automatic emergency brake; absent: no automatic brake. */
  guard?: RateGuard | null;
}

/** DNSBL answers for a batch's logins, looked up before its transaction: reason, or null when clean. */
export type Verdicts = ReadonlyMap<string, string | null>;

export type Outcome =
  /** `tripped`: this grant set off the automatic brake, which revoked every grant. */
  ({ action: 'grant' | 'renew' | 'logout'; tripped?: boolean } & Change) | { action: 'refused' | 'stale' | 'ignored'; why: string };

/**
 * When an event counts: a live line at the moment it was read; a backlog line at its own
 * timestamp, never later than now. A backlog line without a timestamp counts nothing.
 */
export function eventTime(ev: AuthEvent, line: LogLine, now: number): number | null {
  if (line.live) return line.readAt;
  if (ev.time === null) return null;
  return Math.min(ev.time, now);
}

export class Granter {
  private refusedWhileBraked = 0;
  /** Inside batch(): the brake as read once for the whole batch. */
  private batchBrake: BrakeState | null | undefined = undefined;

  constructor(
    private readonly store: Store,
    private readonly view: GrantView,
    private opts: GranterOptions,
    private readonly logger: Logger,
  ) {}

  reconfigure(opts: GranterOptions): void {
    this.opts = opts;
  }

  /**
   * Runs one batch (inside its transaction) reading the brake once for all of its events. The
   * transaction's snapshot keeps that exact: a brake committed meanwhile by another process makes
   * this transaction fail, and the batch is retried.
   */
  batch<T>(fn: () => T): T {
    this.batchBrake = this.view.brake();
    try {
      return fn();
    } finally {
      this.batchBrake = undefined;
    }
  }

  /** A login worth a DNSBL lookup: young enough to grant, and not refused by the cheap checks. */
  wantsLookup({ event, line }: Found, now: number): boolean {
    const at = event.event === 'login' ? eventTime(event, line, now) : null;
    return at !== null && at + this.opts.graceMs > now && this.view.refusal(event.ip) === null;
  }

  /**
   * Applies one event. With DNSBL zones set (`verdicts` given), a login without a verdict is
   * refused: the exclusions changed while the lookups ran, and nothing unchecked is granted.
   */
  apply({ event: ev, line }: Found, now: number, verdicts: Verdicts | null): Outcome {
    const at = eventTime(ev, line, now);
    const where = `${line.origin}:${line.lineNo}`;
    if (at === null) return { action: 'ignored', why: 'backlog line without a timestamp' };
    if (ev.event === 'logout') {
      if (!ev.session) return { action: 'ignored', why: 'logout without a session' };
      const change = this.store.logout(ev.session, at, this.opts.graceMs, { user: ev.user, server: ev.server, protocol: ev.protocol, origin: where });
      if (!change) return { action: 'ignored', why: 'no open session' };
      // Built only when shown: one logout per login, and the hot path of a catch-up.
      if (this.logger.isDebugEnabled()) this.logger.debug(`logout ${change.ip} user=${ev.user ?? '-'} (${ev.server}, ${where}); grace from ${new Date(at).toISOString()}`);
      return { action: 'logout', ...change };
    }
    if (at + this.opts.graceMs <= now) return { action: 'stale', why: 'login older than the grace' };
    const brake = this.batchBrake === undefined ? this.view.brake() : this.batchBrake;
    const why = this.view.refusal(ev.ip, brake) ?? (verdicts ? (verdicts.get(ev.ip) ?? (verdicts.has(ev.ip) ? null : 'DNSBL not checked')) : null);
    if (why) return this.refuse(ev, at, where, why, brake);
    this.refusedWhileBraked = 0;
    const change = this.store.login({ ip: ev.ip, user: ev.user, server: ev.server, protocol: ev.protocol, at, session: ev.session, origin: where }, this.opts.graceMs, this.opts.maxHoldMs);
    // Renewals read from a backlog go to debug: after a restart they are most of the lines
    // (thousands, at ~18 µs each in winston), and the audit trail keeps every one of them.
    const level = change.action === 'renew' && !line.live ? 'debug' : 'info';
    if (this.logger.isLevelEnabled(level)) {
      this.logger.log(level, `${change.action} ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where})${line.live ? '' : ' from backlog'}`);
    }
    if (change.action === 'grant' && this.opts.guard && this.counts(ev.ip, at, line)) {
      const trip = this.opts.guard.record(at, `${line.origin} (${ev.server})`, where, line.text);
      if (trip) {
        this.brake(trip, now);
        return { ...change, tripped: true };
      }
    }
    return change;
  }

  /**
   * Whether a new grant counts towards the automatic brake. Not from a backlog (what the server
   * wrote while popgate was down: a cold start of a busy server is hundreds of "new" addresses a
   * minute), and not for an address granted within BRAKE_MEMORY_MS (a restart after a flush).
   * A storm written while popgate runs — forged or replayed lines — still counts in full.
   */
  private counts(ip: string, at: number, line: LogLine): boolean {
    return line.live && !this.store.seenBetween(ip, at - BRAKE_MEMORY_MS, at);
  }

  /** Refusals go to the log and the audit trail; behind the brake, one in 100 of each. */
  private refuse(ev: AuthEvent, at: number, where: string, why: string, brake: BrakeState | null): Outcome {
    const ctx = { user: ev.user, server: ev.server, protocol: ev.protocol, origin: where };
    if (!brake) {
      this.logger.info(`refused ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where}): ${why}`);
      this.store.note(at, 'refuse', ev.ip, why, ctx);
    } else if (this.refusedWhileBraked++ % 100 === 0) {
      // One line per 100 refusals: a login storm behind the brake must not flood the log.
      this.logger.warn(
        `refused ${ev.ip} user=${ev.user ?? '-'} (${where}): emergency brake on since ${new Date(brake.since).toISOString()} (${this.refusedWhileBraked} login(s) refused so far); popgate release ends it`,
      );
      this.store.note(at, 'refuse', ev.ip, `${why} (${this.refusedWhileBraked} login(s) refused so far)`, ctx);
    }
    return { action: 'refused', why };
  }

  /** The automatic brake: every grant revoked in this same transaction, said loudly. */
  private brake(trip: Trip, now: number): void {
    const { revoked } = applyBrake(this.store, now, 'auto', trip.reason);
    if (this.batchBrake !== undefined) this.batchBrake = this.view.brake();
    this.opts.guard?.reset();
    this.logger.error(`EMERGENCY BRAKE applied automatically: ${trip.reason}; ${revoked} grant(s) revoked, nothing is granted until "popgate release"; the lines that tripped it:`);
    for (const l of trip.lines) this.logger.error(`  ${l}`);
  }
}
