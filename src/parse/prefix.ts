// Splits a log line into stamp, host, syslog tag/pid and message body, without regexes on the hot path.
import type { StampKind } from './timestamps.js';

export interface Prefix {
  stampKind: StampKind | null;
  stamp: string | null;
  host: string | null;
  /** Syslog tag (program name); null for servers' own log files that carry no tag. */
  tag: string | null;
  pid: number | null;
  /** The message; for untagged lines everything after the stamp. */
  body: string;
}

const MONTH_ABBR = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const TAG = /^([A-Za-z0-9_.\/-]{1,64})(?:\[(\d{1,10})\])?: /;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Length of an RFC 3164 stamp at `at` (`Nov  5 10:00:00`, optional fraction), or 0. */
function rfc3164Length(line: string, at: number): number {
  if (line.length < at + 15) return 0;
  const mon = line.slice(at, at + 3);
  if (MONTH_ABBR.indexOf(mon) % 3 !== 0 || line.charCodeAt(at + 3) !== 32) return 0;
  if (line[at + 6] !== ' ' || line[at + 9] !== ':' || line[at + 12] !== ':') return 0;
  if (!isDigit(line.charCodeAt(at + 5)) || !isDigit(line.charCodeAt(at + 7)) || !isDigit(line.charCodeAt(at + 14))) return 0;
  let end = at + 15;
  if (line[end] === '.') {
    end++;
    while (end < line.length && isDigit(line.charCodeAt(end))) end++;
  }
  return end - at;
}

/** Length of an RFC 3339 stamp at `at` (`2026-11-25T16:03:47.123456+00:00`), or 0. */
function rfc3339Length(line: string, at: number): number {
  if (line.length < at + 19 || line[at + 4] !== '-' || line[at + 7] !== '-' || line[at + 13] !== ':') return 0;
  if (!isDigit(line.charCodeAt(at)) || (line[at + 10] !== 'T' && line[at + 10] !== 't')) return 0;
  const sp = line.indexOf(' ', at + 19);
  return sp < 0 ? 0 : sp - at;
}

export function splitPrefix(line: string): Prefix {
  let at = 0;
  // BSD syslog priority `<22>` when the file is written raw from the socket.
  if (line.charCodeAt(0) === 60) {
    const close = line.indexOf('>');
    if (close > 1 && close <= 4) at = close + 1;
  }
  let stampKind: StampKind | null = null;
  let len = rfc3164Length(line, at);
  if (len) stampKind = 'rfc3164';
  else if ((len = rfc3339Length(line, at))) stampKind = 'rfc3339';
  if (!stampKind) return { stampKind: null, stamp: null, host: null, tag: null, pid: null, body: line };
  const stamp = line.slice(at, at + len);
  let rest = at + len;
  while (line.charCodeAt(rest) === 32) rest++;
  const sp = line.indexOf(' ', rest);
  // A first word ending in ':' is a program label of a server's own log file: no host, no tag.
  if (sp < 0 || line.charCodeAt(sp - 1) === 58) {
    return { stampKind, stamp, host: null, tag: null, pid: null, body: line.slice(rest) };
  }
  const host = line.slice(rest, sp);
  const after = line.slice(sp + 1);
  const m = TAG.exec(after);
  if (!m) return { stampKind, stamp, host, tag: null, pid: null, body: after };
  return {
    stampKind,
    stamp,
    host,
    tag: m[1]!,
    pid: m[2] === undefined ? null : Number(m[2]),
    body: after.slice(m[0].length),
  };
}
