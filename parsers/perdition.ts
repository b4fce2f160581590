// perdition (POP3/IMAP proxy): `Auth: CLIENT->LOCAL … status="ok"`, the client first. Old form:
// `Auth: 192.0.2.1->192.0.2.2 user="U" server="S" port="P" status="ok"`; 1.17+: `Auth:
// 192.0.2.1:4321->192.0.2.2:110 client-secure=… authorisation_id=… authentication_id="U"
// server="S:110" protocol=POP3 server-secure=… status="ok"`. Only status="ok" grants; the user
// text sits between the address and the status, which is the server's last field. Written from
// the formats perdition documents and pop-before-smtp-conf.pl; the 2.2 form is a real capture
// (parsers/capture/perdition.sh). Each session is one child process: `Closing session:` from the
// same pid ends it.
// perdition 1.x before status= (1.0–1.9, written from its perdition.c): `Connect: CLIENT->LOCAL
// user="U" server="S" port="P"` is logged when the client has sent USER/PASS, BEFORE the back-end
// checks the password, so it never grants. The child leaves its retry loop only after the back-end
// accepted the login, and logs `Closing: CLIENT->LOCAL user=U READ WRITTEN` when that session ends:
// the only line of these versions that proves a login, so it grants (at the session's end).
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

// Old form: bare addresses; new form: always address:port. Kept apart, so an IPv6 address is
// never split in the wrong place (`2001:db8::1:2` is not `2001:db8::1` port 2).
const CLIENT_OLD = `(?<ip>${IP})->${IP}`;
const CLIENT = `(?<ip>${IP}):\\d{1,5}->${IP}:\\d{1,5}`;

export const perdition: ParserSpec = {
  name: 'perdition',
  description: 'perdition POP3/IMAP proxy (Auth: … status="ok")',
  tags: ['perdition'],
  tagPrefixes: ['perdition.', 'perdition-'],
  // perdition.pop3s and the rest are links to one binary; _EXE names the binary itself.
  writers: { exes: ['/usr/sbin/perdition', '/usr/local/sbin/perdition'], units: ['perdition.service', 'perdition@'] },
  needles: ['Auth: ', 'Closing session: ', 'Closing: '],
  sessionFromPid: true,
  rules: [
    {
      id: 'login-old',
      kind: 'login',
      pattern: anchored(`Auth: ${CLIENT_OLD} user="(?<user>${USER_TEXT})" server="[^" ]{0,255}" port="(?<proto>[A-Za-z0-9]{1,16})" status="ok"`),
    },
    {
      id: 'login',
      kind: 'login',
      pattern: anchored(
        `Auth: ${CLIENT} client-secure=[a-z]{1,16} authorisation_id=.{0,300} authentication_id="(?<user>${USER_TEXT})" `,
        'server="[^" ]{0,255}" protocol=(?<proto>POP3S?|IMAP4S?|MANAGESIEVE) server-secure=[a-z]{1,16} status="ok"',
      ),
    },
    // 1.x: the name sits between the address and the two byte counts, the line's last fields.
    { id: 'login-1x-closing', kind: 'login', pattern: anchored(`Closing: ${CLIENT_OLD} user=(?<user>${USER_TEXT}) \\d{1,20} \\d{1,20}`) },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(`Closing session: ${CLIENT} authorisation_id=.{0,300} authentication_id="${USER_TEXT}" received=\\d{1,20} sent=\\d{1,20}`),
    },
  ],
};
