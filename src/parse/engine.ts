// Runs parser specs over log lines: prefilter, prefix split, anchored rules, correlation by key.
import type { AuthEvent, Protocol } from '../core/types.js';
import { canonicalIp } from '../net/ip.js';
import { splitPrefix, type Prefix } from './prefix.js';
import type { ParserSpec, Rule } from './spec.js';
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

export type Verdict =
  | { kind: 'event'; event: AuthEvent; match: Match }
  | { kind: 'matched'; match: Match; why: string }
  | { kind: 'none'; why: string };

interface SessionInfo {
  ip: string;
  user: string | null;
  protocol: Protocol | null;
}

export interface EngineOptions {
  /** Most open sessions remembered for logout correlation (oldest dropped first). */
  maxSessions?: number;
  /** Most pending `connect` lines remembered for two-line servers. */
  maxLinks?: number;
}

function protocolOf(rule: Rule, proto: string | undefined): Protocol | null {
  if (proto) {
    const p = proto.toLowerCase();
    if (p.startsWith('pop')) return 'pop3';
    if (p.includes('imap')) return 'imap';
  }
  return rule.protocol ?? null;
}

/** Usernames are attacker-controlled text: bounded and free of control characters. */
export function cleanUser(user: string | undefined): string | null {
  if (user === undefined || user === '') return null;
  // eslint-disable-next-line no-control-regex
  return user.slice(0, 256).replace(/[\u0000-\u001f\u007f]/g, '?');
}

export class Engine {
  readonly specs: readonly ParserSpec[];
  private readonly needles: string[];
  private readonly byTag = new Map<string, ParserSpec[]>();
  private readonly untagged: ParserSpec[];
  private readonly sessions = new Map<string, SessionInfo>();
  private readonly links = new Map<string, { ip: string; at: number }>();
  private readonly maxSessions: number;
  private readonly maxLinks: number;

  constructor(specs: readonly ParserSpec[], options: EngineOptions = {}) {
    this.specs = specs;
    this.needles = [...new Set(specs.flatMap((s) => s.needles))];
    for (const spec of specs) {
      for (const tag of spec.tags) {
        const list = this.byTag.get(tag) ?? [];
        list.push(spec);
        this.byTag.set(tag, list);
      }
    }
    this.untagged = specs.filter((s) => s.untagged);
    this.maxSessions = options.maxSessions ?? 100_000;
    this.maxLinks = options.maxLinks ?? 10_000;
  }

  newSource(): SourceState {
    return { syslog: null };
  }

  /** Seeds an open session (from the store at start), so its logout can be tied to the IP. */
  rememberSession(key: string, ip: string, user: string | null, protocol: Protocol | null): void {
    this.remember(key, { ip, user, protocol });
  }

  /** Hot path: the event a line completes, or null. */
  feed(text: string, state: SourceState, referenceMs: number): AuthEvent | null {
    const v = this.judge(text, state, referenceMs);
    return v.kind === 'event' ? v.event : null;
  }

  /** The full verdict for a line, with the reason when it completes no event. */
  judge(text: string, state: SourceState, referenceMs: number): Verdict {
    if (text.length > MAX_LINE) return { kind: 'none', why: 'line too long' };
    let hit = false;
    for (const n of this.needles) {
      if (text.includes(n)) {
        hit = true;
        break;
      }
    }
    if (!hit) return { kind: 'none', why: 'no parser keyword' };
    const prefix = splitPrefix(text);
    if (!prefix.stampKind) return { kind: 'none', why: 'no timestamp' };
    const syslog = prefix.host !== null;
    if (state.syslog === null) state.syslog = syslog;
    else if (state.syslog !== syslog) return { kind: 'none', why: 'line format differs from the rest of this log' };
    const candidates = prefix.tag !== null ? this.byTag.get(prefix.tag) : syslog ? undefined : this.untagged;
    if (!candidates) return { kind: 'none', why: prefix.tag ? `program ${prefix.tag} has no parser` : 'no program tag' };
    for (const spec of candidates) {
      for (const rule of spec.rules) {
        const m = rule.pattern.exec(prefix.body);
        if (m) return this.apply({ spec, rule, prefix, groups: m.groups ?? {} }, referenceMs);
      }
    }
    return { kind: 'none', why: 'no rule matched' };
  }

  private sessionKey(match: Match): string | null {
    const raw = match.groups.session ?? match.groups.pid ?? (match.spec.sessionFromPid && match.prefix.pid !== null ? String(match.prefix.pid) : undefined);
    return raw === undefined ? null : `${match.spec.name}:${raw}`;
  }

  private apply(match: Match, referenceMs: number): Verdict {
    const { spec, rule, groups, prefix } = match;
    const time = prefix.stamp && prefix.stampKind ? parseStamp(prefix.stampKind, prefix.stamp, referenceMs) : null;
    const key = this.sessionKey(match);
    const protocol = protocolOf(rule, groups.proto);
    if (rule.kind === 'connect') {
      const ip = groups.ip === undefined ? null : canonicalIp(groups.ip);
      if (!ip || !key) return { kind: 'matched', match, why: 'connect line without a valid IP or link key' };
      this.links.delete(key);
      this.links.set(key, { ip, at: time ?? referenceMs });
      if (this.links.size > this.maxLinks) this.links.delete(this.links.keys().next().value!);
      return { kind: 'matched', match, why: 'client address remembered for the login line' };
    }
    if (rule.kind === 'logout') {
      if (!key) return { kind: 'matched', match, why: 'logout without a session key' };
      const open = this.sessions.get(key);
      if (!open) return { kind: 'matched', match, why: 'logout of a session whose login was not seen' };
      this.sessions.delete(key);
      const event: AuthEvent = { event: 'logout', ip: open.ip, user: open.user, server: spec.name, protocol: open.protocol ?? protocol, time, session: key, rule: rule.id };
      return { kind: 'event', event, match };
    }
    let ip: string | null;
    if (groups.ip !== undefined) {
      ip = canonicalIp(groups.ip);
      if (!ip) return { kind: 'matched', match, why: `"${groups.ip}" is not a valid IP address` };
    } else {
      const link = key ? this.links.get(key) : undefined;
      if (!link || !key) return { kind: 'matched', match, why: 'login whose client address line was not seen' };
      this.links.delete(key);
      const window = spec.linkWindowMs ?? 60_000;
      if (time !== null && time - link.at > window) return { kind: 'matched', match, why: 'client address line is too old for this login' };
      ip = link.ip;
    }
    const user = cleanUser(groups.user);
    if (key) this.remember(key, { ip, user, protocol });
    return { kind: 'event', event: { event: 'login', ip, user, server: spec.name, protocol, time, session: key, rule: rule.id }, match };
  }

  private remember(key: string, info: SessionInfo): void {
    this.sessions.delete(key);
    this.sessions.set(key, info);
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
  }
}
