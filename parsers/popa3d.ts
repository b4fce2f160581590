// popa3d (standalone, as Debian runs it): the child serving a session logs `Session from IP`,
// then `Authentication passed for USER`, both with its pid, to syslog facility daemon — so its
// lines are in /var/log/syslog or daemon.log, not in mail.log. IPv4 only. The session ends with
// `N (B) deleted, N (B) left` (QUIT) or `Premature disconnect`.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

export const popa3d: ParserSpec = {
  name: 'popa3d',
  description: 'popa3d (pid-linked "Session from" and "Authentication passed", facility daemon)',
  tags: ['popa3d'],
  writers: { exes: ['/usr/sbin/popa3d'], units: ['popa3d.service', 'popa3d@', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'] },
  needles: ['Session from ', 'Authentication passed for ', ' left', 'Premature disconnect'],
  sessionFromPid: true,
  linkWindowMs: 10 * 60_000,
  rules: [
    { id: 'connect', kind: 'connect', pattern: anchored(`Session from (?<ip>${IP})`) },
    { id: 'login', kind: 'login', protocol: 'pop3', pattern: anchored(`Authentication passed for (?<user>${USER_TEXT})`) },
    // popa3d with the pop-before-smtp patch: the address on the login line itself, used only when
    // no Session line of the same pid came first (that one is the server's own, always preferred).
    { id: 'login-patched', kind: 'login', protocol: 'pop3', pattern: anchored(`Authentication passed for (?<user>[^ ]{1,256}) -- \\[(?<ip>${IP})\\]`) },
    { id: 'logout', kind: 'logout', pattern: anchored('(?:\\d{1,10} \\(\\d{1,20}\\) deleted, \\d{1,10} \\(\\d{1,20}\\) left|Premature disconnect)') },
  ],
};
