// The automatic brake's trigger: counts new grants (not renewals) in a sliding window, over
// all logs and per log and parser, and says when a limit is passed, with the lines that did it.

export interface Rate {
  /** More than `count` new grants … */
  count: number;
  /** … within this many ms trips the brake. */
  perMs: number;
  /** As the admin wrote it, e.g. `300/1m`. */
  text: string;
}

export interface RateGuardOptions {
  /** Over all logs together; null: no limit. */
  total: Rate | null;
  /** For each log and parser on its own; null: no limit. */
  perSource: Rate | null;
}

interface Entry {
  at: number;
  where: string;
  text: string;
}

export interface Trip {
  /** What tripped, for the log: `31 new grants within 5s from /var/log/mail.log (dovecot), limit 30/5s`. */
  reason: string;
  /** The log lines in the window that tripped it (where: text). */
  lines: string[];
}

/** Entries inside one window; holds at most count + 1 of them. */
class Window {
  private entries: Entry[] = [];
  constructor(private readonly rate: Rate) {}

  add(e: Entry): Entry[] | null {
    this.entries.push(e);
    if (this.entries.length > 1 && e.at < this.entries[this.entries.length - 2]!.at) this.entries.sort((a, b) => a.at - b.at);
    const newest = this.entries[this.entries.length - 1]!.at;
    let drop = 0;
    while (drop < this.entries.length && this.entries[drop]!.at <= newest - this.rate.perMs) drop++;
    if (this.entries.length - drop > this.rate.count + 1) drop = this.entries.length - this.rate.count - 1;
    if (drop) this.entries = this.entries.slice(drop);
    return this.entries.length > this.rate.count ? this.entries : null;
  }

  clear(): void {
    this.entries = [];
  }
}

export class RateGuard {
  private readonly total: Window | null;
  private readonly perSource = new Map<string, Window>();

  constructor(private readonly opts: RateGuardOptions) {
    this.total = opts.total ? new Window(opts.total) : null;
  }

  /**
   * Records one new grant made at `at` (its event time, so a backlog read after a restart
   * counts at the rate it was logged, not at the rate it is read). Returns a trip or null.
   */
  record(at: number, source: string, where: string, text: string): Trip | null {
    // A bounded copy: a slice of the line would keep the whole read chunk (up to 4 MiB) alive.
    const e = { at, where, text: (' ' + text.slice(0, 300)).slice(1) };
    const per = this.opts.perSource;
    if (per) {
      let w = this.perSource.get(source);
      if (!w) this.perSource.set(source, (w = new Window(per)));
      const hit = w.add(e);
      if (hit) return trip(`${hit.length} new grants within ${span(hit)} from ${source}, limit ${per.text} per log and parser`, hit);
    }
    const hit = this.total?.add(e);
    if (hit) return trip(`${hit.length} new grants within ${span(hit)} over all logs, limit ${this.opts.total!.text}`, hit);
    return null;
  }

  /** After a brake: counting starts again from nothing. */
  reset(): void {
    this.total?.clear();
    this.perSource.clear();
  }
}

function span(entries: Entry[]): string {
  const ms = entries[entries.length - 1]!.at - entries[0]!.at;
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

const SHOWN = 6;

function trip(reason: string, entries: Entry[]): Trip {
  const show = (e: Entry) => `${e.where}: ${e.text}`;
  const lines = entries.length <= SHOWN ? entries.map(show) : [...entries.slice(0, SHOWN / 2).map(show), `… ${entries.length - SHOWN} more …`, ...entries.slice(-SHOWN / 2).map(show)];
  return { reason, lines };
}

/** Parses `N/DURATION` (e.g. `300/1m`), or `none`. Throws a message for the config error. */
export function parseRate(raw: string, duration: (d: string) => number): Rate | null {
  const v = raw.trim();
  if (v === 'none') return null;
  const m = /^(\d+)\s*\/\s*(\S+)$/.exec(v);
  if (!m) throw `"${raw}" is not a rate; write it like 300/1m (at most 300 new grants a minute), or none`;
  const count = Number(m[1]);
  if (!Number.isSafeInteger(count) || count < 1) throw `"${raw}": the count must be at least 1`;
  return { count, perMs: duration(m[2]!), text: v };
}
