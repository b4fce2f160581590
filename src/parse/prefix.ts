// Splits a log line into stamp, host, syslog tag/pid and message body, without regexes on the hot
// path. Forms: RFC 3164 (`Nov  5 10:00:00 host tag[pid]: msg`, also with FreeBSD's `-v`
// `<mail.info>` after the stamp, and Solaris' `[ID 123 mail.info]` after the tag), RFC 3339 (rsyslog's default on Debian), a raw `<pri>` in front
// (read from the socket), RFC 5424 (`<pri>1 stamp host app procid msgid sd msg`), TAI64N
// (multilog `@4000…`), journalctl's short-unix and short-full, and servers' own log files (`stamp program: msg`, no host, no tag; Qpopper's
// `stamp [popper] msg` and `ctime [pid] msg`; Apple Mail Server's `Jul 14 2004 10:41:27 msg`; Dovecot's log_timestamp forms, see
// stamp-scan.ts, also with a zone word or glued to the process name).
import { ctimeLength, dmyLength, epochLength, fullLength, rfc3164Length, rfc3339Length, tai64nLength, yearStampLength, zoneWordLength } from './stamp-scan.js';
import type { StampKind } from './timestamps.js';
import type { Writer } from './writer.js';

export interface Prefix {
  stampKind: StampKind | null;
  stamp: string | null;
  host: string | null;
  /** Syslog tag (program name); null for servers' own log files that carry no tag. */
  tag: string | null;
  pid: number | null;
  /** The writer as the kernel and systemd recorded it (journald, trusted rsyslog file); null in a plain log. */
  writer: Writer | null;
  /** The message; for untagged lines everything after the stamp. */
  body: string;
}

const TAG = /^([A-Za-z0-9_./-]{1,64})(?:\[(\d{1,10})\])?: /;
/** Solaris syslogd's message id after the tag: `[ID 852394 mail.info] `. */
const SOLARIS_ID = /^\[ID \d{1,10} [a-z0-9]{1,10}\.[a-z]{1,10}\] ?/;
/** A server's own log file that names itself in brackets: Qpopper's `[popper] `. */
const OWN_LABEL = /^\[([A-Za-z0-9_.-]{1,32})\] /;
const NONE: Prefix = { stampKind: null, stamp: null, host: null, tag: null, pid: null, writer: null, body: '' };

function ownProcess(line: string, from: number, to: number): boolean {
  const paren = line.indexOf('(', from);
  return paren >= 0 && paren < to;
}

/** `host tag[pid]: msg` after the stamp; a first word ending in ':' is a server's own log file. */
function hostAndTag(line: string, rest: number, stampKind: StampKind, stamp: string): Prefix {
  while (line.charCodeAt(rest) === 32) rest++;
  // FreeBSD syslogd -v / -vv: `<13>` or `<mail.info>` between the stamp and the host.
  if (line.charCodeAt(rest) === 60) {
    const close = line.indexOf('> ', rest);
    if (close > rest && close - rest <= 24) rest = close + 2;
  }
  const sp = line.indexOf(' ', rest);
  // No host holds '(': `pop3(user name)<pid>: …` is a server's own log even when the user's name has a space.
  if (sp < 0 || line.charCodeAt(sp - 1) === 58 || ownProcess(line, rest, sp)) {
    return { ...NONE, stampKind, stamp, body: line.slice(rest) };
  }
  if (line.charCodeAt(rest) === 91) {
    const own = OWN_LABEL.exec(line.slice(rest, rest + 40));
    if (own) return { ...NONE, stampKind, stamp, tag: own[1]!, body: line.slice(rest + own[0].length) };
  }
  const host = line.slice(rest, sp);
  const after = line.slice(sp + 1);
  const m = TAG.exec(after);
  if (!m) return { ...NONE, stampKind, stamp, host, body: after };
  let body = after.slice(m[0].length);
  if (body.charCodeAt(0) === 91) {
    const id = SOLARIS_ID.exec(body);
    if (id) body = body.slice(id[0].length);
  }
  return { ...NONE, stampKind, stamp, host, tag: m[1]!, pid: m[2] === undefined ? null : Number(m[2]), body };
}

/** RFC 5424 after `<pri>1 `: STAMP HOST APP PROCID MSGID SD MSG, `-` for absent fields. */
function rfc5424(line: string, at: number): Prefix {
  const fields: string[] = [];
  let pos = at;
  for (let i = 0; i < 5; i++) {
    const sp = line.indexOf(' ', pos);
    if (sp < 0) return { ...NONE, body: line };
    fields.push(line.slice(pos, sp));
    pos = sp + 1;
  }
  // Structured data: `-` or one or more `[id k="v" …]` elements (`]` and `"` escaped with `\`).
  if (line.charCodeAt(pos) === 45) pos += 1;
  else {
    while (line.charCodeAt(pos) === 91) {
      let i = pos + 1;
      let quoted = false;
      for (; i < line.length; i++) {
        const c = line[i];
        if (c === '\\') i++;
        else if (c === '"') quoted = !quoted;
        else if (c === ']' && !quoted) break;
      }
      if (i >= line.length) return { ...NONE, body: line };
      pos = i + 1;
    }
  }
  if (line.charCodeAt(pos) === 32) pos++;
  let body = line.slice(pos);
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1); // BOM before a UTF-8 message
  const [stamp, host, app, procid] = fields as [string, string, string, string];
  if (rfc3339Length(stamp, 0) !== stamp.length) return { ...NONE, body: line };
  return {
    stampKind: 'rfc3339',
    stamp,
    host: host === '-' ? '' : host,
    tag: app === '-' ? null : app,
    pid: /^\d{1,10}$/.test(procid) ? Number(procid) : null,
    writer: null,
    body,
  };
}

/** A stamp of `len` at `at`, maybe followed by a zone word (` UTC` in a server's own log). */
function afterStamp(line: string, at: number, len: number, kind: StampKind): Prefix {
  len += zoneWordLength(line, at + len);
  return hostAndTag(line, at + len, kind, line.slice(at, at + len));
}

export function splitPrefix(line: string): Prefix {
  let at = 0;
  // BSD syslog priority `<22>` when the file is written raw from the socket.
  if (line.charCodeAt(0) === 60) {
    const close = line.indexOf('>');
    if (close > 1 && close <= 4) {
      at = close + 1;
      if (line.charCodeAt(at) === 49 && line.charCodeAt(at + 1) === 32) return rfc5424(line, at + 2);
    }
  }
  let len = rfc3164Length(line, at);
  if (len) return afterStamp(line, at, len, 'rfc3164');
  if ((len = rfc3339Length(line, at))) return afterStamp(line, at, len, 'rfc3339');
  if ((len = dmyLength(line, at))) return afterStamp(line, at, len, 'dmy');
  if ((len = epochLength(line, at))) return hostAndTag(line, at + len, 'epoch', line.slice(at, at + len));
  if ((len = fullLength(line, at))) return hostAndTag(line, at + len, 'full', line.slice(at, at + len));
  if ((len = ctimeLength(line, at))) {
    // Qpopper's own log: `Wed Nov 25 16:03:47 2026 [1234]  Stats: …`, the pid in brackets.
    const m = /^ \[(\d{1,10})\] /.exec(line.slice(at + len, at + len + 14));
    const stamp = line.slice(at, at + len);
    if (m) return { ...NONE, stampKind: 'ctime', stamp, pid: Number(m[1]), body: line.slice(at + len + m[0].length) };
    return { ...NONE, stampKind: 'ctime', stamp, body: line.slice(at + len + 1) };
  }
  if ((len = yearStampLength(line, at))) {
    // Apple Mail Server's own logs: no host, no tag.
    return { ...NONE, stampKind: 'rfc3164y', stamp: line.slice(at, at + len), body: line.slice(at + len + 1) };
  }
  if ((len = tai64nLength(line, at))) {
    // multilog: whatever the service wrote to stderr follows the stamp; no host, no tag.
    return { ...NONE, stampKind: 'tai64n', stamp: line.slice(at, at + len), body: line.slice(at + len + 1) };
  }
  return { ...NONE, body: line };
}
