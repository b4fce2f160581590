// UW IMAP toolkit (c-client) ipop3d / imapd: `Login|Auth|APOP user=U host=H nmsgs=…` (ipop3d),
// `Login|Authenticated|Preauthenticated user=U host=H [mech=M]` (imapd), where H is c-client's
// tcp_clienthost(): `name [ip]` or `[ip]`. A host name without an address grants nothing. The
// session ends with `Logout|Autologout|Killed|… user=U host=H` from the same pid. Formats from
// ipopd/ipop3d.c and imapd/imapd.c of imap-2007; Solaris' `[ID n mail.info]` is taken off by the
// prefix parser. Lines passed on without host (a syslog template or pipe that writes `stamp
// ipop3d[pid]: msg`, read as a server's own log) carry the program and pid in the message: the
// optional OWN part reads them there (pid as the session key). A line without any timestamp is not
// read (no grant can be dated).
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, HOSTNAME, IP, USER_TEXT } from '../src/parse/vocabulary.js';

// user=%.80s: bounded by the server; the host part is the server's and comes last.
const USER_HOST = `user=(?<user>${USER_TEXT}) host=(?:${HOSTNAME} )?\\[(?<ip>${IP})\\]`;

const TAGS = ['ipop3d', 'ipop3s', 'ipop3sd', 'ipop2d', 'imapd', 'imaps', 'imapsd', 'pop3d', 'pop3sd'];
// `ipop3d[123]: ` at the start of an untagged line (never in a tagged line's message).
const OWN = `(?:(?<proto>${TAGS.join('|')})(?:\\[(?<pid>\\d{1,10})\\])?: )?`;

export const uw: ParserSpec = {
  name: 'uw',
  description: 'UW IMAP ipop3d / imapd (c-client)',
  tags: TAGS,
  untagged: true,
  // UW servers run from inetd and log as the user once logged in.
  writers: {
    exes: ['/usr/sbin/ipop3d', '/usr/sbin/imapd', '/usr/sbin/ipop2d', '/usr/local/sbin/ipop3d', '/usr/local/sbin/imapd'],
    units: ['inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'],
  },
  needles: [' user=', ' host='],
  sessionFromPid: true,
  rules: [
    { id: 'pop3-login', kind: 'login', protocol: 'pop3', pattern: anchored(`${OWN}(?:Login|Auth|APOP) ${USER_HOST} nmsgs=\\d{1,10}/\\d{1,10}`) },
    { id: 'imap-login', kind: 'login', protocol: 'imap', pattern: anchored(`${OWN}(?:Login|Authenticated) ${USER_HOST}(?: mech=[A-Za-z0-9_-]{1,32})?`) },
    {
      id: 'logout',
      kind: 'logout',
      pattern: anchored(
        `${OWN}(?:Logout|Autologout|Killed|Killed \\(lost mailbox lock\\)|Hangup|Command stream end of file|Connection broken|`,
        `Unexpected client disconnect, while reading line|[A-Za-z][A-Za-z ]{0,60}, while reading line) ${USER_HOST}`,
        '(?: nmsgs=\\d{1,10} ndele=\\d{1,10})?',
      ),
    },
  ],
};
