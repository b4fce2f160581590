// Dovecot 2.x: the login process logs `Login:` with rip= (the client) and session=<id>;
// the mail process logs the session's end with the same id in its `<pid><id>` prefix.
// Read from syslog (tag `dovecot`) or from Dovecot's own log_path file (no tag, `Info: ` level).
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, MECH, SESSION_ID } from '../src/parse/vocabulary.js';

const LEVEL = '(?:Info: )?';
// Fields Dovecot appends after lip=: mpid, TLS / secured / TLS handshaking notes; session last.
const TRAILER = `(?:, mpid=\\d+)?(?:, [A-Za-z][A-Za-z0-9 :._()/-]*)*?(?:, session=<(?<session>${SESSION_ID})>)?`;

export const dovecot: ParserSpec = {
  name: 'dovecot',
  description: 'Dovecot 2.x pop3-login / imap-login, via syslog or log_path',
  tags: ['dovecot'],
  untagged: true,
  needles: ['-login: ', 'Logged out', 'Disconnected', 'Connection closed'],
  rules: [
    {
      id: 'login',
      kind: 'login',
      // user=<…> is client text: the greedy group plus the fixed tail makes rip= the one Dovecot wrote.
      pattern: anchored(
        `(?<proto>pop3|imap)-login: ${LEVEL}Login: user=<(?<user>.*)>, method=${MECH}, rip=(?<ip>${IP}), lip=${IP}`,
        TRAILER,
      ),
    },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(
        `(?<proto>pop3|imap)\\((?<user>.*)\\)<\\d+><(?<session>${SESSION_ID})>: ${LEVEL}`,
        '(?:Disconnected|Logged out|Connection closed)(?:[:( ].*)?',
      ),
    },
  ],
};
