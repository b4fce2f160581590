// Courier (courier-imap / courier-pop, via couriertcpd and courierlogger): one line per login,
// `LOGIN, user=…, ip=[…], port=[…]` (imapd adds `, protocol=IMAP`); the session ends with
// LOGOUT / DISCONNECTED / TIMEOUT carrying `user=` and the same ip and port. A `Disconnected`
// without `user=` follows a failed login and ends nothing. Old versions log no `port=`.
// The user name is client text and comes first: the fixed tail the server appends, anchored at
// the end, is what names the client, never an `ip=[…]` inside the name.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

const SESSION = `(?<session>ip=\\[(?<ip>${IP})\\](?:, port=\\[\\d{1,5}\\])?)`;
/** Counters Courier appends to a session's end: `, top=0, retr=0, rcvd=12, sent=39, time=0, stls=1`. */
const COUNTERS = '(?:, [a-z]{1,16}=\\d{1,20}){0,16}';

export const courier: ParserSpec = {
  name: 'courier',
  description: 'Courier IMAP / POP3 (pop3d, pop3d-ssl, imapd, imapd-ssl, couriertcpd, pop3login / imaplogin)',
  tags: ['pop3d', 'pop3d-ssl', 'imapd', 'imapd-ssl', 'couriertcpd', 'pop3login', 'imaplogin', 'courierpop3login', 'courierimaplogin', 'courierpop3d', 'courier-imapd', 'courier-pop3d'],
  // Debian's courierlogger (root) passes on what the login programs write to stderr; without it they log themselves.
  writers: {
    exes: ['/usr/sbin/courierlogger', '/usr/sbin/couriertcpd', '/usr/lib/courier/', '/usr/bin/imapd', '/usr/lib/courier-imap/', '/usr/libexec/courier-imap/', '/usr/libexec/courier-authlib/'],
    users: ['root'],
    units: ['courier-imap.service', 'courier-imap-ssl.service', 'courier-pop.service', 'courier-pop-ssl.service'],
  },
  needles: ['LOGIN, user=', 'LOGOUT, user=', 'DISCONNECTED, user=', 'TIMEOUT, user='],
  rules: [
    {
      id: 'login',
      kind: 'login',
      // Courier 5.2 (Debian 13) appends `, stls=1` / `, starttls=1` after a TLS login.
      pattern: anchored(`LOGIN, user=(?<user>${USER_TEXT}), ${SESSION}(?:, protocol=(?<proto>IMAP|POP3))?(?:, [a-z]{1,16}=\\d{1,20}){0,4}`),
    },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(`(?:LOGOUT|DISCONNECTED|TIMEOUT), user=(?<user>${USER_TEXT}), ${SESSION}`, COUNTERS),
    },
  ],
};
