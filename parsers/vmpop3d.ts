// vm-pop3d (virtual-mail POP3): `User U logged in from IP`, or in older versions `Connect from
// IP` and `User U logged in` from the same pid; some builds quote the name (`User 'U' logged in
// from IP`). Written from the formats pop-before-smtp's
// configuration documents (pop-before-smtp-conf.pl); the address is the line's last field.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

export const vmpop3d: ParserSpec = {
  name: 'vmpop3d',
  description: 'vm-pop3d (one-line and pid-linked forms)',
  tags: ['vm-pop3d'],
  writers: { exes: ['/usr/sbin/vm-pop3d', '/usr/local/sbin/vm-pop3d'], units: ['vm-pop3d.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'] },
  needles: ['logged in', 'Connect from '],
  sessionFromPid: true,
  rules: [
    { id: 'login-quoted', kind: 'login', protocol: 'pop3', pattern: anchored(`User '(?<user>${USER_TEXT})' logged in from (?<ip>${IP})`) },
    { id: 'login', kind: 'login', protocol: 'pop3', pattern: anchored(`User (?<user>${USER_TEXT}) logged in from (?<ip>${IP})`) },
    { id: 'connect', kind: 'connect', pattern: anchored(`Connect from (?<ip>${IP})`) },
    { id: 'linked-login', kind: 'login', protocol: 'pop3', pattern: anchored(`User (?<user>${USER_TEXT}) logged in`) },
  ],
};
