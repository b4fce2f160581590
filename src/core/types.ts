// Public types shared by sources, parsers, the grant store and publishers.

export type Protocol = 'pop3' | 'imap';

/** One line of a log, as a source hands it over. */
export interface LogLine {
  text: string;
  /** Where it came from: a path, `-` for stdin. */
  origin: string;
  /** 1-based line number within the file read (for `parse` output). */
  lineNo: number;
  /** When popgate read it (ms since the epoch). */
  readAt: number;
  /** True when read as it was written; false while catching up on a backlog. */
  live: boolean;
}

/** A successful login or the end of a session, as the parsers recognise it. */
export interface AuthEvent {
  event: 'login' | 'logout';
  /** Canonical IP address (see net/ip.ts). */
  ip: string;
  user: string | null;
  /** Parser name, e.g. `dovecot`. */
  server: string;
  protocol: Protocol | null;
  /** The line's own timestamp (ms), null when it has none. */
  time: number | null;
  /** Session key (parser-scoped) that ties a logout to its login; null when the server logs none. */
  session: string | null;
  /** Id of the rule that matched, for --explain. */
  rule: string;
}

/** An event and the log line that completed it (a held login keeps its own login line). */
export interface Found {
  event: AuthEvent;
  line: LogLine;
}

export interface Grant {
  ip: string;
  expiresAt: number;
  firstLogin: number;
  lastLogin: number;
  user: string | null;
  server: string | null;
  protocol: Protocol | null;
  openSessions: number;
}
