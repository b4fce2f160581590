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
