// Cyrus IMAP (imapd, pop3d under cyrmaster): `login: [host ]\[ip\] user mech[+TLS] User logged in
// SESSIONID=<…>`, tagged `cyrus/<service>[pid]` (service names come from cyrus.conf: pop3, imaps,
// pop3v6, …) or, in old versions, `pop3d` / `imapd` / `pop3` / `imap`. The client host comes
// before the user name, so a name cannot put an address in front of it.
// pop3d can still refuse a login it has just logged as successful (popminpoll — on by default in
// Debian's imapd.conf —, a mailbox it cannot open or lock, too many connections): its POP logins
// are held for a moment and dropped when such a line from the same process follows.
// The tag is `<syslog_prefix>/<service>` (cyrus_init: both the admin's; no prefix: the service alone,
// `cyrus/inst1/imap`, `inst2/pop3`, `imaps`), so any such tag is read, by tagPattern.
// Services are told apart by the tag's last part, so one named neither …pop… nor …imap… grants nothing.
// A murder frontend (imapd/pop3d since 2.3, proxyd/pop3proxyd in 2.2) logs the client's address; a
// backend logs the frontend's, which only `exclude` can keep from being granted (README).
// A session ends with `USAGE user …` (imapd and pop3d) from the same process.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, HOSTNAME, IP, MECH, SESSION_ID, USER_TEXT } from '../src/parse/vocabulary.js';

const CLIENT = `(?:${HOSTNAME} ?)?\\[(?<ip>${IP})\\]`;
const LOGGED_IN = `(?<user>${USER_TEXT}) ${MECH}(?:\\+TLS)? User logged in(?: SESSIONID=<${SESSION_ID}>)?`;
// The service is the tag's last part (`cyrus/inst1/pop3s`: the prefix is the admin's `syslog_prefix`,
// which may hold any word, `pop` or `imap` too).
const POP = /(?:^|\/)[^/]{0,64}pop[^/]{0,64}$/i;
// Sieve, LMTP, NNTP and HTTP services log the same `login:` line: only POP and IMAP services grant.
// A Cyrus 2.2 murder frontend logs as `proxyd` (IMAP) and `pop3proxyd`.
const IMAP = /(?:^|\/)[^/]{0,64}(?:imap|proxyd)[^/]{0,64}$/i;
// `<syslog_prefix>/<service>` (one to four prefix parts), or a bare service name (no syslog_prefix),
// whose name says POP or IMAP: the rules above then pick by the last part.
const TAG = /^(?:[A-Za-z0-9_.-]{1,64}\/){0,4}[A-Za-z0-9_.-]{0,64}(?:pop|imap|proxyd)[A-Za-z0-9_.-]{0,64}$/i;

export const cyrus: ParserSpec = {
  name: 'cyrus',
  description: 'Cyrus IMAP / POP3 (cyrus/imap, cyrus/pop3, imaps, pop3s, … and old pop3d / imapd tags)',
  tags: ['pop3', 'imap', 'pop3s', 'imaps', 'pop3d', 'imapd', 'proxyd', 'pop3proxyd'],
  tagPrefixes: ['cyrus/', 'cyrus-imapd/'],
  tagPattern: TAG,
  // cyrmaster runs the services as imapd and pop3d processes.
  // The services run as the cyrus user, forked by Cyrus's master.
  writers: { exes: ['/usr/lib/cyrus/bin/', '/usr/libexec/cyrus-imapd/', '/usr/lib/cyrus-imapd/'], users: ['cyrus'], units: ['cyrus-imapd.service'] },
  needles: ['User logged in', 'Logins must be at least', 'maildrop', 'Too many open connections', 'backend server', 'USAGE '],
  sessionFromPid: true,
  rules: [
    { id: 'pop3-login', kind: 'login', tag: POP, pattern: anchored(`login: ${CLIENT} ${LOGGED_IN}`), protocol: 'pop3', holdMs: 2000 },
    { id: 'imap-login', kind: 'login', tag: IMAP, pattern: anchored(`login: ${CLIENT} ${LOGGED_IN}`), protocol: 'imap' },
    { id: 'popminpoll', kind: 'veto', tag: POP, pattern: anchored('[^ ]{1,512}: Logins must be at least \\d{1,9} minutes? apart') },
    { id: 'maildrop', kind: 'veto', tag: POP, pattern: anchored('Unable to (?:open|lock) maildrop .{1,1024}') },
    { id: 'limits', kind: 'veto', tag: POP, pattern: anchored('Too many open connections \\(.{0,2100}\\)') },
    { id: 'backend', kind: 'veto', tag: POP, pattern: anchored("couldn't authenticate to backend server") },
    { id: 'usage', kind: 'logout', pattern: anchored(`USAGE (?<user>${USER_TEXT}) user: \\d{1,12}\\.\\d{1,9} sys: \\d{1,12}\\.\\d{1,9}`) },
  ],
};
