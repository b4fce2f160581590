// Qpopper (popper / qpopper / in.qpopper): with login logging, `(vX) POP login by user "U" at
// (HOST) IP [pop_log.c:244]`; at the end of every served session `Stats: U N N N N HOST IP`. Also
// Qpopper's own log file (`stamp [popper] …`, or `Wed Nov 25 16:03:47 2026 [pid]  Stats: …`). The
// user name is quoted client text that may hold `" at (x) 203.0.113.9` (the CVE-2001-1075 trick):
// the fixed tail anchored at the end is what names the client. The Stats line is the only trace of
// older setups, so it grants too.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, HOSTNAME, IP, USER_TEXT } from '../src/parse/vocabulary.js';

const VERSION = '(?:\\(v[0-9A-Za-z._-]{1,20}\\) )?';
const WHERE = '(?: \\[[A-Za-z0-9_]{1,32}\\.c:\\d{1,6}\\])?';

export const qpopper: ParserSpec = {
  name: 'qpopper',
  description: 'Qpopper (POP login by user …, Stats:, syslog or its own log)',
  tags: ['qpopper', 'in.qpopper', 'popper', 'in.popper', 'qpopper3', 'qpopper4'],
  writers: {
    exes: ['/usr/sbin/in.qpopper', '/usr/sbin/popper', '/usr/sbin/qpopper', '/usr/local/sbin/popper'],
    units: ['qpopper.service', 'inetd.service', 'openbsd-inetd.service', 'inetutils-inetd.service', 'xinetd.service'],
  },
  // Its own log file: `[popper]` after the stamp (a tag), or a ctime stamp and `[pid]` (no tag).
  untagged: true,
  needles: ['POP login by user', 'Stats: '],
  sessionFromPid: true,
  rules: [
    {
      id: 'login',
      kind: 'login',
      protocol: 'pop3',
      pattern: anchored(`${VERSION}POP login by user "(?<user>${USER_TEXT})" at \\(${HOSTNAME}\\) (?<ip>${IP})`, WHERE),
    },
    {
      id: 'stats',
      kind: 'login',
      protocol: 'pop3',
      pattern: anchored(` ?Stats: (?<user>[^ ]{1,256}) \\d{1,10} \\d{1,20} \\d{1,10} \\d{1,20} (?:${HOSTNAME} )?(?<ip>${IP})`, WHERE),
    },
  ],
};
