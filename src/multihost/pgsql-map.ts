// The Postfix pgsql: table file of reader mode 2 (no popgate on the MTA): a query that returns
// the literal access action for a granted address, judged by the database's clock, with the
// brake honoured. Postfix splits `hosts` on commas and spaces (one URI per host; one host is
// listed twice so a broken connection is retried at once) and sets no timeouts of its own.
import { targetOf } from './pgpass.js';

export interface PgsqlMapOptions {
  /** The store URL (its host, port, database and TLS parameters are kept). */
  url: string;
  /** The role Postfix connects as; it needs SELECT only. */
  user: string;
  /** Put in each URI when given (the file is then root:postfix 0640); otherwise a comment says how. */
  password: string | null;
  value: string;
  connectTimeoutS: number;
  statementTimeoutMs: number;
}

/** Postfix's pgsql client has no query timeout: a hung server is bounded by the smtpd's ipc_timeout. */
export const IPC_TIMEOUT_S = 10;

/**
 * The longest a lookup waits on a hung PostgreSQL before the 451: the smtpd gives up on proxymap
 * after ipc_timeout, waits 1 s, asks a fresh proxymap process, which fails to connect to each of
 * the two URIs within connect_timeout.
 */
export const hungBoundS = (connectTimeoutS: number) => IPC_TIMEOUT_S + 1 + 2 * connectTimeoutS;

/** What Postfix runs: %s is the client address (Postfix quotes it), the result is `value`. */
export function pgsqlQuery(value: string): string {
  return `SELECT '${value}' FROM popgate_grants WHERE ip = '%s' AND expires_at > now() AND NOT EXISTS (SELECT 1 FROM popgate_brake) LIMIT 1`;
}

/** One libpq URI for Postfix's hosts list: the reader role, connect and statement timeouts set. */
export function readerUri(o: PgsqlMapOptions): string {
  const u = new URL(o.url);
  u.username = encodeURIComponent(o.user);
  u.searchParams.set('connect_timeout', String(o.connectTimeoutS));
  u.searchParams.set('options', `-c statement_timeout=${o.statementTimeoutMs}`);
  // With URI hosts Postfix ignores its own user/password lines: libpq reads them from the URI.
  if (o.password !== null) u.searchParams.set('password', o.password);
  // URLSearchParams writes spaces as '+', which libpq reads literally.
  return u.toString().replace(/\+/g, '%20');
}

export function pgsqlMapText(o: PgsqlMapOptions): string {
  const uri = readerUri(o);
  const t = targetOf(o.url);
  return [
    '# Postfix pgsql: table of the grants popgate writers share (popgate pgsql-map; see README "Several hosts").',
    '# main.cf (reader mode 2, no popgate on this MTA):',
    '#   smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,',
    '#     check_client_access proxy:pgsql:/etc/postfix/popgate-pgsql.cf, reject_unauth_destination',
    '# master.cf: Postfix has no pgsql query timeout, so a hung PostgreSQL (connection open, no answer)',
    '# would hold the SMTP session for ipc_timeout (default 3600s). Bound it on each smtpd that uses this table:',
    `#   smtpd     inet  n       -       y       -       -       smtpd -o ipc_timeout=${IPC_TIMEOUT_S}s`,
    `# (and the same -o on submission/smtps). A hung lookup then ends in 451 within ~${hungBoundS(o.connectTimeoutS)} s, and`,
    '# answers 451 at once for 60 s after PostgreSQL is back (Postfix skips a failed host; postfix reload ends that).',
    "# Set it per service, not in main.cf: there it would bound every Postfix program's internal channels.",
    "# Keep this file root:postfix, mode 0640: it holds the reader role's password.",
    '# One URI per host (Postfix splits on spaces); a single host is listed twice to reconnect at once.',
    `hosts = ${uri} ${uri}`,
    `user = ${o.user}`,
    ...(o.password === null ? [`# No password given (--password-file): add &password=… to each URI, or &passfile=FILE (owned by postfix, 0600).`] : []),
    `dbname = ${t.database}`,
    // Names, "unknown" and partial keys simply find nothing: the column is text, not inet.
    `query = ${pgsqlQuery(o.value)}`,
    '',
  ].join('\n');
}
