// Which parsers may read a line: the prefilter by program tag, the prefix split (syslog, RFC
// 5424, journald JSON, a server's own log), the writer journald recorded (writer.ts), and the
// parsers' fixed strings. What is left for the rules is a prefix and a short list of parsers.
import { journalPrefix } from './journal.js';
import { splitPrefix, type Prefix } from './prefix.js';
import type { ParserSpec } from './spec.js';
import { TagFilter } from './tag-filter.js';
import { systemUid } from './user-ids.js';
import { notTheServer, type UidOf } from './writer.js';

/** Lines longer than this are never parsed: no server writes a login line that long. */
export const MAX_LINE = 8192;

/** Per-source state: a file is either syslog (host + tag) or a server's own log, never both. */
export interface SourceState {
  syslog: boolean | null;
}

export function hasNeedle(text: string, needles: readonly string[]): boolean {
  for (const n of needles) if (text.includes(n)) return true;
  return false;
}

export type Routed = { prefix: Prefix; candidates: ParserSpec[] } | { why: string };

export class Router {
  private readonly allNeedles: string[];
  private readonly byTag = new Map<string, ParserSpec[]>();
  private readonly byTagPrefix: { prefix: string; spec: ParserSpec }[] = [];
  private readonly byTagPattern: ParserSpec[];
  private readonly untagged: ParserSpec[];
  /** Drops lines of programs no parser reads before any other work (the hot path's first step). */
  private readonly tagFilter: TagFilter;

  constructor(
    specs: readonly ParserSpec[],
    private readonly uidOf: UidOf = systemUid,
  ) {
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
    this.byTagPattern = specs.filter((s) => s.tagPattern);
    this.tagFilter = new TagFilter(specs);
  }

  /** True for a line of a program no parser reads, or without any of its parsers' words. */
  skips(text: string): boolean {
    return this.tagFilter.skips(text);
  }

  route(text: string, state: SourceState): Routed {
    if (text.length > MAX_LINE) return { why: 'line too long' };
    let prefix: Prefix;
    if (text.charCodeAt(0) === 123) {
      // A MESSAGE that is not valid UTF-8 comes as an array of bytes: no needle to see in the raw text.
      if (!hasNeedle(text, this.allNeedles) && !text.includes('"MESSAGE":[')) return { why: 'no parser keyword' };
      const p = journalPrefix(text);
      if (!p) return { why: 'not a journald JSON entry with a MESSAGE' };
      prefix = p;
    } else prefix = splitPrefix(text);
    if (!prefix.stampKind) return { why: 'no timestamp' };
    const syslog = prefix.host !== null;
    let candidates = this.candidates(prefix, syslog);
    if (!candidates) return { why: prefix.tag ? `program ${prefix.tag} has no parser` : 'no program tag' };
    if (!candidates.some((s) => hasNeedle(prefix.body, s.needles))) {
      // A tag only a parser's name pattern took (Cyrus services the admin named) is no parser's program.
      return { why: prefix.tag === null || this.claims(prefix.tag) ? 'no parser keyword' : `program ${prefix.tag} has no parser` };
    }
    if (state.syslog === null) state.syslog = syslog;
    else if (state.syslog !== syslog) return { why: 'line format differs from the rest of this log' };
    if (prefix.writer !== null) {
      const writer = prefix.writer;
      let refused = '';
      candidates = candidates.filter((spec) => {
        const why = notTheServer(spec.writers, writer, this.uidOf);
        if (why) refused ||= why;
        return why === null;
      });
      if (!candidates.length) return { why: `not written by the server that tag ${prefix.tag} names: ${refused}` };
    }
    return { prefix, candidates };
  }

  /** A parser names this tag itself, or a prefix of it (not only a pattern). */
  private claims(tag: string): boolean {
    return this.byTag.has(tag) || this.byTagPrefix.some((p) => tag.startsWith(p.prefix));
  }

  private candidates(prefix: Prefix, syslog: boolean): ParserSpec[] | undefined {
    if (prefix.tag === null) return syslog ? undefined : this.untagged;
    const tag = prefix.tag;
    const exact = this.byTag.get(tag);
    if (exact) return exact;
    const found = this.byTagPrefix.filter((p) => tag.startsWith(p.prefix)).map((p) => p.spec);
    if (found.length) return found;
    const matching = this.byTagPattern.filter((s) => s.tagPattern!.test(tag));
    return matching.length ? matching : undefined;
  }
}
