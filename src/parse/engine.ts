// Runs the parsers' anchored rules on the lines the router hands them, and turns matches into
// events. What must be remembered across lines (sessions, connect → login links, held logins)
// lives in the correlator. One call per line returns every event the line completes.
import type { AuthEvent, Found, LogLine, Protocol } from '../core/types.js';
import { canonicalIp } from '../net/ip.js';
import { Correlator, type CorrelatorLimits } from './correlate.js';
import { notALoginPrefix } from './not-login.js';
import { splitPrefix, type Prefix } from './prefix.js';
import { hasNeedle, MAX_LINE, Router, type SourceState } from './router.js';
import type { ParserSpec, Rule } from './spec.js';
import { systemUid } from './user-ids.js';
import type { UidOf } from './writer.js';
import { parseStamp } from './timestamps.js';

export type { SourceState } from './router.js';

export interface Match {
  spec: ParserSpec;
  rule: Rule;
  prefix: Prefix;
  groups: Record<string, string | undefined>;
}

/** What a line itself did (for `parse --explain`). */
export type Outcome =
  | { kind: 'event'; event: AuthEvent; match: Match }
  | { kind: 'held'; event: AuthEvent; match: Match; why: string }
  | { kind: 'matched'; match: Match; why: string }
  | { kind: 'none'; why: string };

/**
 * A line's verdict: what it did, and every event it completes, in order — held logins of
 * earlier lines that it confirmed first (each tagged with its own login line), then its own.
 */
export interface Verdict {
  outcome: Outcome;
  events: readonly Found[];
}

const NOTHING: readonly Found[] = Object.freeze([]);
const SKIPPED: Verdict = Object.freeze({ outcome: Object.freeze({ kind: 'none', why: 'program has no parser' }), events: NOTHING });

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

export class Engine {
  private readonly router: Router;

  /**
   * `correlator` is kept across a parser change (SIGHUP): open sessions stay tied to their logins.
   * `uidOf` names the servers' users for the writer check (default: this host's /etc/passwd).
   */
  constructor(
    specs: readonly ParserSpec[],
    readonly correlator: Correlator = new Correlator(),
    uidOf: UidOf = systemUid,
  ) {
    this.router = new Router(specs, uidOf);
  }

  static withLimits(specs: readonly ParserSpec[], limits: CorrelatorLimits): Engine {
    return new Engine(specs, new Correlator(limits));
  }

  newSource(): SourceState {
    return { syslog: null };
  }

  /**
   * The hot path: one line in, its verdict out. `referenceMs` is the clock the line is read
   * against (now for a live log; a file's mtime for `parse`): year-less stamps and held logins.
   * `full` skips the prefilter, so a skipped line still gets its precise reason (`--explain`).
   */
  read(line: LogLine, state: SourceState, referenceMs: number, full = false): Verdict {
    const corr = this.correlator;
    // A line can only matter without a tag we read when a held login waits for a later line's time.
    if (!full && !corr.holding && this.router.skips(line.text)) return SKIPPED;
    const released: Found[] = [];
    const outcome = this.classify(line, state, referenceMs, released);
    if (corr.holding) {
      const lineTime = outcome.kind === 'none' ? this.lineTime(line.text, referenceMs) : this.stampOf(outcome.match.prefix, referenceMs);
      corr.due(lineTime, referenceMs, released);
    }
    if (outcome.kind === 'event') released.push({ event: outcome.event, line });
    return released.length ? { outcome, events: released } : { outcome, events: NOTHING };
  }

  /**
   * The one loop from lines to events, used by the daemon, `parse` and the samples test.
   * `each` sees every line's verdict (explanations, timing, unrecognised logins).
   */
  readAll(lines: readonly LogLine[], state: SourceState, referenceMs: number, each?: (line: LogLine, v: Verdict) => void, full = false): Found[] {
    const out: Found[] = [];
    for (const line of lines) {
      const v = this.read(line, state, referenceMs, full);
      if (each) each(line, v);
      for (const f of v.events) out.push(f);
    }
    return out;
  }

  /** Held logins the clock confirmed (all of them when `nowMs` is Infinity), tagged with their own lines. */
  release(nowMs: number): Found[] {
    const out: Found[] = [];
    if (this.correlator.holding) this.correlator.due(null, nowMs, out);
    return out;
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

  private classify(line: LogLine, state: SourceState, referenceMs: number, released: Found[]): Outcome {
    const routed = this.router.route(line.text, state);
    if ('why' in routed) return { kind: 'none', why: routed.why };
    const { prefix, candidates } = routed;
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
        return this.apply(match, line, referenceMs, released);
      }
    }
    if (unlinked) return unlinked;
    // A failure or another service's line (parsers/not-logins.ts) says so, not just "no rule".
    const known = notALoginPrefix(prefix);
    return { kind: 'none', why: known ? `not a login: ${known.reason}` : 'no rule matched' };
  }

  private hasLink(match: Match): boolean {
    const key = this.sessionKey(match);
    return key !== null && this.correlator.hasLink(key);
  }

  private sessionKey(match: Match): string | null {
    const { groups, spec } = match;
    if (groups.session !== undefined) return `${spec.name}:${groups.session}`;
    return this.pidKey(match);
  }

  /** The key of the process a line names (a `pid` group, or the syslog pid where the parser says so). */
  private pidKey(match: Match): string | null {
    const { groups, spec, prefix } = match;
    const pid = groups.pid ?? (spec.sessionFromPid && prefix.pid !== null ? String(prefix.pid) : undefined);
    return pid === undefined ? null : `${spec.name}:${prefix.host ?? ''}:${pid}`;
  }

  private apply(match: Match, line: LogLine, referenceMs: number, released: Found[]): Outcome {
    const { spec, rule, groups, prefix } = match;
    const corr = this.correlator;
    const time = this.stampOf(prefix, referenceMs);
    if (time === null && prefix.stamp !== null) return { kind: 'matched', match, why: `"${prefix.stamp}" is not a valid date` };
    const key = this.sessionKey(match);
    const protocol = protocolFrom(groups.proto) ?? rule.protocol ?? protocolFrom(prefix.tag);
    if (rule.kind === 'connect') {
      const ip = groups.ip === undefined ? null : canonicalIp(groups.ip);
      if (!ip || !key) return { kind: 'matched', match, why: 'connect line without a valid IP or link key' };
      corr.link(key, ip, time ?? referenceMs);
      return { kind: 'matched', match, why: 'client address remembered for the login line' };
    }
    if (rule.kind === 'veto') {
      const held = key ? corr.veto(key) : undefined;
      if (!held) return { kind: 'matched', match, why: 'refusal of a login that is not held' };
      return { kind: 'matched', match, why: `login of ${held.event.ip} refused by the server: no grant` };
    }
    if (rule.kind === 'logout') {
      if (!key) return { kind: 'matched', match, why: 'logout without a session key' };
      // A session end that names only its process: the store knows the session by its login's key.
      const session = groups.session === undefined ? corr.resolve(key) : key;
      // The session ended with no refusal: its held login counts, before this logout.
      const held = corr.confirm(session);
      if (held) released.push(held);
      const open = corr.closeSession(session);
      if (!open) return { kind: 'matched', match, why: 'logout of a session whose login was not seen' };
      const event: AuthEvent = { event: 'logout', ip: open.ip, user: open.user, server: spec.name, protocol: open.protocol ?? protocol, time, session, rule: rule.id };
      return { kind: 'event', event, match };
    }
    let ip: string | null;
    if (groups.ip !== undefined) {
      ip = canonicalIp(groups.ip);
      if (!ip) return { kind: 'matched', match, why: `"${groups.ip}" is not a valid IP address` };
    } else {
      const link = key ? corr.takeLink(key) : undefined;
      if (!link || !key) return { kind: 'matched', match, why: 'login whose client address line was not seen' };
      const window = spec.linkWindowMs ?? 60_000;
      if (time !== null && (time - link.at > window || time < link.at - 1000)) return { kind: 'matched', match, why: 'client address line is too old for this login' };
      ip = link.ip;
    }
    const user = cleanUser(groups.user);
    if (key) corr.openSession(key, { ip, user, protocol });
    if (key && groups.session !== undefined && groups.pid !== undefined) corr.alias(this.pidKey(match)!, key);
    const event: AuthEvent = { event: 'login', ip, user, server: spec.name, protocol, time, session: key, rule: rule.id };
    if (rule.holdMs && key) {
      // The same process began a new session: the one held before it was not refused.
      const before = corr.hold(key, { event, line }, time ?? referenceMs, referenceMs, rule.holdMs);
      if (before) released.push(before);
      return { kind: 'held', event, match, why: `held ${rule.holdMs} ms: the server may still refuse it` };
    }
    return { kind: 'event', event, match };
  }
}
