// Turns parsed events into grants: the time rules, the refusal policy, sessions, and one log line each.
import type { Logger } from 'winston';
import type { AuthEvent, LogLine } from '../core/types.js';
import { applyBrake, brakeState, type BrakeState } from './brake.js';
import type { GrantPolicy } from './policy.js';
import type { RateGuard, Trip } from './rate-guard.js';
import type { Store } from './store.js';

export interface GranterOptions {
  graceMs: number;
  maxHoldMs: number;
  /** Counts new grants for the automatic emergency brake; absent: no automatic brake. */
  guard?: RateGuard | null;
}

export type Outcome =
  | { action: 'grant' | 'renew'; at: number }
  | { action: 'logout'; at: number }
  | { action: 'refused' | 'stale' | 'ignored'; why: string };

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
  constructor(
    private readonly store: Store,
    private policy: GrantPolicy,
    private opts: GranterOptions,
    private readonly logger: Logger,
  ) {}

  private refusedWhileBraked = 0;
  /** Inside batch(): the brake as read once for the whole batch (undefined: read per event). */
  private batchBrake: BrakeState | null | undefined = undefined;

  /**
   * Runs one batch (call it inside the batch's transaction) reading the brake once for all of
   * its events instead of once per login. The transaction's snapshot keeps that exact: a brake
   * committed by another process meanwhile makes this transaction fail and the batch is retried.
   */
  batch<T>(fn: () => T): T {
    this.batchBrake = brakeState(this.store);
    try {
      return fn();
    } finally {
      this.batchBrake = undefined;
    }
  }

  reconfigure(policy: GrantPolicy, opts: GranterOptions): void {
    this.policy = policy;
    this.opts = opts;
  }

  /**
   * Whether a login may still be granted after the cheap checks (time, policy): the daemon
   * asks the DNSBL only about those.
   */
  candidate(ev: AuthEvent, line: LogLine, now: number): boolean {
    if (ev.event !== 'login') return false;
    const at = eventTime(ev, line, now);
    return at !== null && at + this.opts.graceMs > now && this.policy.refuse(ev.ip) === null;
  }

  /**
   * Applies one event; call inside the batch transaction. `veto` is a reason found before the
   * transaction (a DNSBL listing) that refuses this login.
   */
  apply(ev: AuthEvent, line: LogLine, now: number, veto: string | null = null): Outcome {
    const at = eventTime(ev, line, now);
    const where = `${line.origin}:${line.lineNo}`;
    if (at === null) return { action: 'ignored', why: 'backlog line without a timestamp' };
    if (ev.event === 'logout') {
      if (!ev.session) return { action: 'ignored', why: 'logout without a session' };
      const ip = this.store.logout(ev.session, at, this.opts.graceMs);
      if (!ip) return { action: 'ignored', why: 'no open session' };
      // Built only when shown: one logout per login, and the hot path of a catch-up.
      if (this.logger.isDebugEnabled()) this.logger.debug(`logout ${ip} user=${ev.user ?? '-'} (${ev.server}, ${where}); grace from ${new Date(at).toISOString()}`);
      return { action: 'logout', at };
    }
    if (at + this.opts.graceMs <= now) return { action: 'stale', why: 'login older than the grace' };
    const why = this.policy.refuse(ev.ip);
    if (why) {
      this.logger.info(`refused ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where}): ${why}`);
      return { action: 'refused', why };
    }
    const brake = this.batchBrake === undefined ? brakeState(this.store) : this.batchBrake;
    if (brake) {
      // One line per 100 refusals: a login storm behind the brake must not flood the log.
      if (this.refusedWhileBraked++ % 100 === 0) {
        this.logger.warn(`refused ${ev.ip} user=${ev.user ?? '-'} (${where}): emergency brake on since ${new Date(brake.since).toISOString()} (${this.refusedWhileBraked} login(s) refused so far); popgate release ends it`);
      }
      return { action: 'refused', why: 'emergency brake on' };
    }
    this.refusedWhileBraked = 0;
    if (veto) {
      this.logger.info(`refused ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where}): ${veto}`);
      return { action: 'refused', why: veto };
    }
    const action = this.store.login(
      { ip: ev.ip, user: ev.user, server: ev.server, protocol: ev.protocol, at, session: ev.session, origin: where },
      this.opts.graceMs,
      this.opts.maxHoldMs,
    );
    const verb = action === 'grant' ? 'grant' : 'renew';
    // Renewals read from a backlog go to debug: after a restart they are most of the lines
    // (thousands, at ~18 µs each in winston), and the audit trail keeps every one of them.
    const level = action === 'renew' && !line.live ? 'debug' : 'info';
    if (this.logger.isLevelEnabled(level)) {
      this.logger.log(level, `${verb} ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where})${line.live ? '' : ' from backlog'}`);
    }
    if (action === 'grant') {
      const trip = this.opts.guard?.record(at, `${line.origin} (${ev.server})`, where, line.text);
      if (trip) this.brake(trip, now);
    }
    return { action, at };
  }

  /** The automatic brake: every grant revoked in this same transaction, said loudly. */
  private brake(trip: Trip, now: number): void {
    const { revoked } = applyBrake(this.store, now, 'auto', trip.reason);
    if (this.batchBrake !== undefined) this.batchBrake = brakeState(this.store);
    this.opts.guard?.reset();
    this.logger.error(`EMERGENCY BRAKE applied automatically: ${trip.reason}; ${revoked} grant(s) revoked, nothing is granted until "popgate release"; the lines that tripped it:`);
    for (const l of trip.lines) this.logger.error(`  ${l}`);
  }
}
