// solid-pop3d (Debian: built with logextend, "connect from" and resolve; logs to local0, not
// mail). With logextend: `user X authenticated - IP`, `session ended for user X - IP`; without
// it: `connect from IP` then `authentication successful` from the same pid. With resolve the
// connect line reads `connect from HOST (IP)`. The user name comes first and is client text, but
// the server's ` - IP` is the line's end, so the address is always the last field.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, HOSTNAME, IP, USER_TEXT } from '../src/parse/vocabulary.js';

export const solidpop3d: ParserSpec = {
  name: 'solidpop3d',
  description: 'solid-pop3d (logextend one-line form, and pid-linked form without it)',
  tags: ['solid-pop3d', 'spop3d'],
  writers: { exes: ['/usr/sbin/solid-pop3d'], units: ['solid-pop3d.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'] },
  needles: ['authenticated', 'authentication successful', 'connect from ', 'session ended'],
  sessionFromPid: true,
  linkWindowMs: 10 * 60_000,
  rules: [
    {
      id: 'login',
      kind: 'login',
      protocol: 'pop3',
      pattern: anchored(`(?:mapped )?user (?<user>${USER_TEXT}) authenticated(?: through APOP)? - (?<ip>${IP})`),
    },
    { id: 'connect', kind: 'connect', pattern: anchored(`connect from (?<ip>${IP})`) },
    { id: 'connect-resolved', kind: 'connect', pattern: anchored(`connect from ${HOSTNAME} \\((?<ip>${IP})\\)`) },
    { id: 'linked-login', kind: 'login', protocol: 'pop3', pattern: anchored('authentication successful') },
    { id: 'logout', kind: 'logout', pattern: anchored(`session ended(?: for (?:mapped )?user ${USER_TEXT} - ${IP})?`) },
  ],
};
