// Finds where a line's timestamp ends, with char codes only (the hot path): each scanner returns
// the stamp's length at `at`, or 0. prefix.ts decides what the rest of the line is; timestamps.ts
// turns the stamp into a time. Besides syslog's and journalctl's forms, these read what Dovecot's
// log_timestamp writes into its own log files: any of the forms below, with or without a fraction
// (`%{usecs}`) and a zone (`%z`, `%Z`), and with or without the trailing space before the process
// name (`2026-11-30T00:26:12pop3-login: …`).

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

const MONTH_ABBR = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const WEEKDAYS = 'MonTueWedThuFriSatSun';

function digitsAt(line: string, at: number, positions: readonly number[]): boolean {
  for (const i of positions) if (!isDigit(line.charCodeAt(at + i))) return false;
  return true;
}

/** Length of `.123456` / `,123` at `at` (a fraction of a second), or 0. */
function fractionLength(line: string, at: number): number {
  const c = line.charCodeAt(at);
  if (c !== 46 && c !== 44) return 0;
  let i = at + 1;
  while (i < line.length && i - at <= 9 && isDigit(line.charCodeAt(i))) i++;
  return i > at + 1 ? i - at : 0;
}

/** Length of a numeric zone glued to the time (`Z`, `+0000`, `+00:00`, `-05`), or 0. */
function numericZoneLength(line: string, at: number): number {
  const c = line.charCodeAt(at);
  if (c === 90 || c === 122) return 1; // Z, z
  if (c !== 43 && c !== 45) return 0;
  if (!digitsAt(line, at, [1, 2])) return 0;
  if (line.charCodeAt(at + 3) === 58) return digitsAt(line, at, [4, 5]) ? 6 : 0;
  return digitsAt(line, at, [3, 4]) ? 5 : 3;
}

/** `HH:MM:SS`, an optional fraction and an optional numeric zone at `at`: its length, or 0. */
function timeLength(line: string, at: number, zone: boolean): number {
  if (line[at + 2] !== ':' || line[at + 5] !== ':' || !digitsAt(line, at, [0, 1, 3, 4, 6, 7])) return 0;
  let end = at + 8;
  end += fractionLength(line, end);
  if (zone) end += numericZoneLength(line, end);
  return end - at;
}

/** Length of an RFC 3164 stamp at `at` (`Nov  5 10:00:00`, optional fraction), or 0. */
export function rfc3164Length(line: string, at: number): number {
  if (line.length < at + 15) return 0;
  if (MONTH_ABBR.indexOf(line.slice(at, at + 3)) % 3 !== 0 || line.charCodeAt(at + 3) !== 32) return 0;
  if (line[at + 6] !== ' ' || !isDigit(line.charCodeAt(at + 5))) return 0;
  const t = timeLength(line, at + 7, false);
  return t ? 7 + t : 0;
}

/** Length of `Jul 14 2004 10:41:27` (RFC 3164 with a year, Apple Mail Server's own logs) at `at`, or 0. */
export function yearStampLength(line: string, at: number): number {
  if (line.length < at + 20) return 0;
  if (MONTH_ABBR.indexOf(line.slice(at, at + 3)) % 3 !== 0 || line[at + 3] !== ' ' || line[at + 6] !== ' ') return 0;
  if (line[at + 11] !== ' ' || line[at + 14] !== ':' || line[at + 17] !== ':') return 0;
  return digitsAt(line, at, [5, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19]) ? 20 : 0;
}

/** Length of an RFC 3339 / ISO 8601 stamp at `at` (`2026-11-25T16:03:47.123456+00:00`, or a space for `T`), or 0. */
export function rfc3339Length(line: string, at: number): number {
  if (line[at + 4] !== '-' || line[at + 7] !== '-' || !digitsAt(line, at, [0, 1, 2, 3, 5, 6, 8, 9])) return 0;
  const sep = line[at + 10];
  if (sep !== 'T' && sep !== 't' && sep !== ' ') return 0;
  const t = timeLength(line, at + 11, true);
  return t ? 11 + t : 0;
}

/** Length of `30.11.2026 00:26:22` (Dovecot's log_timestamp `%d.%m.%Y %H:%M:%S`), or 0. */
export function dmyLength(line: string, at: number): number {
  if (line[at + 2] !== '.' || line[at + 5] !== '.' || line[at + 10] !== ' ' || !digitsAt(line, at, [0, 1, 3, 4, 6, 7, 8, 9])) return 0;
  const t = timeLength(line, at + 11, true);
  return t ? 11 + t : 0;
}

/**
 * Length of seconds since the epoch (9–11 digits: 1973–5138): journalctl -o short-unix's
 * `1764086627.123456`, or Dovecot's `%s`, which may be glued to the process name. 0 if none.
 */
export function epochLength(line: string, at: number): number {
  let i = at;
  while (i < line.length && i - at <= 11 && isDigit(line.charCodeAt(i))) i++;
  if (i - at < 9 || i - at > 11) return 0;
  const frac = fractionLength(line, i);
  const next = line.charCodeAt(i + frac);
  if (next === 32) return i + frac - at;
  // Glued: `1795998393pop3-login: …` — a letter right after a whole number of seconds.
  return frac === 0 && ((next >= 97 && next <= 122) || isUpper(next)) ? i - at : 0;
}

/** Length of journalctl -o short-full's `Wed 2026-11-25 16:03:47 UTC` (zone: letters, or +hhmm), or 0. */
export function fullLength(line: string, at: number): number {
  if (WEEKDAYS.indexOf(line.slice(at, at + 3)) % 3 !== 0 || line[at + 3] !== ' ') return 0;
  if (line[at + 8] !== '-' || line[at + 14] !== ' ' || line[at + 17] !== ':' || line[at + 20] !== ':') return 0;
  const sp = line.indexOf(' ', at + 24);
  if (line[at + 23] !== ' ' || sp < 0 || sp - at > 32) return 0;
  return sp - at;
}

/** Length of a ctime(3) stamp, `Wed Nov 25 16:03:47 2026` (Qpopper's own log), or 0. */
export function ctimeLength(line: string, at: number): number {
  if (WEEKDAYS.indexOf(line.slice(at, at + 3)) % 3 !== 0 || line[at + 3] !== ' ') return 0;
  return yearStampLength(`${line.slice(at + 4, at + 11)}${line.slice(at + 20, at + 24)} ${line.slice(at + 11, at + 19)}`, 0) && line[at + 19] === ' ' && line[at + 24] === ' ' ? 24 : 0;
}

/** Length of a TAI64N stamp (`@` and 24 hex digits) at `at`, or 0. */
export function tai64nLength(line: string, at: number): number {
  if (line.charCodeAt(at) !== 64 || line.length < at + 26 || line.charCodeAt(at + 25) !== 32) return 0;
  for (let i = at + 1; i < at + 25; i++) if (!isHex(line.charCodeAt(i))) return 0;
  return 25;
}

/**
 * A zone written as its own word after the stamp (`%Z`: ` UTC`, ` CET`; `%z` after a space:
 * ` +0100`), in a server's own log only: the word after it must be a process name ending in `:`
 * (in a syslog line that word would be the host). Its length with the space, or 0.
 */
export function zoneWordLength(line: string, at: number): number {
  if (line.charCodeAt(at) !== 32) return 0;
  let i = at + 1;
  const c = line.charCodeAt(i);
  if (c === 43 || c === 45) {
    if (!digitsAt(line, i, [1, 2, 3, 4])) return 0;
    i += 5;
  } else {
    while (i < line.length && i - at <= 6 && isUpper(line.charCodeAt(i))) i++;
    if (i - at < 4 || i - at > 6) return 0;
  }
  if (line.charCodeAt(i) !== 32) return 0;
  const sp = line.indexOf(' ', i + 1);
  return sp > i + 1 && line.charCodeAt(sp - 1) === 58 ? i - at : 0;
}
