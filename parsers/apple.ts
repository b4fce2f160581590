// Apple Mail Server (Mac OS X Server 10.2–10.3, AppleMailServer.IMAP.log / .POP3.log, its own log
// files with `Jul 14 2004 10:41:27` stamps): `IMAP User "U" log on successful from IP`. Written
// from the format pop-before-smtp-conf.pl documents; what sits between the stamp and `IMAP` is not
// pinned down there, so a zone and a bracketed number are allowed.
import type { ParserSpec } from '../src/parse/spec.js';
import { anchored, IP, USER_TEXT } from '../src/parse/vocabulary.js';

export const apple: ParserSpec = {
  name: 'apple',
  description: 'Apple Mail Server (AppleMailServer.IMAP.log / POP3.log)',
  tags: [],
  // Mac OS X Server 10.3 wrote these to its own file; no journal ever carries them.
  writers: { exes: [] },
  untagged: true,
  needles: ['log on successful from'],
  rules: [
    {
      id: 'login',
      kind: 'login',
      pattern: anchored(`(?:[+-]\\d{4} )?(?:\\[\\d{1,10}\\] )?(?<proto>IMAP|POP3?):? User "(?<user>${USER_TEXT})" log on successful from (?<ip>${IP})`),
    },
  ],
};
