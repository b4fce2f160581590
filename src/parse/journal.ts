// journald's JSON export lines (`journalctl -o json`), and the same shape written by rsyslog with
// contrib/rsyslog/popgate.conf: one object per line. The message, program and pid come from
// MESSAGE, SYSLOG_IDENTIFIER and _PID; the writer fields journald (or imuxsock) recorded from the
// kernel (`_UID`, `_EXE`, `_SYSTEMD_UNIT`) go beside them, so the router can refuse an entry the
// server did not write (writer.ts), whatever tag a local user gave it with logger(1).
import type { Prefix } from './prefix.js';
import { rfc3339Length } from './stamp-scan.js';
import type { StampKind } from './timestamps.js';

type Field = string | number[] | null | undefined;

/** journald writes binary or non-UTF-8 fields as arrays of bytes. */
function text(v: Field): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length <= 65536 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Buffer.from(v).toString('utf8');
  }
  return null;
}

/** A field that is there and not empty (rsyslog writes an unknown property as ""). */
function nonEmpty(v: Field): string | null {
  const s = text(v);
  return s === null || s === '' ? null : s;
}

function pidOf(v: Field): number | null {
  const s = text(v);
  return s !== null && /^\d{1,10}$/.test(s) ? Number(s) : null;
}

/** journald's microseconds, or the RFC 3339 time rsyslog writes (contrib/rsyslog/popgate.conf). */
function stampOf(o: Record<string, Field>): { stamp: string | null; stampKind: StampKind | null } {
  const us = text(o.__REALTIME_TIMESTAMP);
  if (us !== null) return { stamp: us, stampKind: /^\d{1,17}$/.test(us) ? 'epoch-us' : null };
  const t = text(o.TIMESTAMP);
  return { stamp: t, stampKind: t !== null && t.length <= 40 && rfc3339Length(t, 0) === t.length ? 'rfc3339' : null };
}

/** The prefix of a journald JSON line, or null when the line is not one. */
export function journalPrefix(line: string): Prefix | null {
  let o: Record<string, Field>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    o = parsed as Record<string, Field>;
  } catch {
    return null;
  }
  const body = text(o.MESSAGE);
  if (body === null) return null;
  const comm = text(o._COMM);
  const writer = { uid: nonEmpty(o._UID), exe: nonEmpty(o._EXE), unit: nonEmpty(o._SYSTEMD_UNIT), comm };
  const { stamp, stampKind } = stampOf(o);
  return {
    stampKind,
    stamp,
    host: text(o._HOSTNAME) ?? '',
    tag: text(o.SYSLOG_IDENTIFIER) ?? comm,
    // _PID is set by journald from the socket's credentials; SYSLOG_PID is what the sender claims.
    pid: pidOf(o._PID) ?? pidOf(o.SYSLOG_PID),
    writer,
    body,
  };
}
