// Journald priorities: `<N>` only when stderr really is the journal stream; errors and warnings remembered.
import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, formatLine, problems, Problems, stderrIsJournal } from '../../src/core/logger.js';

describe('logger under journald', () => {
  it('sees the journal only when JOURNAL_STREAM names the very file on that fd', () => {
    const fd = openSync(join(mkdtempSync(join(tmpdir(), 'popgate-log-')), 'stream'), 'w');
    try {
      const st = fstatSync(fd);
      assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true);
      assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), false, 'inherited by a process whose stderr went elsewhere');
      assert.equal(stderrIsJournal({}, fd), false);
      assert.equal(stderrIsJournal({ JOURNAL_STREAM: 'garbage' }, fd), false);
    } finally {
      closeSync(fd);
    }
  });

  it('prefixes each line with its syslog priority for the journal, a timestamp elsewhere', () => {
    const line = (level: string, journal: boolean) => formatLine({ level, message: 'm', timestamp: 'T' }, journal);
    assert.deepEqual(
      ['error', 'warn', 'info', 'debug'].map((l) => line(l, true)),
      ['<3>error: m', '<4>warn: m', '<6>info: m', '<7>debug: m'],
    );
    assert.equal(line('warn', false), 'T warn: m');
    assert.equal(formatLine({ level: 'info', message: 'x', component: 'map' }, true), '<6>info: map: x');
  });

  it('remembers the latest errors and warnings, found by the place they name', () => {
    const p = new Problems(3);
    for (let i = 0; i < 5; i++) p.add({ at: i, level: 'error', message: `map hash:/m: failed ${i}` });
    p.add({ at: 9, level: 'warn', message: 'policy unix:/s: slow' });
    assert.equal(p.latest('map hash:/m')?.message, 'map hash:/m: failed 4');
    assert.equal(p.latest()?.at, 9);
    assert.equal(p.latest('socketmap'), null);
  });

  it('a logger made by createLogger records its warnings, not its info lines', () => {
    const logger = createLogger('error');
    logger.transports.forEach((t) => (t.silent = true));
    logger.info('fine');
    logger.error('map hash:/m: cannot write');
    assert.equal(problems(logger).latest()?.message, 'map hash:/m: cannot write');
  });
});
