// The first look at a line, before the prefix is split or any regex runs: a syslog line whose
// program tag no parser reads is dropped here, found with indexOf and char codes only (no
// allocation). It only ever says "skip" for lines the full path would also find nothing in;
// anything it is unsure of (other stamp forms, `<pri>`, journald JSON, servers' own log files,
// FreeBSD `<mail.info>`, Qpopper's `[popper]`) goes the full way.
import type { ParserSpec } from './spec.js';

function isTagChar(c: number): boolean {
  // [A-Za-z0-9_./-], the characters of a tag as prefix.ts reads it
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 45 && c <= 57) || c === 95;
}

export class TagFilter {
  /** Known tags by their first character. */
  private readonly byFirst = new Map<number, string[]>();
  private readonly prefixes: string[];

  constructor(specs: readonly ParserSpec[]) {
    for (const s of specs) {
      for (const t of s.tags) {
        const list = this.byFirst.get(t.charCodeAt(0)) ?? [];
        if (!list.includes(t)) list.push(t);
        this.byFirst.set(t.charCodeAt(0), list);
      }
    }
    this.prefixes = specs.flatMap((s) => s.tagPrefixes ?? []);
  }

  /** True when the line is a syslog line (RFC 3164 or 3339 stamp, host, tag) whose tag no parser reads. */
  skips(line: string): boolean {
    const c0 = line.charCodeAt(0);
    let rest: number;
    if (c0 >= 48 && c0 <= 57) {
      // A digit: only RFC 3339 can follow (it ends at the first space after its 19 fixed characters);
      // if it is not a valid one, the line has no stamp and completes nothing anyway.
      rest = line.indexOf(' ', 19);
      if (rest < 0) return false;
    } else if (c0 >= 65 && c0 <= 90 && line.charCodeAt(9) === 58 && line.charCodeAt(12) === 58) {
      // `Nov 25 16:22:05` (RFC 3164), maybe with a fraction; a year stamp (`Jul 14 2004 …`) has a digit at 9.
      rest = 15;
      if (line.charCodeAt(rest) === 46) while (++rest < line.length && line.charCodeAt(rest) >= 48 && line.charCodeAt(rest) <= 57);
    } else return false;
    while (line.charCodeAt(rest) === 32) rest++;
    const first = line.charCodeAt(rest);
    if (first === 60 || first === 91) return false; // `<mail.info>` or `[popper]`
    const sp = line.indexOf(' ', rest);
    if (sp < 0 || line.charCodeAt(sp - 1) === 58) return false; // a server's own log: `stamp program: msg`
    const start = sp + 1;
    let end = start;
    while (end < line.length && isTagChar(line.charCodeAt(end))) end++;
    const len = end - start;
    if (len === 0) return true; // no tag after the host: nothing for any parser
    const known = this.byFirst.get(line.charCodeAt(start));
    if (known) for (const t of known) if (t.length === len && line.startsWith(t, start)) return false;
    for (const p of this.prefixes) if (p.length <= len && line.startsWith(p, start)) return false;
    return true;
  }
}
