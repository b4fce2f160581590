// vpopmail's vchkpw (qmail-pop3d / qmail-smtpd checkpassword), syslog tag `vpopmail[pid]`:
// `vchkpw-pop3: (PLAIN) login success user@domain:IP`. vchkpw names the service after the local
// port: only -pop3, -pop3s, -imap and -imaps are POP/IMAP logins; -smtp, -smtps, -submission
// (SMTP AUTH), -webmail (logins from the webmail host) and -<port> (unknown, could be SMTP) grant
// nothing. vpopmail 4.x: `vchkpw: login [user] from IP` (POP only). Written from vchkpw.c.
// vchkpw refuses a user name with ':'; a logged one has none, so the address is what follows it.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP } from '../src/parse/vocabulary.js';

export const vchkpw: ParserSpec = {
  name: 'vchkpw',
  description: 'vpopmail vchkpw (POP3 / IMAP successes only)',
  tags: ['vpopmail', 'vchkpw'],
  // vchkpw runs under qmail-popup (tcpserver / daemontools); it logs after switching to vpopmail.
  writers: { exes: ['/home/vpopmail/bin/vchkpw', '/var/vpopmail/bin/vchkpw', '/usr/local/vpopmail/bin/vchkpw'], units: ['qmail-pop3d.service', 'qmail-pop3ds.service', 'vpopmail.service'] },
  needles: ['login success', 'vchkpw: login ['],
  rules: [
    {
      id: 'login',
      kind: 'login',
      pattern: anchored(`vchkpw-(?<proto>pop3s?|imaps?): (?:\\([A-Z0-9-]{1,16}\\) |system password )login success (?<user>[^:]{1,256}):(?<ip>${IP})`),
    },
    { id: 'login-v4', kind: 'login', protocol: 'pop3', pattern: anchored(`vchkpw: login \\[(?<user>[^\\]]{1,256})\\] from (?<ip>${IP})`) },
  ],
};
