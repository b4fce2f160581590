// Runs parser specs over log lines: prefix split, prefilter by program tag and fixed strings,
// anchored rules, correlation by key (sessions, connect → login links, held logins and vetoes).
import type { AuthEvent, Protocol } from '../core/types.js';
import { canonicalIp } from '../net/ip.js';
import { BoundedMap, dueHolds, type Held, type SessionInfo } from './correlate.js';
import { journalPrefix } from './journal.js';
import { splitPrefix, type Prefix } from './prefix.js';
import type { ParserSpec, Rule } from './spec.js';
import { TagFilter } from './tag-filter.js';
import { parseStamp } from './timestamps.js';

/** Lines longer than this are never parsed: no server writes a login line that long. */
export const MAX_LINE = 8192;

/** Per-source state: a file is either syslog (host + tag) or a server's own log, never both. */
export interface SourceState {
  syslog: boolean | null;
}

export interface Match {
  spec: ParserSpec;
  rule: Rule;
  prefix: Prefix;
  groups: Record<string, string | undefined>;
}

/** What a line did; `released` are held logins (of earlier lines) that this line confirmed. */
export type Outcome =
  | { kind: 'event'; event: AuthEvent; match: Match }
  | { kind: 'held'; event: AuthEvent; match: Match; why: string }
  | { kind: 'matched'; match: Match; why: string }
  | { kind: 'none'; why: string };
export type Verdict = Outcome & { released: readonly AuthEvent[] };

export interface EngineOptions {
  /** Most open sessions remembered for logout correlation (oldest dropped first). */
  maxSessions?: number;
  /** Most pending `connect` lines remembered for two-line servers. */
  maxLinks?: number;
  /** Most logins held for a possible veto. */
  maxHolds?: number;
}

const NOTHING: readonly AuthEvent[] = Object.freeze([]);

/** `pop3`, `imap-login`, `pop3d-ssl`, `cyrus/imaps`, `ipop3d` → the protocol they name. */
export function protocolFrom(name: string | null | undefined): Protocol | null {
  if (!name) return null;
  const p = name.toLowerCase();
  if (p.includes('pop')) return 'pop3';
  if (p.includes('imap')) return 'imap';
  return null;
}

/** Usernames are attacker-controlled text: bounded and free of control characters. */
export function cleanUser(user: string | undefined): string | null {
  if (user === undefined || user === '') return null;
  // eslint-disable-next-line no-control-regex
  return user.slice(0, 256).replace(/[\u0000-\u001f\u007f]/g, '?');
}

/**
 * A copy of a string kept for long (sessions, links): a slice of a line keeps the whole text the
 * line was cut from alive in V8 (a read of up to 4 MiB), and an open session can live for hours.
 */
function own(text: string): string {
  return (' ' + text).slice(1);
}

function hasNeedle(text: string, needles: readonly string[]): boolean {
  for (const n of needles) if (text.includes(n)) return true;
  return false;
}

export class Engine {
  readonly specs: readonly ParserSpec[];
  private readonly allNeedles: string[];
  private readonly byTag = new Map<string, ParserSpec[]>();
  private readonly byTagPrefix: { prefix: string; spec: ParserSpec }[] = [];
  private readonly untagged: ParserSpec[];
  private readonly sessions: BoundedMap<SessionInfo>;
  private readonly links: BoundedMap<{ ip: string; at: number }>;
  private readonly holds: BoundedMap<Held>;
  private readonly outbox: AuthEvent[] = [];
  /** Held logins the current line confirmed in passing (its session ended, or a new one began). */
  private readonly early: AuthEvent[] = [];
  /** Drops lines of programs no parser reads before any other work (the hot path's first step). */
  private readonly tagFilter: TagFilter;

  constructor(specs: readonly ParserSpec[], options: EngineOptions = {}) {
    this.specs = specs;
    this.allNeedles = [...new Set(specs.flatMap((s) => s.needles))];
    for (const spec of specs) {
      for (const tag of spec.tags) {
        const list = this.byTag.get(tag) ?? [];
        list.push(spec);
        this.byTag.set(tag, list);
      }
      for (const prefix of spec.tagPrefixes ?? []) this.byTagPrefix.push({ prefix, spec });
    }
    this.untagged = specs.filter((s) => s.untagged);
    this.sessions = new BoundedMap(options.maxSessions ?? 100_000);
    this.links = new BoundedMap(options.maxLinks ?? 10_000);
    this.holds = new BoundedMap(options.maxHolds ?? 10_000);
    this.tagFilter = new TagFilter(specs);
  }

  newSource(): SourceState {
    return { syslog: null };
  }

  /** Seeds an open session (from the store at start), so its logout can be tied to the IP. */
  rememberSession(key: string, ip: string, user: string | null, protocol: Protocol | null): void {
    this.sessions.set(key, { ip, user, protocol });
  }

  /**
   * Hot path: the event a line completes, or null. A login held for a veto comes out of a later
   * call (when a later line or the clock confirms it) or of `drain`; call `drain` on a timer.
   */
  feed(text: string, state: SourceState, referenceMs: number): AuthEvent | null {
    // A line can only matter without a tag we read when a held login waits for a later line's time.
    if (this.holds.size === 0 && this.outbox.length === 0 && this.tagFilter.skips(text)) return null;
    const v = this.judge(text, state, referenceMs);
    const own = v.kind === 'event' ? v.event : null;
    if (v.released.length === 0 && this.outbox.length === 0) return own;
    // Confirmed logins of earlier lines go first: a logout must never overtake its login.
    this.outbox.push(...v.released);
    if (own) this.outbox.push(own);
    return this.outbox.shift() ?? null;
  }

  /** Held logins confirmed by the clock (all of them when `nowMs` is Infinity), and any not yet handed out. */
  drain(nowMs: number): AuthEvent[] {
    const out = this.outbox.splice(0);
    if (this.holds.size) out.push(...dueHolds(this.holds, null, nowMs));
    return out;
  }

  /** The full verdict for a line, with the reason when it completes no event. */
  judge(text: string, state: SourceState, referenceMs: number): Verdict {
    const v = this.classify(text, state, referenceMs) as Verdict;
    const early = this.early.splice(0);
    if (this.holds.size === 0 || (v.kind === 'held' && this.holds.size === 1)) {
      v.released = early.length ? early : NOTHING;
      return v;
    }
    const lineTime = v.kind === 'none' ? this.lineTime(text, referenceMs) : this.stampOf(v.match.prefix, referenceMs);
    const held = v.kind === 'held' ? v.event : null;
    v.released = [...early, ...dueHolds(this.holds, lineTime, referenceMs).filter((e) => e !== held)];
    return v;
  }

  /** Consecutive lines mostly share a stamp: the last one parsed is kept. */
  private lastStamp = { text: '', kind: '', ref: 0, ms: null as number | null };

  private stampOf(prefix: Prefix, referenceMs: number): number | null {
    if (!prefix.stamp || !prefix.stampKind) return null;
    const c = this.lastStamp;
    if (c.text === prefix.stamp && c.kind === prefix.stampKind && c.ref === referenceMs) return c.ms;
    const ms = parseStamp(prefix.stampKind, prefix.stamp, referenceMs);
    this.lastStamp = { text: prefix.stamp, kind: prefix.stampKind, ref: referenceMs, ms };
    return ms;
  }

  /** The time of a line no rule matched: only needed while a login is held. */
  private lineTime(text: string, referenceMs: number): number | null {
    if (text.length > MAX_LINE || text.charCodeAt(0) === 123) return null;
    return this.stampOf(splitPrefix(text), referenceMs);
  }

  private candidates(prefix: Prefix, syslog: boolean): ParserSpec[] | undefined {
    if (prefix.tag === null) return syslog ? undefined : this.untagged;
    const exact = this.byTag.get(prefix.tag);
    if (exact || this.byTagPrefix.length === 0) return exact;
    const found = this.byTagPrefix.filter((p) => prefix.tag!.startsWith(p.prefix)).map((p) => p.spec);
    return found.length ? found : undefined;
  }

  private classify(text: string, state: SourceState, referenceMs: number): Outcome {
    if (text.length > MAX_LINE) return { kind: 'none', why: 'line too long' };
    let prefix: Prefix;
    if (text.charCodeAt(0) === 123) {
      // A MESSAGE that is not valid UTF-8 comes as an array of bytes: no needle to see in the raw text.
      if (!hasNeedle(text, this.allNeedles) && !text.includes('"MESSAGE":[')) return { kind: 'none', why: 'no parser keyword' };
      const p = journalPrefix(text);
      if (!p) return { kind: 'none', why: 'not a journald JSON entry with a MESSAGE' };
      prefix = p;
    } else prefix = splitPrefix(text);
    if (!prefix.stampKind) return { kind: 'none', why: 'no timestamp' };
    const syslog = prefix.host !== null;
    let candidates = this.candidates(prefix, syslog);
    if (!candidates) return { kind: 'none', why: prefix.tag ? `program ${prefix.tag} has no parser` : 'no program tag' };
    if (!candidates.some((s) => hasNeedle(prefix.body, s.needles))) return { kind: 'none', why: 'no parser keyword' };
    if (state.syslog === null) state.syslog = syslog;
    else if (state.syslog !== syslog) return { kind: 'none', why: 'line format differs from the rest of this log' };
    if (prefix.comm !== null) {
      const comm = prefix.comm;
      // The kernel keeps 15 characters of a process name; tag prefixes (perdition.…) count too.
      candidates = candidates.filter((s) => (s.comms ?? s.tags).some((c) => c.slice(0, 15) === comm) || (s.tagPrefixes ?? []).some((p) => comm.startsWith(p)));
      if (!candidates.length) return { kind: 'none', why: `tag ${prefix.tag} forged: the line was written by process ${comm}` };
    }
    // First rule that matches wins — except a login whose address line was not seen, which lets a
    // later rule of the same parser try (popa3d: linked form first, patched one-line form after).
    let unlinked: Outcome | null = null;
    for (const spec of candidates) {
      if (!hasNeedle(prefix.body, spec.needles)) continue;
      for (const rule of spec.rules) {
        if (rule.tag && !rule.tag.test(prefix.tag ?? '')) continue;
        const m = rule.pattern.exec(prefix.body);
        if (!m) continue;
        const match = { spec, rule, prefix, groups: m.groups ?? {} };
        if (rule.kind === 'login' && match.groups.ip === undefined && !this.hasLink(match)) {
          unlinked ??= { kind: 'matched', match, why: 'login whose client address line was not seen' };
          continue;
        }
        return this.apply(match, referenceMs);
      }
    }
    return unlinked ?? { kind: 'none', why: 'no rule matched' };
  }

  private hasLink(match: Match): boolean {
    const key = this.sessionKey(match);
    return key !== null && this.links.get(key) !== undefined;
  }

  private sessionKey(match: Match): string | null {
    const { groups, spec, prefix } = match;
    if (groups.session !== undefined) return `${spec.name}:${groups.session}`;
    const pid = groups.pid ?? (spec.sessionFromPid && prefix.pid !== null ? String(prefix.pid) : undefined);
    return pid === undefined ? null : `${spec.name}:${prefix.host ?? ''}:${pid}`;
  }

  private apply(match: Match, referenceMs: number): Outcome {
    const { spec, rule, groups, prefix } = match;
    const time = this.stampOf(prefix, referenceMs);
    if (time === null && prefix.stamp !== null) return { kind: 'matched', match, why: `"${prefix.stamp}" is not a valid date` };
    const key = this.sessionKey(match);
    const protocol = protocolFrom(groups.proto) ?? rule.protocol ?? protocolFrom(prefix.tag);
    if (rule.kind === 'connect') {
      const ip = groups.ip === undefined ? null : canonicalIp(groups.ip);
      if (!ip || !key) return { kind: 'matched', match, why: 'connect line without a valid IP or link key' };
      this.links.set(own(key), { ip: own(ip), at: time ?? referenceMs });
      return { kind: 'matched', match, why: 'client address remembered for the login line' };
    }
    if (rule.kind === 'veto') {
      const held = key ? this.holds.take(key) : undefined;
      if (!held) return { kind: 'matched', match, why: 'refusal of a login that is not held' };
      if (key) this.sessions.delete(key);
      return { kind: 'matched', match, why: `login of ${held.event.ip} refused by the server: no grant` };
    }
    if (rule.kind === 'logout') {
      if (!key) return { kind: 'matched', match, why: 'logout without a session key' };
      // The session ended with no refusal: its held login counts, before this logout.
      const held = this.holds.take(key);
      if (held) this.early.push(held.event);
      const open = this.sessions.take(key);
      if (!open) return { kind: 'matched', match, why: 'logout of a session whose login was not seen' };
      const event: AuthEvent = { event: 'logout', ip: open.ip, user: open.user, server: spec.name, protocol: open.protocol ?? protocol, time, session: key, rule: rule.id };
      return { kind: 'event', event, match };
    }
    let ip: string | null;
    if (groups.ip !== undefined) {
      ip = canonicalIp(groups.ip);
      if (!ip) return { kind: 'matched', match, why: `"${groups.ip}" is not a valid IP address` };
    } else {
      const link = key ? this.links.take(key) : undefined;
      if (!link || !key) return { kind: 'matched', match, why: 'login whose client address line was not seen' };
      const window = spec.linkWindowMs ?? 60_000;
      if (time !== null && (time - link.at > window || time < link.at - 1000)) return { kind: 'matched', match, why: 'client address line is too old for this login' };
      ip = link.ip;
    }
    const user = cleanUser(groups.user);
    if (key) this.sessions.set(own(key), { ip: own(ip), user: user === null ? null : own(user), protocol });
    const event: AuthEvent = { event: 'login', ip, user, server: spec.name, protocol, time, session: key, rule: rule.id };
    if (rule.holdMs && key) {
      // The same process began a new session: the one held before it was not refused.
      const before = this.holds.take(key);
      if (before) this.early.push(before.event);
      this.holds.set(key, { event, at: time ?? referenceMs, heldAt: referenceMs, holdMs: rule.holdMs });
      return { kind: 'held', event, match, why: `held ${rule.holdMs} ms: the server may still refuse it` };
    }
    return { kind: 'event', event, match };
  }
}
