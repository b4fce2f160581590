// The first look at a line, before the prefix is split or any regex runs: a syslog line whose
// program tag no parser reads is dropped here, found with indexOf and char codes only (no
// allocation), and so is a line of a known tag that holds none of its parsers' keywords (the
// body is part of the line). It only ever says "skip" for lines the full path finds nothing in;
// anything it is unsure of (other stamp forms, `<pri>`, journald JSON, servers' own log files,
// FreeBSD `<mail.info>`, Qpopper's `[popper]`) goes the full way.
import type { ParserSpec } from './spec.js';
import { zoneWordLength } from './stamp-scan.js';

function isTagChar(c: number): boolean {
  // [A-Za-z0-9_./-], the characters of a tag as prefix.ts reads it
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95;
}

/** The first three characters of a tag as one number (tags are ASCII; a shorter tag is padded with 0). */
function key3(text: string, at: number, end: number): number {
  const c = (i: number) => (at + i < end ? text.charCodeAt(at + i) & 127 : 0);
  return (c(0) << 14) | (c(1) << 7) | c(2);
}

/** What a tag's lines need: skipped, the full way, or the full way when they hold one of `needles`. */
interface TagVerdict {
  tag: string;
  kind: 'skip' | 'keep' | 'needles';
  needles: readonly string[];
}

/** Distinct tags remembered; past it a new tag is decided for each line (still correct, slower). */
const MAX_TAGS = 4096;

export class TagFilter {
  /** Known tags (exact) and tag prefixes, by their first three characters. */
  private readonly tags = new Map<number, string[]>();
  /** For each exact tag, the keywords of the parsers that read it (the engine's needles). */
  private readonly needles = new Map<string, string[]>();
  private readonly prefixes = new Map<number, string[]>();
  /** Parsers that also read tags matching a pattern (Cyrus services the admin named). */
  private readonly patterns: { re: RegExp; needles: readonly string[] }[];
  /** Tags and prefixes shorter than three characters, checked on every line. */
  private readonly short: { text: string; exact: boolean }[] = [];
  /** Each tag seen, decided once, by a hash of its characters: a busy log holds a few dozen. */
  private readonly seen = new Map<number, TagVerdict[]>();
  private seenCount = 0;

  constructor(specs: readonly ParserSpec[]) {
    const add = (table: Map<number, string[]>, t: string, exact: boolean) => {
      if (!/^[A-Za-z0-9_./-]+$/.test(t)) throw new Error(`tag ${t}: not made of tag characters`);
      if (t.length < 3) return void this.short.push({ text: t, exact });
      const k = key3(t, 0, t.length);
      const list = table.get(k) ?? [];
      if (!list.includes(t)) list.push(t);
      table.set(k, list);
    };
    for (const s of specs) {
      for (const t of s.tags) {
        add(this.tags, t, true);
        this.needles.set(t, [...new Set([...(this.needles.get(t) ?? []), ...s.needles])]);
      }
      for (const p of s.tagPrefixes ?? []) add(this.prefixes, p, false);
    }
    // A copy without flags that keep state between calls (g, y).
    this.patterns = specs.filter((s) => s.tagPattern).map((s) => ({ re: new RegExp(s.tagPattern!.source, s.tagPattern!.flags.replace(/[gy]/g, '')), needles: s.needles }));
  }

  /** True when the line is a syslog line (RFC 3164 or 3339 stamp, host, tag) whose tag no parser reads. */
  skips(line: string): boolean {
    const c0 = line.charCodeAt(0);
    let rest: number;
    let stampEnd: number;
    if (c0 >= 48 && c0 <= 57) {
      // A digit: RFC 3339 (it ends at the first space after its 19 fixed characters). Dovecot's
      // other log_timestamp forms (`30.11.2026 …`, `%s`) go the full way.
      if (line.charCodeAt(4) !== 45 || line.charCodeAt(7) !== 45) return false;
      rest = line.indexOf(' ', 19);
      if (rest < 0) return false;
      stampEnd = 19;
    } else if (c0 >= 65 && c0 <= 90 && line.charCodeAt(9) === 58 && line.charCodeAt(12) === 58) {
      // `Nov 25 16:22:05` (RFC 3164), maybe with a fraction; a year stamp (`Jul 14 2004 …`) has a digit at 9.
      rest = stampEnd = 15;
      if (line.charCodeAt(rest) === 46) while (++rest < line.length && line.charCodeAt(rest) >= 48 && line.charCodeAt(rest) <= 57);
    } else return false;
    // Dovecot's own log with a zone word after the stamp (`Nov 30 00:26:43 UTC pop3(alice)…: `).
    if (zoneWordLength(line, rest)) return false;
    while (line.charCodeAt(rest) === 32) rest++;
    const first = line.charCodeAt(rest);
    if (first === 60 || first === 91) return false; // `<mail.info>` or `[popper]`
    const sp = line.indexOf(' ', rest);
    if (sp < 0 || line.charCodeAt(sp - 1) === 58) return false; // a server's own log: `stamp program: msg`
    // `pop3(a name with spaces)<pid>: …`, also glued to the stamp: a server's own log (no host holds '(').
    for (let i = stampEnd; i < sp; i++) if (line.charCodeAt(i) === 40) return false;
    // The tag is the run of tag characters after the host.
    const start = sp + 1;
    let end = start;
    let h = 0;
    for (let c = line.charCodeAt(end); isTagChar(c); c = line.charCodeAt(++end)) h = (Math.imul(h, 31) + c) | 0;
    const v = this.verdict(line, start, end, h);
    if (v.kind !== 'needles') return v.kind === 'skip';
    for (let i = 0; i < v.needles.length; i++) if (line.includes(v.needles[i]!, end)) return false;
    return true;
  }

  private verdict(line: string, start: number, end: number, h: number): TagVerdict {
    const list = this.seen.get(h);
    if (list) for (let i = 0; i < list.length; i++) if (list[i]!.tag.length === end - start && line.startsWith(list[i]!.tag, start)) return list[i]!;
    const v = this.decide(line.slice(start, end));
    if (this.seenCount < MAX_TAGS) {
      this.seenCount++;
      if (list) list.push(v);
      else this.seen.set(h, [v]);
    }
    return v;
  }

  /** As the router picks parsers for a tag: exact tags, then prefixes, then patterns. */
  private decide(tag: string): TagVerdict {
    const k = key3(tag, 0, tag.length);
    if (this.tags.get(k)?.includes(tag)) return { tag, kind: 'needles', needles: this.needles.get(tag)! };
    if (this.prefixes.get(k)?.some((p) => tag.startsWith(p))) return { tag, kind: 'keep', needles: [] };
    if (this.short.some((s) => (s.exact ? tag === s.text : tag.startsWith(s.text)))) return { tag, kind: 'keep', needles: [] };
    const needles = [...new Set(this.patterns.filter((p) => p.re.test(tag)).flatMap((p) => p.needles))];
    return needles.length ? { tag, kind: 'needles', needles } : { tag, kind: 'skip', needles: [] };
  }
}
