// Property: whatever a client puts in its user name, a login line of any parser reports the
// address the server wrote in its own field — never one from the name. For parsers that accept
// any name (up to their bound), the login is also found.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PARSERS } from '../../parsers/index.js';
import type { AuthEvent } from '../../src/core/types.js';
import { canonicalIp } from '../../src/net/ip.js';
import { Engine } from '../../src/parse/engine.js';
import { logLines } from '../helpers/lines.js';

const FORGED = '203.0.113.9';
const NOW = Date.parse('2026-11-25T18:00:00Z');

interface Template {
  parser: string;
  /** The log lines of one login; the user name and the client address filled in. */
  lines: (user: string, ip: string) => string[];
  /** Every name without line breaks, up to this length, must give a login. */
  total?: number;
}

const T: Template[] = [
  { parser: 'courier', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx pop3d: LOGIN, user=${u}, ip=[${ip.includes(':') ? ip : `::ffff:${ip}`}], port=[4321]`] },
  { parser: 'courier', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx imapd-ssl: LOGIN, user=${u}, ip=[${ip}], port=[4321], protocol=IMAP`] },
  { parser: 'courier', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx imapd: LOGIN, user=${u}, ip=[${ip}], port=[4321], protocol=IMAP, starttls=1`] },
  { parser: 'cyrus', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx cyrus/imap[77]: login: client.example.net [${ip}] ${u} plaintext User logged in SESSIONID=<mx-77-1>`] },
  { parser: 'cyrus', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx cyrus/pop3s[78]: login: [${ip}] ${u} PLAIN+TLS User logged in SESSIONID=<mx-78-1>`] },
  {
    parser: 'mailutils',
    total: 256,
    lines: (u, ip) => [`Nov 25 10:00:00 mx pop3d[10]: 2APGVs5G ${ip}`, `Nov 25 10:00:00 mx pop3d[11]: 2APGVs5G user \`${u}' logged in with mailbox \`/var/mail/x' (0 messages)`],
  },
  { parser: 'mailutils', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx gnu-pop3d[12]: User ${u} logged in with mailbox /var/mail/x from ${ip}`] },
  { parser: 'popa3d', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx popa3d[20]: Session from ${ip}`, `Nov 25 10:00:01 mx popa3d[20]: Authentication passed for ${u}`] },
  { parser: 'popa3d', lines: (u, ip) => [`Nov 25 10:00:00 mx popa3d[21]: Authentication passed for ${u} -- [${ip}]`] },
  { parser: 'solidpop3d', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx solid-pop3d[30]: user ${u} authenticated - ${ip}`] },
  { parser: 'uw', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx ipop3d[40]: Login user=${u} host=client.example.net [${ip}] nmsgs=1/1`] },
  { parser: 'uw', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx imapd[41]: Authenticated user=${u} host=[${ip}] mech=PLAIN`] },
  { parser: 'qpopper', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx qpopper[50]: (v4.1.0) POP login by user "${u}" at (client.example.net) ${ip} [pop_log.c:244]`] },
  { parser: 'qpopper', lines: (u, ip) => [`Nov 25 10:00:00 mx qpopper[51]: Stats: ${u} 0 0 1 20 client.example.net ${ip}`] },
  { parser: 'vchkpw', lines: (u, ip) => [`Nov 25 10:00:00 mx vpopmail[60]: vchkpw-pop3: (PLAIN) login success ${u}@example.org:${ip}`] },
  { parser: 'vmpop3d', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx vm-pop3d[70]: User ${u} logged in from ${ip}`] },
  { parser: 'vmpop3d', lines: (u, ip) => [`Nov 25 10:00:00 mx vm-pop3d[71]: User '${u}' logged in from ${ip}`] },
  // Services the admin named in cyrus.conf, with an instance prefix.
  { parser: 'cyrus', total: 256, lines: (u, ip) => [`Nov 25 10:00:00 mx cyrus/inst1/imap[79]: login: [${ip}] ${u} plaintext User logged in SESSIONID=<inst1-79-1>`] },
  { parser: 'cyrus', lines: (u, ip) => [`Nov 25 10:00:00 mx imapalt[79]: login: client.example.net [${ip}] ${u} plaintext User logged in SESSIONID=<mx-79-2>`] },
  // perdition 1.x: only the end of an accepted session proves the login.
  { parser: 'perdition', lines: (u, ip) => [`Nov 25 10:00:00 mx perdition[81]: Closing: ${ip}->192.0.2.1 user=${u} 1290 45`] },
  // UW lines passed on without a syslog host.
  { parser: 'uw', lines: (u, ip) => [`Nov 25 10:00:00 ipop3d[42]: Login user=${u} host=client.example.net [${ip}] nmsgs=1/1`] },
  {
    parser: 'perdition',
    total: 256,
    lines: (u, ip) => [
      `Nov 25 10:00:00 mx perdition.pop3[80]: Auth: ${ip}:4000->192.0.2.1:110 client-secure=plaintext authorisation_id=NONE authentication_id="${u}" server="10.0.0.5:110" protocol=POP3 server-secure=plaintext status="ok"`,
    ],
  },
  { parser: 'teapop', lines: (u, ip) => [`Nov 25 10:00:00 mx teapop[90]: Successful login for ${u} from client.example.net [${ip}]`] },
  { parser: 'cucipop', lines: (u, ip) => [`Nov 25 10:00:00 mx cucipop[91]: ${u} ${ip} 0, 3 (4512), 0 (0)`] },
  { parser: 'apple', total: 256, lines: (u, ip) => [`Jul 14 2004 10:41:27 IMAP User "${u}" log on successful from ${ip}`] },
  {
    parser: 'dovecot',
    lines: (u, ip) => [`Nov 25 10:00:00 mx dovecot: pop3-login: Logged in: user=<${u}>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=1, secured, session=<abcDEF12>`],
  },
  {
    parser: 'dovecot',
    lines: (u, ip) => [`Nov 25 10:00:00 mx dovecot: imap-login: Login: user=<${u}>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=1, TLS, session=<abcDEF12>`],
  },
];

/** Pieces of every template's own wording, with the forged address: what an attacker would type. */
const FRAGMENTS = [
  ...new Set(T.flatMap((t) => t.lines('\u0000', FORGED).flatMap((l) => l.split('\u0000').slice(1))).flatMap((tail) => [tail, tail.slice(0, 40)])),
  `rip=${FORGED}`,
  `ip=[${FORGED}]`,
  `host=[${FORGED}]`,
  ` from ${FORGED}`,
  `"`,
  '[',
  ']',
  '<',
  '>',
  '(',
  ')',
  ', ',
  '#012',
  ' - ',
  ':',
  '->',
  FORGED,
  `::ffff:${FORGED}`,
];

const userName = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 8 }).map((parts) => parts.join(''));
const address = fc.oneof(fc.ipV4(), fc.ipV6());

function loginsOf(lines: string[]): AuthEvent[] {
  const engine = new Engine(PARSERS);
  const found = [...engine.readAll(logLines(lines), engine.newSource(), NOW), ...engine.release(Infinity)];
  return found.map((f) => f.event).filter((e) => e.event === 'login');
}

describe('user names never move the address', () => {
  for (const [i, t] of T.entries()) {
    it(`${t.parser} #${i}: ${t.lines('USER', 'IP').at(-1)!.slice(0, 90)}`, () => {
      assert.ok(
        PARSERS.some((p) => p.name === t.parser),
        `no parser ${t.parser}`,
      );
      fc.assert(
        fc.property(userName, address, (user, ip) => {
          const want = canonicalIp(ip);
          if (!want) return true;
          const logins = loginsOf(t.lines(user, ip));
          for (const e of logins) assert.equal(e.ip, want, `user ${JSON.stringify(user)} moved the address to ${e.ip}`);
          if (t.total !== undefined && user.length > 0 && user.length <= t.total && !/[\n\r\u2028\u2029]/.test(user)) {
            assert.equal(logins.length, 1, `no login for user ${JSON.stringify(user)}`);
            assert.equal(logins[0]!.server, t.parser);
          }
          return true;
        }),
        { numRuns: 300 },
      );
    });
  }
});
