// Never silent (issue 12): the daemon-side watch warns, rate-limited, with a count, an example and
// the parse --explain hint, about lines that look like logins no parser read and about login lines
// whose timestamp cannot be read; known failures, forged entries and recognised logins stay quiet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogGenerator } from '../../bench/generate.js';
import { PARSERS } from '../../parsers/index.js';
import { Engine } from '../../src/parse/engine.js';
import { UnreadWatch, unreadKind } from '../../src/parse/unread-watch.js';
import { logLine } from '../helpers/lines.js';

const NOW = Date.parse('2026-11-30T01:00:00Z');
const UNKNOWN = 'Nov 30 00:59:00 mx newpopd[77]: user alice logged in from 192.0.2.5';
const BAD_STAMP = '30/11/2026 00:32:03 pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, mpid=5, session=<bx7xiXNhIal/AAAz>';

function setup() {
  let clock = NOW;
  const warnings: string[] = [];
  const watch = new UnreadWatch({ warn: (m) => warnings.push(m) }, 600_000, () => clock);
  const engine = new Engine(PARSERS);
  const state = engine.newSource();
  const read = (texts: string[], origin = '/var/log/mail.log') =>
    engine.readAll(
      texts.map((t, i) => logLine(t, i + 1, origin)),
      state,
      NOW,
      watch.each,
    );
  return { warnings, read, tick: (ms: number) => (clock += ms) };
}

describe('unread lines', () => {
  it('warns about a login line no parser read: at once, then once per period with the count', () => {
    const { warnings, read, tick } = setup();
    read([UNKNOWN]);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^\/var\/log\/mail\.log: 1 line looks like a login that no parser read, so popgate grants nothing for it \(e\.g\. ".*newpopd\[77\]: user alice logged in from 192\.0\.2\.5"\); popgate parse --explain \/var\/log\/mail\.log says why$/,
    );
    read([UNKNOWN, UNKNOWN]);
    assert.equal(warnings.length, 1, 'rate-limited');
    tick(600_000);
    read([UNKNOWN.replace('alice', 'bob')]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1]!, /: 3 lines since the last warning look like logins that no parser read, so popgate grants nothing for them/);
    assert.match(warnings[1]!, /user alice logged in/, 'the example is the first line since the last warning');
  });

  it('warns about a login line of a known server whose timestamp it cannot read', () => {
    const { warnings, read } = setup();
    const found = read([BAD_STAMP], '/var/log/dovecot.log');
    assert.equal(found.length, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^\/var\/log\/dovecot\.log: 1 line is a login line whose timestamp popgate cannot read/);
  });

  it('an invalid date in a line a rule read counts as an unreadable stamp', () => {
    const engine = new Engine(PARSERS);
    const text = 'Feb 30 10:00:00 mx dovecot: pop3-login: Login: user=<a>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1, session=<bx7xiXNhIal/AAAz>';
    const v = engine.read(logLine(text), engine.newSource(), NOW);
    assert.equal(v.outcome.kind, 'matched');
    assert.equal(unreadKind(text, v), 'stamp');
  });

  it('stays quiet on recognised logins, known failures, forged journal entries and the benchmark log', () => {
    const { warnings, read } = setup();
    read([
      'Nov 30 00:59:01 mx dovecot: pop3-login: Login: user=<a>, method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, mpid=9, session=<bx7xiXNhIal/AAAz>',
      'Nov 30 00:59:02 mx dovecot: pop3-login: Disconnected: Connection closed (auth failed, 1 attempts in 0 secs): user=<a>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1',
      JSON.stringify({
        __REALTIME_TIMESTAMP: '1795999000000000',
        SYSLOG_IDENTIFIER: 'dovecot',
        _UID: '1000',
        _EXE: '/usr/bin/logger',
        MESSAGE: 'pop3-login: Login: user=<a>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1',
      }),
    ]);
    const gen = new LogGenerator({ seed: 42, clients: 500, format: 'rfc3164' });
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(gen.line(NOW - 50_000 + i));
    read(lines, '/var/log/bench.log');
    assert.deepEqual(warnings, []);
  });
});
