// Turns parsed events into grants: the time rules, the refusal policy, sessions, and one log line each.
import type { Logger } from 'winston';
import type { AuthEvent, LogLine } from '../core/types.js';
import type { GrantPolicy } from './policy.js';
import type { Store } from './store.js';

export interface GranterOptions {
  graceMs: number;
  maxHoldMs: number;
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

  reconfigure(policy: GrantPolicy, opts: GranterOptions): void {
    this.policy = policy;
    this.opts = opts;
  }

  /** Applies one event; call inside the batch transaction. */
  apply(ev: AuthEvent, line: LogLine, now: number): Outcome {
    const at = eventTime(ev, line, now);
    const where = `${line.origin}:${line.lineNo}`;
    if (at === null) return { action: 'ignored', why: 'backlog line without a timestamp' };
    if (ev.event === 'logout') {
      if (!ev.session) return { action: 'ignored', why: 'logout without a session' };
      const ip = this.store.logout(ev.session, at, this.opts.graceMs);
      if (!ip) return { action: 'ignored', why: 'no open session' };
      this.logger.debug(`logout ${ip} user=${ev.user ?? '-'} (${ev.server}, ${where}); grace from ${new Date(at).toISOString()}`);
      return { action: 'logout', at };
    }
    if (at + this.opts.graceMs <= now) return { action: 'stale', why: 'login older than the grace' };
    const why = this.policy.refuse(ev.ip);
    if (why) {
      this.logger.info(`refused ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where}): ${why}`);
      return { action: 'refused', why };
    }
    const action = this.store.login(
      { ip: ev.ip, user: ev.user, server: ev.server, protocol: ev.protocol, at, session: ev.session, origin: where },
      this.opts.graceMs,
      this.opts.maxHoldMs,
    );
    const verb = action === 'grant' ? 'grant' : 'renew';
    this.logger.info(`${verb} ${ev.ip} user=${ev.user ?? '-'} (${ev.server} ${ev.protocol ?? ''} login, ${where})${line.live ? '' : ' from backlog'}`);
    return { action, at };
  }
}
