// Dovecot 1.x–2.4: the login process logs `Login:` (2.4: `Logged in:`; its failures say `Login
// aborted:`) with rip= (the client) and, from 2.0 on,
// session=<id>; the mail process logs the session's end with the same id in its `<pid><id>`
// prefix. Read from syslog (tag `dovecot`, or `dovecot[pid]` when journald forwards it; 1.x and
// 0.99 also logged as `imap-login` / `pop3-login`), from journald's JSON (written by Dovecot's log
// process, `/usr/lib/dovecot/log` as root, for every Dovecot process), or from Dovecot's own log_path file
// (no tag, `Info: ` level, default or custom log_timestamp such as `%Y-%m-%d %H:%M:%S `).
// user=<…> is the one client text and comes first: bounded (USER_TEXT) and greedy, so the fixed
// tail Dovecot wrote — rip= and the fields after it, each of a known safe shape — is the match.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, MECH, SESSION_ID, USER_TEXT } from '../src/parse/vocabulary.js';

const LEVEL = '(?:Info: )?';
// Fields after lip=: mpid, TLS / secured / `TLS handshaking: …` notes, and the custom
// login_log_format_elements that carry no client text (ports, pids); session last.
const NOTE = '[A-Za-z][A-Za-z0-9 :._()/-]{0,200}';
const TRAILER = `(?:, (?:mpid=(?<pid>\\d{1,10})|(?:pid|rport|lport)=\\d{1,10}))*(?:, ${NOTE}){0,6}?(?:, session=<(?<session>${SESSION_ID})>)?`;
const LOGIN = `(?:Login|Logged in): user=<(?<user>${USER_TEXT})>, method=${MECH}, rip=(?<ip>${IP}), lip=${IP}${TRAILER}`;

// login_log_format_elements in any order, some missing, extra ones (rport=, lport=, real_rip=,
// %k's cipher text, custom key=value elements), in `%$: %s` or `%$ [%s]` (login_log_format). The
// one client text is user=<…>: every other element must be one Dovecot writes in a known safe
// shape (E: never user=, rip=, session= or another client-text key). Where rip= comes after the
// user, the tokens between and after it may hold no other rip=, so the match is the last one in the
// line, Dovecot's own; where it comes before, it is read before any client text. A session= in the server's elements before the user
// is read by a lookahead over them; one after rip= (or after the user, rip first) by its own rule.
// Dovecot must log rip= and the user's text only in user=<%u>: doctor checks login_log_format_elements.
const CLIENT_KEYS = 'user|orig_user|orig_username|orig_domain|auth_user|auth_username|auth_domain|username|domain|login_user|master_user';
const E = `(?!(?:rip|session|${CLIENT_KEYS})=)(?:[A-Za-z_][A-Za-z0-9_-]{0,31}=[A-Za-z0-9:._/+@-]{0,128}|${NOTE})`;
const E2 = `(?:${E}|session=<${SESSION_ID}>)`;
const HEAD = `(?<proto>pop3|imap)-login: ${LEVEL}(?:Login|Logged in)(?:: | \\[)`;
// The user's text may not swallow another client-text element (orig_user=<…> after it could carry a
// rip=). Lazy, so a plain name stays plain; a name holding `>, ` grows until the rest parses.
const USER = `user=<(?<user>(?:(?!, (?:${CLIENT_KEYS})=<).){0,256}?)>`;
/** A session= among the elements before the user (server-written): looked ahead at, not consumed. */
const SESSION_BEFORE = `(?:(?=(?:(?:${E}|rip=${IP}), ){0,16}session=<(?<session>${SESSION_ID})>, )|)`;
const END = '(?:Disconnected|Logged out|Connection closed)(?:[:( ].{0,2048})?';
const SESSION_AFTER = `(?:, ${E}){0,16}, session=<(?<session>${SESSION_ID})>(?:, ${E}){0,16}`;

export const dovecot: ParserSpec = {
  name: 'dovecot',
  description: 'Dovecot 1.x–2.4 pop3-login / imap-login, via syslog, journald or log_path',
  tags: ['dovecot', 'imap-login', 'pop3-login'],
  // Every Dovecot process logs through its log process (or the master's stderr): root, Dovecot's binaries.
  writers: { exes: ['/usr/lib/dovecot/', '/usr/libexec/dovecot/', '/usr/sbin/dovecot', '/usr/local/libexec/dovecot/', '/usr/local/sbin/dovecot'], users: ['root'], units: ['dovecot.service'] },
  untagged: true,
  needles: ['Login: ', 'Login [', 'Logged in: ', 'Logged in [', 'Logged out', 'Disconnected', 'Connection closed'],
  rules: [
    { id: 'login', kind: 'login', pattern: anchored(`(?<proto>pop3|imap)-login: ${LEVEL}${LOGIN}`) },
    // 1.x / 0.99 with the login process's own syslog ident: the tag names the protocol.
    { id: 'login-tagged', kind: 'login', tag: /^(?:imap|pop3)-login$/, pattern: anchored(`${LEVEL}${LOGIN}`) },
    // 0.99 / 1.0 betas: `imap-login: Login: alice [192.0.2.1]`.
    { id: 'login-0.99', kind: 'login', pattern: anchored(`(?<proto>pop3|imap)-login: Login: (?<user>[^ ]{1,256}) \\[(?<ip>${IP})\\]`) },
    // Configured element lists (see above): the user before rip=, or rip= before the user.
    { id: 'login-user-first-session-last', kind: 'login', pattern: anchored(`${HEAD}(?:${E}, ){0,16}${USER}(?:, ${E2}){0,16}, rip=(?<ip>${IP})${SESSION_AFTER}\\]?`) },
    { id: 'login-user-first', kind: 'login', pattern: anchored(`${HEAD}${SESSION_BEFORE}(?:${E2}, ){0,16}${USER}(?:, ${E2}){0,16}, rip=(?<ip>${IP})(?:, ${E2}){0,16}\\]?`) },
    { id: 'login-rip-first-session-last', kind: 'login', pattern: anchored(`${HEAD}(?:${E}, ){0,16}rip=(?<ip>${IP}), (?:${E}, ){0,16}${USER}${SESSION_AFTER}\\]?`) },
    { id: 'login-rip-first', kind: 'login', pattern: anchored(`${HEAD}${SESSION_BEFORE}(?:${E2}, ){0,16}rip=(?<ip>${IP}), (?:${E2}, ){0,16}${USER}(?:, ${E2}){0,16}\\]?`) },
    {
      // mail_log_prefix: `%s(%u)<%{pid}><%{session}>: ` (default), with `,%r` after the user, or
      // `%s(%u)<%{session}>: `. A bracket of 1-10 digits alone is a pid, never a session id
      // (Dovecot's are 16 or more base64 characters): the rule below reads it.
      id: 'logout',
      kind: 'logout',
      pattern: anchored(`(?<proto>pop3|imap)\\((?<user>${USER_TEXT})\\)(?:<\\d{1,10}>)?<(?!\\d{1,10}>)(?<session>${SESSION_ID})>: ${LEVEL}`, END),
    },
    {
      // `%s(%u)<%{pid}>: ` (no session): the end names only the mail process, the login's mpid=.
      // The user text is greedy, so the last `)<pid>: ` (Dovecot's own) is the one read.
      id: 'logout-pid',
      kind: 'logout',
      pattern: anchored(`(?<proto>pop3|imap)\\((?<user>${USER_TEXT})\\)<(?<pid>\\d{1,10})>: ${LEVEL}`, END),
    },
  ],
};
