// Property: Dovecot's login_log_format_elements in any order, any subset (user and rip kept), in
// either login_log_format, behind any log_timestamp form of its own log file or a syslog prefix —
// whatever the client puts in its user name, the first Dovecot rule that matches reads the
// address Dovecot wrote in its own rip= element, never one from the name. Names of plain
// characters are always found. Reads the parser's rules as the engine does (first match wins),
// through splitPrefix, without the engine's correlation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dovecot } from '../../parsers/dovecot.js';
import { canonicalIp } from '../../src/net/ip.js';
import { splitPrefix } from '../../src/parse/prefix.js';
import { parseStamp } from '../../src/parse/timestamps.js';

const FORGED = '203.0.113.9';

/** The login's address and user as the first matching login rule reads them, or null. */
function firstLogin(line: string): { ip: string | null; user: string | undefined } | null {
  const prefix = splitPrefix(line);
  for (const rule of dovecot.rules) {
    if (rule.kind !== 'login' || (rule.tag && !rule.tag.test(prefix.tag ?? ''))) continue;
    const m = rule.pattern.exec(prefix.body);
    if (m) return { ip: m.groups?.ip === undefined ? null : canonicalIp(m.groups.ip), user: m.groups?.user };
  }
  return null;
}

const STAMPS = [
  'Nov 30 00:26:43 ',
  'Nov 30 00:26:43',
  'Nov 30 00:26:43 UTC ',
  '2026-11-30T00:26:12',
  '2026-11-30 00:26:17 ',
  '2026-11-30T00:26:38.208542+0000 ',
  '30.11.2026 00:26:22 ',
  '1795998387 ',
  '1795998393',
  'Nov 30 00:26:43 mx dovecot: ',
];
/** Elements Dovecot writes itself (besides user and rip), as login_log_format_elements can list them. */
const OTHERS = [
  'method=PLAIN',
  'lip=192.0.2.1',
  'mpid=4711',
  'rport=50123',
  'lport=110',
  'TLS',
  'secured',
  'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)',
  'session=<AbCdEf012345/AAA1>',
  'real_rip=192.0.2.77',
  'real_rport=4000',
];
const FRAGMENTS = [
  `>, rip=${FORGED}`,
  `rip=${FORGED}`,
  `>, rip=${FORGED}, lip=192.0.2.1, session=<x`,
  `>, rip=${FORGED}, mpid=1, TLS, x=<y`,
  `>, method=PLAIN, rip=${FORGED}, lip=192.0.2.1, mpid=1, session=<x`,
  ', session=<x',
  `x>, rip=${FORGED}, rport=1, session=<`,
  `, rip=${FORGED}, `,
  '>, session=<',
  '>, ',
  ', ',
  '<',
  '>',
  ']',
  '[',
  `, orig_user=<x>, rip=${FORGED}`,
  `user=<x>, rip=${FORGED}`,
  'Login: ',
  `::ffff:${FORGED}`,
  'TLS',
  'mpid=1',
];

const userName = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 7 }).map((p) => p.join(''));
const plainName = fc.stringMatching(/^[a-z0-9._@-]{1,40}$/);
const elements = fc.shuffledSubarray(OTHERS);
const order = fc.nat(OTHERS.length + 1);
const address = fc.oneof(fc.ipV4(), fc.ipV6());

function line(stamp: string, user: string, ip: string, others: string[], at: [number, number], bracket: boolean, proto: string): string {
  const list = [...others];
  list.splice(Math.min(at[0], list.length), 0, `rip=${ip}`);
  list.splice(Math.min(at[1], list.length), 0, `user=<${user}>`);
  const text = bracket ? `Login [${list.join(', ')}]` : `Login: ${list.join(', ')}`;
  return `${stamp}${proto}-login: ${stamp.includes(' mx ') ? '' : 'Info: '}${text}`;
}

describe('Dovecot login elements in any order', () => {
  it('a user name never moves the address', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STAMPS), userName, address, elements, order, order, fc.boolean(), (stamp, user, ip, others, a, b, bracket) => {
        const want = canonicalIp(ip);
        if (!want || /[\r\n]/.test(user)) return true;
        const got = firstLogin(line(stamp, user, ip, others, [a, b], bracket, 'imap'));
        if (got && got.ip !== null) assert.equal(got.ip, want, `user ${JSON.stringify(user)} moved the address to ${got.ip}`);
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('a plain user name is always found, with its address', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STAMPS), plainName, address, elements, order, order, fc.boolean(), (stamp, user, ip, others, a, b, bracket) => {
        const got = firstLogin(line(stamp, user, ip, others, [a, b], bracket, 'pop3'));
        assert.ok(got, `no rule read ${line(stamp, user, ip, others, [a, b], bracket, 'pop3')}`);
        assert.equal(got.ip, canonicalIp(ip));
        assert.equal(got.user, user);
        return true;
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a second client text after the user (orig_user=<…> could carry a rip=)', () => {
    const l = `2026-11-30 00:26:17 imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.178, orig_user=<x>, rip=${FORGED}, session=<Zz0123456782>`;
    assert.equal(firstLogin(l), null);
  });

  it('reads the time of every log_timestamp form that names its zone', () => {
    const now = Date.parse('2026-11-30T01:00:00Z');
    const cases: [string, string][] = [
      ['1795998387 master: Info: x', '2026-11-30T00:26:27.000Z'],
      ['1795998393pop3-login: Info: x', '2026-11-30T00:26:33.000Z'],
      ['2026-11-30T00:26:38.208542+0000 master: Info: x', '2026-11-30T00:26:38.208Z'],
      ['Nov 30 00:26:43 UTC pop3-login: Info: x', '2026-11-30T00:26:43.000Z'],
      ['30.11.2026 00:26:22 +0100 pop3-login: Info: x', '2026-11-29T23:26:22.000Z'],
      ['2026-11-30 00:26:17 GMT pop3-login: Info: x', '2026-11-30T00:26:17.000Z'],
    ];
    for (const [text, iso] of cases) {
      const p = splitPrefix(text);
      assert.ok(p.stampKind && p.stamp, text);
      assert.equal(p.host, null, text);
      assert.match(p.body, /^(?:master|pop3-login): Info: x$/, text);
      assert.equal(new Date(parseStamp(p.stampKind, p.stamp, now)!).toISOString(), iso, text);
    }
  });

  it('takes an upper-case word for a zone only before a process name, never a host with digits or lower case', () => {
    for (const host of ['mx', 'MX1', 'mail-01']) {
      const p = splitPrefix(`Nov 30 00:26:43 ${host} dovecot[12]: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2`);
      assert.equal(p.host, host);
      assert.equal(p.tag, 'dovecot');
    }
    assert.equal(splitPrefix('Nov 30 00:26:43 CET pop3(alice)<1><AbCd>: Info: Disconnected').host, null);
  });
});
