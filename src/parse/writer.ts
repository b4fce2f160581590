// Whether a log entry was written by the server itself, judged only by what the kernel and systemd
// record about the writer and no user can choose: the real binary (`_EXE`), the user it ran as
// (`_UID`) and its systemd unit (`_SYSTEMD_UNIT`). journald adds these fields itself; rsyslog's
// imuxsock annotation (contrib/rsyslog/popgate.conf) takes them from the socket's credentials.
// The process name (`_COMM`) and the tag (`SYSLOG_IDENTIFIER`) are the writer's own claims: a copy
// of logger named `imap` shows `_COMM=imap`, `logger -t dovecot` the tag. Neither ever vouches.

/** The writer of one entry, as the log records it; null fields were not recorded. */
export interface Writer {
  uid: string | null;
  exe: string | null;
  unit: string | null;
  /** Shown in explanations only. */
  comm: string | null;
}

/** Who may write a parser's lines (data in its ParserSpec). */
export interface Writers {
  /** Real paths of the server's binaries; one ending in `/` stands for every binary under it. */
  exes: readonly string[];
  /**
   * User names the logging process runs as (root for Dovecot's log process). Leave it out for a
   * server that logs a login as the mailbox's own user: its unit must then vouch for every entry.
   */
  users?: readonly string[];
  /** systemd units the server runs in; one ending in `@` stands for its instances (`popa3d@…`). */
  units?: readonly string[];
}

/** A user name → its numeric uid as text, or null when there is no such user. */
export type UidOf = (user: string) => string | null;

function exeIs(w: Writers, exe: string): boolean {
  // A binary replaced by an upgrade while the server runs shows as `… (deleted)`: still its path.
  const path = exe.endsWith(' (deleted)') ? exe.slice(0, -10) : exe;
  return w.exes.some((e) => (e.endsWith('/') ? path.startsWith(e) && !path.includes('/../') : path === e));
}

function unitIs(w: Writers, unit: string | null): boolean {
  if (unit === null) return false;
  return (w.units ?? []).some((u) => (u.endsWith('@') ? unit.startsWith(u) && unit.endsWith('.service') : unit === u));
}

/**
 * Null when the entry is the server's own, else why not. The binary, when recorded, must be one of
 * the server's (a foreign program inside its unit is not the server). Then either the server's
 * user ran a known binary, or — for a writer whose binary is unknown (it exited before journald
 * looked) or a server logging as its mail users — the server's unit vouches. A user's own copy of
 * the server (same binary, own config that writes any `rip=`) runs as that user in that user's
 * session: neither rule takes it.
 */
export function notTheServer(w: Writers, e: Writer, uidOf: UidOf): string | null {
  if (e.exe !== null && !exeIs(w, e.exe)) return `written by ${e.exe}${e.comm ? ` (${e.comm})` : ''}, not one of the server's programs`;
  if (w.users) {
    if (e.uid === null) return 'the entry does not say which user wrote it (_UID)';
    if (!w.users.some((u) => uidOf(u) === e.uid)) return `written by uid ${e.uid}, not the server's user (${w.users.join(', ')})`;
    if (e.exe !== null || unitIs(w, e.unit)) return null;
    return `the writer's program is not recorded (_EXE) and its unit ${e.unit ?? '(none)'} is not the server's`;
  }
  if (unitIs(w, e.unit)) return null;
  return `written from ${e.unit ?? 'no systemd unit'}, not the server's unit (${(w.units ?? []).join(', ') || 'none declared'})`;
}
