// GNU Mailutils pop3d / imap4d (3.x). By default they log no client address at all. With
// connection logging (`acl { log any; }`) the listening process logs the address, and with
// `logging { session-id yes; }` every line starts with a session id: the accepting process (one
// pid) logs `SID 192.0.2.1`, the child serving the session (another pid) logs `SID … logged in`.
// The session id is the only link between the two, so without session-id nothing grants.
// Old GNU pop3d (gnu-pop3d) logged `User U logged in with mailbox M from IP` on one line.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

const SID = '(?<session>[0-9A-Za-z]{4,32})';

export const mailutils: ParserSpec = {
  name: 'mailutils',
  description: 'GNU Mailutils pop3d / imap4d (needs acl log and logging session-id)',
  tags: ['pop3d', 'imap4d', 'gnu-pop3d', 'mailutils-pop3d', 'mailutils-imap4d'],
  // pop3d and imap4d log a login after switching to the mailbox's user: the unit vouches.
  writers: {
    exes: ['/usr/sbin/pop3d', '/usr/sbin/imap4d', '/usr/sbin/gnu-pop3d'],
    units: ['mailutils-pop3d.service', 'mailutils-imap4d.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'],
  },
  needles: ['logged in', 'undefined ACL result', 'session ended for user', 'session terminating for user', 'eof on input', '.', ':'],
  linkWindowMs: 10 * 60_000,
  rules: [
    { id: 'connect', kind: 'connect', pattern: anchored(`${SID} (?<ip>${IP})`) },
    { id: 'connect-acl', kind: 'connect', pattern: anchored(`${SID} inet6?://\\[?(?<ip>${IP})\\]?:\\d{1,5}: undefined ACL result; access allowed`) },
    {
      id: 'pop3-login',
      kind: 'login',
      protocol: 'pop3',
      pattern: anchored(`${SID} user \`(?<user>${USER_TEXT})' logged in with mailbox \`.{0,1024}' \\(\\d{1,12} messages?\\)`),
    },
    { id: 'imap-login', kind: 'login', protocol: 'imap', pattern: anchored(`${SID} user \`(?<user>${USER_TEXT})' logged in \\(source: [A-Za-z0-9_-]{1,32}\\)`) },
    // GNU pop3d (mailutils 0.x/1.x, tag gnu-pop3d) wrote the address on the login line itself.
    {
      id: 'gnu-pop3d-login',
      kind: 'login',
      protocol: 'pop3',
      pattern: anchored(`User (?<user>${USER_TEXT}) logged in with mailbox .{0,1024} from (?<ip>${IP})`),
    },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(`${SID} (?:session (?:ended|terminating) for user: (?<user>${USER_TEXT})|[Uu]nexpected eof on input)`),
    },
  ],
};
