// Dovecot 1.x–2.4: the login process logs `Login:` (2.4: `Logged in:`; its failures say `Login
// aborted:`) with rip= (the client) and, from 2.0 on,
// session=<id>; the mail process logs the session's end with the same id in its `<pid><id>`
// prefix. Read from syslog (tag `dovecot`, or `dovecot[pid]` when journald forwards it; 1.x and
// 0.99 also logged as `imap-login` / `pop3-login`), from journald's JSON (the login and mail
// processes are `imap-login`, `pop3-login`, `imap`, `pop3`), or from Dovecot's own log_path file
// (no tag, `Info: ` level, default or custom log_timestamp such as `%Y-%m-%d %H:%M:%S `).
// user=<…> is the one client text and comes first: bounded (USER_TEXT) and greedy, so the fixed
// tail Dovecot wrote — rip= and the fields after it, each of a known safe shape — is the match.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, MECH, SESSION_ID, USER_TEXT } from '../src/parse/vocabulary.js';

const LEVEL = '(?:Info: )?';
// Fields after lip=: mpid, TLS / secured / `TLS handshaking: …` notes, and the custom
// login_log_format_elements that carry no client text (ports, pids); session last.
const NOTE = '[A-Za-z][A-Za-z0-9 :._()/-]{0,200}';
const TRAILER = `(?:, (?:mpid|pid|rport|lport)=\\d{1,10})*(?:, ${NOTE}){0,6}?(?:, session=<(?<session>${SESSION_ID})>)?`;
const LOGIN = `(?:Login|Logged in): user=<(?<user>${USER_TEXT})>, method=${MECH}, rip=(?<ip>${IP}), lip=${IP}${TRAILER}`;

export const dovecot: ParserSpec = {
  name: 'dovecot',
  description: 'Dovecot 1.x–2.4 pop3-login / imap-login, via syslog, journald or log_path',
  tags: ['dovecot', 'imap-login', 'pop3-login'],
  comms: ['dovecot', 'imap-login', 'pop3-login', 'imap', 'pop3', 'log'],
  untagged: true,
  needles: ['Login: ', 'Logged in: ', 'Logged out', 'Disconnected', 'Connection closed'],
  rules: [
    { id: 'login', kind: 'login', pattern: anchored(`(?<proto>pop3|imap)-login: ${LEVEL}${LOGIN}`) },
    // 1.x / 0.99 with the login process's own syslog ident: the tag names the protocol.
    { id: 'login-tagged', kind: 'login', tag: /^(?:imap|pop3)-login$/, pattern: anchored(`${LEVEL}${LOGIN}`) },
    // 0.99 / 1.0 betas: `imap-login: Login: alice [192.0.2.1]`.
    { id: 'login-0.99', kind: 'login', pattern: anchored(`(?<proto>pop3|imap)-login: Login: (?<user>[^ ]{1,256}) \\[(?<ip>${IP})\\]`) },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(
        `(?<proto>pop3|imap)\\((?<user>${USER_TEXT})\\)<\\d{1,10}><(?<session>${SESSION_ID})>: ${LEVEL}`,
        '(?:Disconnected|Logged out|Connection closed)(?:[:( ].{0,2048})?',
      ),
    },
  ],
};
