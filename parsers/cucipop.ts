// cucipop (Cubic Circle's POP3): one line at the end of each served session, `USER IP N, N (B),
// N (B)` (messages and bytes deleted and left). Written from the format pop-before-smtp-conf.pl
// documents; the session was authenticated, so it grants.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP } from '../src/parse/vocabulary.js';

export const cucipop: ParserSpec = {
  name: 'cucipop',
  description: 'cucipop (end-of-session line: user, IP, counts)',
  tags: ['cucipop'],
  writers: { exes: ['/usr/sbin/cucipop', '/usr/local/sbin/cucipop'], units: ['cucipop.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'] },
  needles: ['), '],
  rules: [{ id: 'session', kind: 'login', protocol: 'pop3', pattern: anchored(`(?<user>[^ ]{1,256}) (?<ip>${IP}) \\d{1,10}, \\d{1,10} \\(\\d{1,20}\\), \\d{1,10} \\(\\d{1,20}\\)`) }],
};
