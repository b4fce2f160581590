// What the daemon counts while it runs, for `popgate status` and the metrics: per log (lines,
// bytes, the last line, rates), events per server, outcomes, refusals by reason. Fed once per
// batch (a handful of additions), never per line, so it costs nothing worth measuring.
import type { Found } from '../core/types.js';
import type { Outcome } from '../grants/granter.js';
import type { Position } from '../grants/store.js';

const SLOT_MS = 10_000;
const SLOTS = 30;

/** Counts in 10-second slots over the last 5 minutes. */
export class Rate {
  private readonly counts = new Float64Array(SLOTS);
  private readonly slotOf = new Float64Array(SLOTS).fill(-1);

  add(now: number, n: number): void {
    const slot = Math.floor(now / SLOT_MS);
    const i = slot % SLOTS;
    if (this.slotOf[i] !== slot) {
      this.slotOf[i] = slot;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** Per second over the last `windowMs` (whole slots, the current one included). */
  perSecond(now: number, windowMs: number): number {
    const last = Math.floor(now / SLOT_MS);
    const slots = Math.min(SLOTS, Math.max(1, Math.round(windowMs / SLOT_MS)));
    let sum = 0;
    for (let k = 0; k < slots; k++) {
      const slot = last - k;
      if (this.slotOf[slot % SLOTS] === slot) sum += this.counts[slot % SLOTS]!;
    }
    // The current slot is partly over: divide by the time the window really covers.
    const covered = (slots - 1) * SLOT_MS + (now - last * SLOT_MS);
    return covered > 0 ? (sum * 1000) / covered : 0;
  }
}

export interface LogCounters {
  path: string;
  /** Lines handed to the pipeline since the daemon started. */
  lines: number;
  logins: number;
  /** The stored position after the last batch: file identity and the byte offset read up to. */
  dev: string | null;
  ino: string | null;
  offset: number;
  /** Offset at start (the stored position), for the catch-up's progress. */
  startOffset: number;
  startedAt: number;
  lastAt: number | null;
  lastLine: string | null;
  /** When the first pass over the backlog ended; null while catching up. */
  caughtUpAt: number | null;
  lineRate: Rate;
  loginRate: Rate;
}

/** Why a login was refused, as a small fixed set (metric label): from the refusal's text. */
export type RefusalKind = 'brake' | 'deny_file' | 'excluded' | 'mynetworks' | 'dnsbl' | 'never_client' | 'other';

export function refusalKind(why: string): RefusalKind {
  if (why.startsWith('emergency brake')) return 'brake';
  // Deny files name the file and line they matched: `in excluded network N (FILE:LINE)`.
  if (/^in excluded network \S+ \(.+:\d+\)$/.test(why)) return 'deny_file';
  if (why.startsWith('in excluded network')) return 'excluded';
  if (why.startsWith('in Postfix mynetworks')) return 'mynetworks';
  if (/^(listed in |DNSBL )/.test(why)) return 'dnsbl';
  if (/^(unspecified|broadcast|multicast) address$|^not an address$/.test(why)) return 'never_client';
  return 'other';
}

export type OutcomeKind = 'grant' | 'renew' | 'logout' | 'refused' | 'stale' | 'ignored';

export class DaemonStats {
  readonly startedAt: number;
  readonly logs = new Map<string, LogCounters>();
  /** Events by server, then kind (login, logout). */
  readonly events = new Map<string, { login: number; logout: number }>();
  readonly outcomes: Record<OutcomeKind, number> = { grant: 0, renew: 0, logout: 0, refused: 0, stale: 0, ignored: 0 };
  readonly refusals: Record<RefusalKind, number> = { brake: 0, deny_file: 0, excluded: 0, mynetworks: 0, dnsbl: 0, never_client: 0, other: 0 };
  /** Times the automatic brake tripped. */
  trips = 0;

  constructor(now = Date.now()) {
    this.startedAt = now;
  }

  /** A log starts being followed; `position` is the one stored by the last run. */
  started(path: string, position: Position | null, now = Date.now()): void {
    const offset = position?.offset ?? 0;
    this.logs.set(path, {
      path,
      lines: 0,
      logins: 0,
      dev: position?.dev ?? null,
      ino: position?.ino ?? null,
      offset,
      startOffset: offset,
      startedAt: now,
      lastAt: null,
      lastLine: null,
      caughtUpAt: null,
      lineRate: new Rate(),
      loginRate: new Rate(),
    });
  }

  /** Told when a log has caught up with its backlog (the progress line). */
  onCaughtUp: ((log: LogCounters) => void) | null = null;

  caughtUp(path: string, now = Date.now()): void {
    const log = this.logs.get(path);
    if (!log || log.caughtUpAt !== null) return;
    log.caughtUpAt = now;
    this.onCaughtUp?.(log);
  }

  stopped(path: string): void {
    this.logs.delete(path);
  }

  /** One batch of a log, after the pipeline handled it. */
  batch(path: string, lines: readonly { text: string; readAt: number }[], position: Position | null): void {
    const log = this.logs.get(path);
    const last = lines[lines.length - 1];
    if (!log || !last) return;
    log.lines += lines.length;
    log.lineRate.add(last.readAt, lines.length);
    log.lastAt = last.readAt;
    // A bounded copy: a slice would keep the whole read chunk (up to 1 MiB) alive.
    log.lastLine = (' ' + last.text.slice(0, 300)).slice(1);
    if (position) {
      log.dev = position.dev;
      log.ino = position.ino;
      log.offset = position.offset;
    }
  }

  /** The outcomes of one committed batch (`source` null: held logins the clock released). */
  outcome(source: string | null, found: readonly Found[], outs: readonly Outcome[], now = Date.now()): void {
    let logins = 0;
    for (let i = 0; i < found.length; i++) {
      const ev = found[i]!.event;
      let byKind = this.events.get(ev.server);
      if (!byKind) this.events.set(ev.server, (byKind = { login: 0, logout: 0 }));
      byKind[ev.event]++;
      if (ev.event === 'login') logins++;
      const out = outs[i];
      if (!out) continue;
      this.outcomes[out.action]++;
      if (out.action === 'refused') this.refusals[refusalKind(out.why)]++;
      if ('tripped' in out && out.tripped) this.trips++;
    }
    const log = source === null ? undefined : this.logs.get(source);
    if (log && logins) {
      log.logins += logins;
      log.loginRate.add(now, logins);
    }
  }
}
