// Engine mechanics beyond the samples: stamps, prefixes, journald, correlation, holds and vetoes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/parse/engine.js';
import { feed as feedAll, judge, logLine } from '../helpers/lines.js';
import { splitPrefix } from '../../src/parse/prefix.js';
import type { ParserSpec } from '../../src/parse/spec.js';
import { parseRfc3164, parseRfc3339, parseStamp, parseTai64n } from '../../src/parse/timestamps.js';
import { anchored, IP, USER_WORD } from '../../src/parse/vocabulary.js';

const NOW = Date.parse('2026-11-25T16:00:00Z');

const toy: ParserSpec = {
  name: 'toy',
  description: 'test server',
  tags: ['toyd'],
  tagPrefixes: ['toy/'],
  untagged: true,
  needles: ['login ', 'conn ', 'refused', 'bye'],
  sessionFromPid: true,
  linkWindowMs: 10_000,
  writers: { exes: ['/usr/sbin/toyd'], users: ['root'], units: ['toyd.service'] },
  rules: [
    { id: 'login', kind: 'login', pattern: anchored(`login (?<user>${USER_WORD}) from (?<ip>${IP})`), protocol: 'pop3' },
    { id: 'held', kind: 'login', pattern: anchored(`hlogin (?<user>${USER_WORD}) from (?<ip>${IP})`), protocol: 'pop3', holdMs: 2000 },
    { id: 'conn', kind: 'connect', pattern: anchored(`conn from (?<ip>${IP})`) },
    { id: 'linked', kind: 'login', pattern: anchored(`auth ok login (?<user>${USER_WORD})`) },
    { id: 'veto', kind: 'veto', pattern: anchored('refused') },
    { id: 'bye', kind: 'logout', pattern: anchored('bye') },
  ],
};

describe('timestamps', () => {
  it('RFC 3164: the year that puts the stamp nearest the reference, across New Year', () => {
    const newYear = new Date(2027, 0, 1, 0, 0, 5).getTime();
    assert.equal(new Date(parseRfc3164('Dec 31 23:59:58', newYear)!).getFullYear(), 2026);
    assert.equal(new Date(parseRfc3164('Jan  1 00:00:01', new Date(2026, 11, 31, 23, 59).getTime())!).getFullYear(), 2027);
    assert.equal(parseRfc3164('Feb 30 10:00:00', NOW), null);
    assert.equal(parseRfc3164('Nov 25 24:00:00', NOW), null);
  });
  it('RFC 3339 with fraction and zone, and with a space for T (Dovecot log_timestamp)', () => {
    assert.equal(parseRfc3339('2026-11-25T16:03:47.123456+01:00'), Date.parse('2026-11-25T15:03:47.123Z'));
    assert.equal(parseRfc3339('2026-11-25T16:03:47Z'), Date.parse('2026-11-25T16:03:47Z'));
    assert.equal(parseRfc3339('2026-11-25 16:03:47+0000'), Date.parse('2026-11-25T16:03:47Z'));
    assert.equal(parseRfc3339('2026-02-30T00:00:00Z'), null);
  });
  it('TAI64N (multilog) and journald microseconds', () => {
    const secs = BigInt(Date.parse('2026-11-25T16:03:47Z') / 1000);
    const label = ((1n << 62n) + secs + 10n).toString(16).padStart(16, '0');
    assert.equal(parseTai64n(`@${label}1dcd6500`), Date.parse('2026-11-25T16:03:47.500Z'));
    assert.equal(parseTai64n('@zz'), null);
    assert.equal(parseStamp('epoch-us', '1764086627123456', NOW), 1764086627123);
    assert.equal(parseStamp('epoch', '1764086627.123456', NOW), 1764086627123);
    assert.equal(parseStamp('full', 'Wed 2026-11-25 16:03:47 UTC', NOW), Date.parse('2026-11-25T16:03:47Z'));
    assert.equal(parseStamp('full', 'Wed 2026-11-25 16:03:47 +0100', NOW), Date.parse('2026-11-25T15:03:47Z'));
  });
});

describe('prefix forms', () => {
  const cases: [string, Partial<ReturnType<typeof splitPrefix>>][] = [
    ['Nov 25 16:03:47 mx toyd[12]: hi', { stampKind: 'rfc3164', host: 'mx', tag: 'toyd', pid: 12, body: 'hi' }],
    ['<22>Nov 25 16:03:47 mx toyd: hi', { stampKind: 'rfc3164', host: 'mx', tag: 'toyd', pid: null, body: 'hi' }],
    ['Nov 25 16:03:47 <mail.info> mx toyd[3]: hi', { host: 'mx', tag: 'toyd', pid: 3, body: 'hi' }],
    ['Nov 25 16:03:47 <22> mx toyd[3]: hi', { host: 'mx', tag: 'toyd', body: 'hi' }],
    ['2026-11-25T16:03:47.1+00:00 mx toyd[3]: hi', { stampKind: 'rfc3339', host: 'mx', tag: 'toyd', body: 'hi' }],
    ['2026-11-25 16:03:47 pop3-login: Info: hi', { stampKind: 'rfc3339', host: null, tag: null, body: 'pop3-login: Info: hi' }],
    ['<22>1 2026-11-25T16:03:47Z mx toyd 77 - - hi there', { stampKind: 'rfc3339', host: 'mx', tag: 'toyd', pid: 77, body: 'hi there' }],
    ['<22>1 2026-11-25T16:03:47Z mx toyd 77 ID [a x="]" y="z"][b] hi', { tag: 'toyd', body: 'hi' }],
    ['@4000000069259c2b1c2d3e4f pop3-login: hi', { stampKind: 'tai64n', host: null, tag: null, body: 'pop3-login: hi' }],
    ['1764086627.123456 mx toyd[5]: hi', { stampKind: 'epoch', host: 'mx', tag: 'toyd', pid: 5, body: 'hi' }],
    ['Wed 2026-11-25 16:03:47 UTC mx toyd[5]: hi', { stampKind: 'full', host: 'mx', tag: 'toyd', body: 'hi' }],
    ['no stamp here', { stampKind: null }],
  ];
  for (const [line, want] of cases) {
    it(line, () => {
      const p = splitPrefix(line);
      for (const [k, v] of Object.entries(want)) assert.equal(p[k as keyof typeof p], v, k);
    });
  }
});

/** The first event a line completes, or null (what the old one-event call gave). */
function feed(e: Engine, text: string, s: ReturnType<Engine['newSource']>, ref: number) {
  return feedAll(e, text, s, ref)[0] ?? null;
}

describe('engine', () => {
  it('reads RFC 5424, <pri>, TAI64N and tag prefixes', () => {
    const e = new Engine([toy]);
    assert.equal(feed(e, '<22>1 2026-11-25T16:03:47Z mx toyd 7 - - login a from 192.0.2.1', e.newSource(), NOW)?.ip, '192.0.2.1');
    assert.equal(feed(e, 'Nov 25 16:03:47 mx toy/pop3s[8]: login a from 192.0.2.2', e.newSource(), NOW)?.ip, '192.0.2.2');
    assert.equal(feed(e, '@4000000069259c2b1c2d3e4f login a from 192.0.2.3', e.newSource(), NOW)?.ip, '192.0.2.3');
  });

  it('journald JSON: the writer journald recorded beats the identifier and the process name', () => {
    const e = new Engine([toy]);
    const j = (o: object) => JSON.stringify({ __REALTIME_TIMESTAMP: '1764086627000000', _HOSTNAME: 'mx', ...o });
    const own = { _EXE: '/usr/sbin/toyd', _UID: '0', _SYSTEMD_UNIT: 'toyd.service' };
    const ok = judge(e, j({ MESSAGE: 'login a from 192.0.2.4', SYSLOG_IDENTIFIER: 'toyd', _COMM: 'toyd', _PID: '9', ...own }), e.newSource(), NOW);
    assert.equal(ok.kind === 'event' && ok.event.ip, '192.0.2.4');
    assert.equal(ok.kind === 'event' && ok.event.time, 1764086627000);
    const forged = judge(e, j({ MESSAGE: 'login a from 203.0.113.9', SYSLOG_IDENTIFIER: 'toyd', _COMM: 'logger', _PID: '10', _EXE: '/usr/bin/logger', _UID: '1000' }), e.newSource(), NOW);
    assert.equal(forged.kind, 'none');
    assert.match(forged.kind === 'none' ? forged.why : '', /not written by the server .*\/usr\/bin\/logger/);
    // A copy of any program named like the server shows its name as _COMM: no vouch.
    const named = judge(e, j({ MESSAGE: 'login a from 203.0.113.9', SYSLOG_IDENTIFIER: 'toyd', _COMM: 'toyd', _PID: '11' }), e.newSource(), NOW);
    assert.equal(named.kind, 'none', 'an entry without _UID/_EXE/_SYSTEMD_UNIT never grants');
    const bytes = judge(e, j({ MESSAGE: [...Buffer.from('login \xff from 192.0.2.5', 'latin1')], SYSLOG_IDENTIFIER: 'toyd', ...own }), e.newSource(), NOW);
    assert.equal(bytes.kind === 'event' && bytes.event.ip, '192.0.2.5');
    assert.equal(judge(e, '{"MESSAGE": 5, "login ": 1}', e.newSource(), NOW).kind, 'none');
    assert.equal(judge(e, '{not json login ', e.newSource(), NOW).kind, 'none');
  });

  it('links a connect line to the login by pid, within the window only', () => {
    const e = new Engine([toy]);
    const s = e.newSource();
    feed(e, 'Nov 25 16:00:00 mx toyd[5]: conn from 192.0.2.6', s, NOW);
    assert.equal(feed(e, 'Nov 25 16:00:01 mx toyd[5]: auth ok login a', s, NOW)?.ip, '192.0.2.6');
    assert.equal(feed(e, 'Nov 25 16:00:02 mx toyd[5]: auth ok login a', s, NOW), null, 'a link is used once');
    feed(e, 'Nov 25 16:00:00 mx toyd[6]: conn from 192.0.2.7', s, NOW);
    assert.equal(feed(e, 'Nov 25 16:00:30 mx toyd[6]: auth ok login a', s, NOW), null, 'too old');
    feed(e, 'Nov 25 16:00:00 othermx toyd[7]: conn from 192.0.2.8', s, NOW);
    assert.equal(feed(e, 'Nov 25 16:00:01 mx toyd[7]: auth ok login a', s, NOW), null, 'pids are per host');
  });

  it('bounds what it remembers', () => {
    const e = Engine.withLimits([toy], { maxLinks: 2 });
    const s = e.newSource();
    for (let pid = 1; pid <= 3; pid++) feed(e, `Nov 25 16:00:00 mx toyd[${pid}]: conn from 192.0.2.${pid}`, s, NOW);
    assert.equal(feed(e, 'Nov 25 16:00:01 mx toyd[1]: auth ok login a', s, NOW), null, 'the oldest was dropped');
    assert.equal(feed(e, 'Nov 25 16:00:01 mx toyd[3]: auth ok login a', s, NOW)?.ip, '192.0.2.3');
  });

  it('holds a login for a veto; releases it by a later line, the clock, or drain', () => {
    const e = new Engine([toy]);
    const s = e.newSource();
    const held = judge(e, 'Nov 25 16:00:00 mx toyd[1]: hlogin a from 192.0.2.10', s, NOW);
    assert.equal(held.kind, 'held');
    const vetoed = judge(e, 'Nov 25 16:00:00 mx toyd[1]: refused', s, NOW);
    assert.equal(vetoed.kind, 'matched');
    assert.equal(judge(e, 'Nov 25 16:00:09 mx toyd[1]: bye', s, NOW).kind, 'matched', 'no session after a veto');
    assert.deepEqual(e.release(Infinity), []);

    judge(e, 'Nov 25 16:00:10 mx toyd[2]: hlogin b from 192.0.2.11', s, NOW);
    assert.deepEqual(judge(e, 'Nov 25 16:00:11 mx other: x', s, NOW).events, []);
    const later = judge(e, 'Nov 25 16:00:12 mx other: x', s, NOW);
    assert.equal(later.events[0]?.ip, '192.0.2.11', 'a line 2 s later confirms it');

    feed(e, 'Nov 25 16:00:20 mx toyd[3]: hlogin c from 192.0.2.12', s, NOW);
    assert.deepEqual(e.release(NOW + 1000), []);
    assert.equal(e.release(NOW + 2000)[0]?.event.ip, '192.0.2.12', 'the clock confirms it');

    feed(e, 'Nov 25 16:00:30 mx toyd[4]: hlogin d from 192.0.2.13', s, NOW);
    assert.equal(feed(e, 'Nov 25 16:00:40 mx toyd[9]: no match', s, NOW)?.ip, '192.0.2.13', 'a later line hands it out');
  });

  it('a held login comes out tagged with its own login line, by a later line or by the clock', () => {
    const e = new Engine([toy]);
    const s = e.newSource();
    e.read(logLine('Nov 25 16:00:00 mx toyd[1]: hlogin a from 192.0.2.30', 7), s, NOW);
    const later = e.read(logLine('Nov 25 16:00:05 mx toyd[2]: login b from 192.0.2.31', 8), s, NOW);
    assert.deepEqual(
      later.events.map((f) => `${f.event.ip}@${f.line.lineNo}`),
      ['192.0.2.30@7', '192.0.2.31@8'],
    );
    e.read(logLine('Nov 25 16:00:20 mx toyd[3]: hlogin c from 192.0.2.32', 9), s, NOW);
    const byClock = e.release(NOW + 5000);
    assert.deepEqual(
      byClock.map((f) => `${f.event.ip}@${f.line.lineNo}`),
      ['192.0.2.32@9'],
    );
    e.read(logLine('Nov 25 16:00:30 mx toyd[4]: hlogin d from 192.0.2.33', 10), s, NOW);
    const ended = e.read(logLine('Nov 25 16:00:31 mx toyd[4]: bye', 11), s, NOW);
    assert.deepEqual(
      ended.events.map((f) => `${f.event.event}@${f.line.lineNo}`),
      ['login@10', 'logout@11'],
    );
  });

  it('a held login counts when its session ends or its process starts another, before the logout', () => {
    const e = new Engine([toy]);
    const s = e.newSource();
    judge(e, 'Nov 25 16:00:00 mx toyd[1]: hlogin a from 192.0.2.20', s, NOW);
    const next = judge(e, 'Nov 25 16:00:00 mx toyd[1]: hlogin b from 192.0.2.21', s, NOW);
    assert.equal(next.kind, 'held');
    assert.deepEqual(
      next.events.map((x) => x.ip),
      ['192.0.2.20'],
    );
    const bye = feedAll(e, 'Nov 25 16:00:00 mx toyd[1]: bye', s, NOW);
    assert.deepEqual(
      bye.map((x) => `${x.event} ${x.ip}`),
      ['login 192.0.2.21', 'logout 192.0.2.21'],
      'the login first, then its logout, from one line',
    );
    assert.deepEqual(e.release(Infinity), []);
  });

  it('never parses overlong lines and keeps one format per source', () => {
    const e = new Engine([toy]);
    const s = e.newSource();
    assert.equal(judge(e, `Nov 25 16:00:00 mx toyd[1]: login ${'a'.repeat(9000)} from 192.0.2.1`, s, NOW).kind, 'none');
    assert.equal(feed(e, 'Nov 25 16:00:00 mx toyd[1]: login a from 192.0.2.1', s, NOW)?.ip, '192.0.2.1');
    assert.equal(feed(e, 'Nov 25 16:00:00 login a from 192.0.2.1', s, NOW), null, 'own-log line inside a syslog file');
  });
});
