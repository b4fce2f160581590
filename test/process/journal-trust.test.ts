// Issue 11 item 2 on real journal files: only the writer journald recorded (`_UID`, `_EXE`,
// `_SYSTEMD_UNIT`) vouches for an entry. A forged identifier, a program copied under the server's
// name (`_COMM=imap`), a user's own Dovecot and an entry without writer fields never grant.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PARSERS } from '../../parsers/index.js';
import { Engine } from '../../src/parse/engine.js';
import { journalSkip, readJournal, usec, writeJournal, type Entry } from '../helpers/journal.js';
import { logLines } from '../helpers/lines.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-jtrust-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-30T00:00:00Z');
const login = (ip: string, session: string) => `imap-login: Login: user=<u>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=77, session=<${session}>`;
const DOVECOT = { _UID: '0', _EXE: '/usr/lib/dovecot/log', _SYSTEMD_UNIT: 'dovecot.service', _COMM: 'log', _PID: '870' };

describe('journal writer trust (real journal files)', { skip: journalSkip() }, () => {
  it('grants for the entries Dovecot wrote and for none of the forgeries', () => {
    const file = join(dir, 'mail.journal');
    const e = (i: number, fields: Entry, ip: string): Entry => ({
      __REALTIME_TIMESTAMP: usec(T0 + i * 1000),
      SYSLOG_IDENTIFIER: 'dovecot',
      MESSAGE: login(ip, `Sess${String(i).padStart(12, '0')}`),
      ...fields,
    });
    writeJournal(file, [
      e(1, DOVECOT, '192.0.2.10'),
      // SYSLOG_IDENTIFIER=dovecot from another program and user: logger -t dovecot.
      e(2, { _UID: '1000', _EXE: '/usr/bin/logger', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'logger', _PID: '901' }, '203.0.113.1'),
      // A copy of a program named imap: _COMM=imap, the binary is not Dovecot's.
      e(3, { _UID: '1000', _EXE: '/home/mallory/bin/imap', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'imap', _PID: '902' }, '203.0.113.2'),
      // A symlink named imap to /bin/sleep-like programs resolves: _EXE is the real binary.
      e(4, { _UID: '1000', _EXE: '/usr/bin/python3.11', _COMM: 'imap-login', _PID: '903' }, '203.0.113.3'),
      // The user's own Dovecot started with their own config: Dovecot's binary, the user's uid and scope.
      e(5, { _UID: '1000', _EXE: '/usr/lib/dovecot/log', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'log', _PID: '904' }, '203.0.113.4'),
      // root's logger from cron: the right uid, not Dovecot's binary.
      e(6, { _UID: '0', _EXE: '/usr/bin/logger', _SYSTEMD_UNIT: 'cron.service', _COMM: 'logger', _PID: '905' }, '203.0.113.5'),
      // No writer fields at all.
      e(7, { _COMM: 'imap-login', _PID: '906' }, '203.0.113.6'),
      e(8, DOVECOT, '192.0.2.11'),
    ]);
    const lines = readJournal(file);
    assert.equal(lines.length, 8, 'journalctl reads every entry back');
    const engine = new Engine(PARSERS);
    const why: string[] = [];
    const found = engine.readAll(logLines(lines, file), engine.newSource(), T0 + 60_000, (_l, v) => {
      if (v.outcome.kind === 'none') why.push(v.outcome.why);
    });
    assert.deepEqual(
      found.map((f) => f.event.ip),
      ['192.0.2.10', '192.0.2.11'],
    );
    assert.equal(found[0]!.event.time, T0 + 1000, "the entry's own time");
    assert.equal(why.length, 6);
    for (const w of why) assert.match(w, /^not written by the server that tag dovecot names: /);
  });
});
