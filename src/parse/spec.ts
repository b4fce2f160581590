// The shape of a parser: pure data (patterns and declarations), interpreted by engine.ts.
import type { Protocol } from '../core/types.js';
import type { Writers } from './writer.js';

export type RuleKind =
  /** A successful login: grants. Needs an `ip` group, or a `link` to an earlier `connect`. */
  | 'login'
  /** The end of a session opened by a login; the session key comes from the `session` group or the pid. */
  | 'logout'
  /** A line that only names the client's IP, remembered under the link key for a later `login`. */
  | 'connect'
  /** The server refused a login it had already logged as successful (Cyrus popminpoll): the held login is dropped. */
  | 'veto';

export interface Rule {
  /** Stable name, shown by `parse --explain` and counted by the samples test. */
  id: string;
  kind: RuleKind;
  /**
   * Anchored (`^…$`) pattern on the message body. Named groups: `ip`, `user`, `session`, `pid`,
   * `proto` (a service name such as `pop3`, `imap-login`, `pop3d-ssl`).
   */
  pattern: RegExp;
  /** Only for lines whose syslog tag matches (Cyrus: holds for `…pop…` services, not for IMAP). */
  tag?: RegExp;
  /** Fixed protocol when neither the pattern's `proto` group nor the tag names one. */
  protocol?: Protocol;
  /**
   * For a login the server may still refuse on a following line (a `veto` with the same key):
   * the login is held this long (by the lines' own time, or by the clock when read live) before it
   * counts. Held logins come out of `Engine.feed` / `Engine.drain` once confirmed.
   */
  holdMs?: number;
}

export interface ParserSpec {
  name: string;
  description: string;
  /** Syslog tags (program names) whose lines this parser reads. */
  tags: readonly string[];
  /** Tags that start with one of these are read too (Cyrus: `cyrus/pop3`, `cyrus/imaps`, …). */
  tagPrefixes?: readonly string[];
  /**
   * Any other tag that matches this anchored pattern is read too, when no parser names it exactly or
   * by prefix (Cyrus: `<syslog_prefix>/<service>`, both chosen by the admin: `cyrus/inst1/imap`, `mx2/pop3s`).
   */
  tagPattern?: RegExp;
  /**
   * Who may write this parser's lines where the log records the writer (journald's JSON, the
   * trusted rsyslog file): see writer.ts. An entry whose writer is not one of these grants nothing,
   * whatever its tag says (`logger -t dovecot …`).
   */
  writers: Writers;
  /** Also read lines without host and tag: the server's own log file (Dovecot's log_path). */
  untagged?: boolean;
  /** Fixed strings: a line containing none of them is skipped before any regex. */
  needles: readonly string[];
  rules: readonly Rule[];
  /** Where a session key comes from when a rule has no `session` group: the syslog pid. */
  sessionFromPid?: boolean;
  /** For servers that log the IP and the login on different lines: how long a `connect` is remembered. */
  linkWindowMs?: number;
}
