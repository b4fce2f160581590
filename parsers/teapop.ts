// teapop: `Successful login for USER … [IP]`, the address in brackets at the end. Written from the
// format pop-before-smtp-conf.pl documents (the middle of the line is not pinned down there, so it
// is taken loosely — but never with an address after it).
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP } from '../src/parse/vocabulary.js';

export const teapop: ParserSpec = {
  name: 'teapop',
  description: 'teapop (Successful login for … [IP])',
  tags: ['teapop'],
  writers: { exes: ['/usr/sbin/teapop', '/usr/local/sbin/teapop'], units: ['teapop.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'] },
  needles: ['Successful login for '],
  rules: [{ id: 'login', kind: 'login', protocol: 'pop3', pattern: anchored(`Successful login for (?<user>[^ ]{1,256}) [^\\[\\]]{1,300} \\[(?<ip>${IP})\\]`) }],
};
