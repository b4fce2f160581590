// Lines of the servers popgate reads that name a client address near a login word but are not a
// successful POP/IMAP login: failed and aborted logins, other services (SMTP submission,
// ManageSieve, LMTP), session ends, TLS failures. Each says why, so the "looks like a login but no
// parser understood it" detector (src/parse/unknown.ts) reports real misses only, and
// `parse --explain` can say "not a login: …". Pure data: anchored patterns on the message body
// (after the syslog or own-log prefix), never a grant. `tags` as in ParserSpec; `untagged`: also
// in the server's own log file. parsers-not-logins.test.ts: each rule is hit by a samples line,
// and none matches a line annotated with an event.
import { IP, anchored } from '../src/parse/vocabulary.js';

export interface NotLoginRule {
  server: string;
  id: string;
  /** What the line is, said to the admin (`not a login: …`). */
  reason: string;
  tags: readonly string[];
  tagPrefixes?: readonly string[];
  untagged?: boolean;
  pattern: RegExp;
}

const LEVEL = '(?:(?:Info|Warning|Error|Fatal|Debug): )?';
const REST = '.{0,2048}';
const COURIER = ['pop3d', 'pop3d-ssl', 'imapd', 'imapd-ssl', 'couriertcpd', 'pop3login', 'imaplogin', 'courierpop3login', 'courierimaplogin'];
const DOVECOT = ['dovecot', 'imap-login', 'pop3-login', 'auth'];
const UW = ['ipop3d', 'imapd', 'ipop2d', 'in.ipop3d', 'in.imapd'];

export const NOT_LOGINS: readonly NotLoginRule[] = [
  // Dovecot
  {
    server: 'dovecot',
    id: 'auth-process',
    reason: 'Dovecot auth process (a password check: mismatch, unknown user…), not a login',
    tags: DOVECOT,
    untagged: true,
    pattern: anchored(`auth(?:-worker)?(?:\\(\\d{1,10}\\))?: ${LEVEL}${REST}`),
  },
  {
    server: 'dovecot',
    id: 'login-not-completed',
    reason: 'Dovecot login process: the client did not log in (auth failed, aborted, closed, TLS failed)',
    tags: DOVECOT,
    untagged: true,
    pattern: anchored(`[a-z0-9]{2,12}-login: ${LEVEL}(?:Disconnected|Aborted login|Login aborted|Connection closed|Maximum number of|Timeout)${REST}`),
  },
  {
    server: 'dovecot',
    id: 'other-service',
    reason: 'Dovecot SMTP submission / ManageSieve login: not POP or IMAP',
    tags: DOVECOT,
    untagged: true,
    pattern: anchored(`(?:submission|managesieve)-login: ${LEVEL}(?:Login|Logged in)${REST}`),
  },
  // Courier
  {
    server: 'courier',
    id: 'failed-or-ended',
    reason: 'Courier: failed login or session end (LOGIN FAILED, LOGOUT, DISCONNECTED, TIMEOUT)',
    tags: COURIER,
    pattern: anchored(`(?:LOGIN FAILED|LOGOUT|DISCONNECTED|TIMEOUT|Connection|authentication error)(?:,|:) ${REST}`),
  },
  // Cyrus
  { server: 'cyrus', id: 'badlogin', reason: 'Cyrus: failed login (badlogin)', tags: ['pop3d', 'imapd', 'pop3', 'imap'], tagPrefixes: ['cyrus/'], pattern: anchored(`badlogin: ${REST}`) },
  {
    server: 'cyrus',
    id: 'tls-failed',
    reason: 'Cyrus: TLS negotiation failed before any login',
    tags: ['pop3d', 'imapd', 'pop3', 'imap'],
    tagPrefixes: ['cyrus/'],
    pattern: anchored(`[a-z0-9]{1,16}(?: TLS negotiation)? failed: ${REST}`),
  },
  {
    server: 'cyrus',
    id: 'other-service',
    reason: 'Cyrus login of a service that is not POP or IMAP (lmtp, sieve)',
    tags: [],
    tagPrefixes: ['cyrus/lmtp', 'cyrus/sieve', 'cyrus/timsieved'],
    pattern: anchored(`login: ${REST}`),
  },
  // UW
  {
    server: 'uw',
    id: 'failed-or-ended',
    reason: 'UW imapd/ipop3d: failed login or session end (Login failed, Update, Logout, no mailbox)',
    tags: UW,
    pattern: anchored(`(?:Login failed|Logout|Update|Autologout|Killed|Login user=.{0,300} no mailbox)${REST}`),
  },
  // Qpopper
  {
    server: 'qpopper',
    id: 'err-reply',
    reason: 'Qpopper: an -ERR reply (bad password, no mailbox)',
    tags: ['qpopper', 'popper', 'in.qpopper'],
    pattern: anchored(`(?:\\(v[0-9a-z.]{1,16}\\) )?.{1,300} at [^ ]{0,255} \\(${IP}\\): -ERR ${REST}`),
  },
  // Perdition
  {
    server: 'perdition',
    id: 'auth-refused',
    reason: 'perdition: authentication refused (status other than ok)',
    tags: ['perdition'],
    tagPrefixes: ['perdition.'],
    pattern: anchored(`Auth: ${REST} status="(?!ok")[^"]{0,100}"`),
  },
  {
    server: 'perdition',
    id: 'connect-1x',
    reason: 'perdition 1.x: the client sent a name and password, not yet checked by the back-end (its `Closing:` line proves the login)',
    tags: ['perdition'],
    tagPrefixes: ['perdition.'],
    pattern: anchored(`Connect: ${IP}->${IP} user="${REST}" server="[^" ]{0,255}" port="[^" ]{0,16}"`),
  },
  {
    server: 'perdition',
    id: 'fail-1x',
    reason: 'perdition 1.x: the back-end refused the password',
    tags: ['perdition'],
    tagPrefixes: ['perdition.'],
    pattern: anchored(`Fail reauthentication for user ${REST}`),
  },
  // vpopmail
  {
    server: 'vchkpw',
    id: 'other-service',
    reason: 'vpopmail login for SMTP, submission or webmail: not POP or IMAP',
    tags: ['vpopmail', 'vchkpw'],
    pattern: anchored(`vchkpw-(?:smtp|submission|webmail|smtps)[^:]{0,16}: ${REST}`),
  },
];
