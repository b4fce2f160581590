// Log line timestamps: RFC 3164 (no year, local time; Apple's variant with a year), RFC 3339 / ISO 8601 (also with a space
// instead of `T`), TAI64N (daemontools multilog), journald's microseconds since the epoch, and the
// forms of Dovecot's log_timestamp (`%d.%m.%Y %H:%M:%S`, `%s`, a `%z` / `%Z` zone after any of
// them). A zone abbreviation other than UTC/GMT is ambiguous (CST…): read as this machine's local
// time. Parsed lazily, only for lines that matched a rule.

export type StampKind = 'rfc3164' | 'rfc3164y' | 'rfc3339' | 'dmy' | 'tai64n' | 'epoch-us' | 'epoch' | 'full' | 'ctime';

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** A zone after the time: glued (`Z`, `+0100`, `+01:00`, `+01`) or as a word (` UTC`, ` +0100`, ` CET`). */
const ZONE = '(?: ?(Z|[+-]\\d\\d(?::?\\d\\d)?)| ([A-Z]{3,5}))?';
const RFC3164 = new RegExp(`^([A-Z][a-z]{2}) ([ 0-3]?\\d) (\\d\\d):(\\d\\d):(\\d\\d)(?:[.,](\\d{1,9}))?${ZONE}$`);
const RFC3339 = new RegExp(`^(\\d{4})-(\\d\\d)-(\\d\\d)[Tt ](\\d\\d):(\\d\\d):(\\d\\d)(?:[.,](\\d{1,9}))?${ZONE}$`);
const TAI64N = /^@([0-9a-f]{16})([0-9a-f]{8})$/i;

/** Milliseconds since the epoch, or null when the stamp is not a valid date. */
export function parseStamp(kind: StampKind, text: string, referenceMs: number): number | null {
  switch (kind) {
    case 'rfc3164':
      return parseRfc3164(text, referenceMs);
    case 'rfc3164y':
      return parseYearStamp(text);
    case 'rfc3339':
      return parseRfc3339(text);
    case 'dmy':
      // `30.11.2026 00:26:22…` → `2026-11-30 00:26:22…`
      return parseRfc3339(`${text.slice(6, 10)}-${text.slice(3, 5)}-${text.slice(0, 2)}${text.slice(10)}`);
    case 'tai64n':
      return parseTai64n(text);
    case 'epoch':
      return /^\d{9,11}(?:\.\d{1,9})?$/.test(text) ? Math.floor(Number(text) * 1000) : null;
    case 'full':
      return parseFull(text);
    case 'ctime':
      // `Wed Nov 25 16:03:47 2026` → `Nov 25 2026 16:03:47`
      return parseYearStamp(`${text.slice(4, 11)}${text.slice(20, 24)} ${text.slice(11, 19)}`);
    case 'epoch-us':
      return /^\d{1,17}$/.test(text) ? Math.floor(Number(text) / 1000) : null;
  }
}

/** Minutes east of UTC for a zone the stamp names, null for local time (no zone, or an ambiguous abbreviation). */
function zoneOffset(numeric: string | undefined, word: string | undefined): number | null {
  if (word !== undefined) return word === 'UTC' || word === 'GMT' || word === 'UT' ? 0 : null;
  if (numeric === undefined) return null;
  if (numeric.toUpperCase() === 'Z') return 0;
  const digits = numeric.slice(1).replace(':', '');
  return (numeric[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

/** A wall-clock time in a zone (null: local time), or null when a field is out of range (Feb 30, 25:00). */
function wallClock(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offset: number | null): number | null {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  if (offset === null) {
    const local = new Date(y, mo, d, h, mi, s, ms);
    return local.getDate() === d && local.getMonth() === mo ? local.getTime() : null;
  }
  const t = Date.UTC(y, mo, d, h, mi, s, ms);
  return new Date(t).getUTCDate() === d ? t - offset * 60_000 : null;
}

function millis(frac: string | undefined): number {
  return frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
}

/** `Nov  5 10:00:00` (maybe with a fraction and a zone) in local time; the year is the one that puts the stamp nearest the reference. */
export function parseRfc3164(text: string, referenceMs: number): number | null {
  const m = RFC3164.exec(text);
  if (!m) return null;
  const month = MONTHS[m[1]!];
  if (month === undefined) return null;
  const day = Number(m[2]!.trim());
  const [h, min, s] = [Number(m[3]), Number(m[4]), Number(m[5])];
  const offset = zoneOffset(m[7], m[8]);
  const refYear = new Date(referenceMs).getFullYear();
  let best: number | null = null;
  for (const year of [refYear - 1, refYear, refYear + 1]) {
    // Rejects rollover (Feb 30 → Mar 2) and impossible clock fields.
    const t = wallClock(year, month, day, h, min, s, millis(m[6]), offset);
    if (t !== null && (best === null || Math.abs(t - referenceMs) < Math.abs(best - referenceMs))) best = t;
  }
  return best;
}

/** `Jul 14 2004 10:41:27` in local time. */
export function parseYearStamp(text: string): number | null {
  const m = /^([A-Z][a-z]{2}) ([ 0-3]\d) (\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(text);
  const month = m ? MONTHS[m[1]!] : undefined;
  if (!m || month === undefined) return null;
  const [day, year, h, min, s] = [2, 3, 4, 5, 6].map((i) => Number(m[i]!.trim())) as [number, number, number, number, number];
  const d = new Date(year, month, day, h, min, s);
  if (d.getMonth() !== month || d.getDate() !== day || h > 23 || min > 59 || s > 60) return null;
  return d.getTime();
}

/**
 * journalctl -o short-full: `Wed 2026-11-25 16:03:47 UTC`. UTC/GMT and numeric zones are exact;
 * a zone abbreviation (CET, EST…) is ambiguous, so it is read as this machine's local time.
 */
export function parseFull(text: string): number | null {
  const m = /^[A-Z][a-z]{2} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,9})?) ([A-Za-z]{1,6}|[+-]\d{4})$/.exec(text);
  if (!m) return null;
  const zone = m[3]!;
  const suffix = zone === 'UTC' || zone === 'GMT' ? 'Z' : /^[+-]/.test(zone) ? zone : '';
  return parseRfc3339(`${m[1]}T${m[2]}${suffix}`);
}

/** `2026-11-25T16:03:47.123456+00:00`, also ` UTC` / ` +0100` after it; no zone means local time. */
export function parseRfc3339(text: string): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i])) as [number, number, number, number, number, number];
  return wallClock(y, mo - 1, d, h, mi, s, millis(m[7]), zoneOffset(m[8], m[9]));
}

/**
 * `@4000000069259c2b1c2d3e4f` (multilog): a TAI64 label (2^62 + seconds) and nanoseconds.
 * libtai's clock is UTC + 10 s, so that is what is taken off, as tai64nlocal does.
 */
export function parseTai64n(text: string): number | null {
  const m = TAI64N.exec(text);
  if (!m) return null;
  const label = BigInt(`0x${m[1]}`) - (1n << 62n) - 10n;
  if (label < 0n || label > 8_640_000_000_000n) return null;
  return Number(label) * 1000 + Math.floor(parseInt(m[2]!, 16) / 1e6);
}
