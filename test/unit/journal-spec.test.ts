// `log = journal:…` entries: what they select, the journalctl arguments, and the position.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logPaths } from '../../src/config/values.js';
import { cursorIn, cursorOf, journalctlArgs, parseJournalSpec, positionOf } from '../../src/sources/journal-spec.js';

describe('journal: entries', () => {
  it('config accepts journal entries beside paths and refuses bad ones', () => {
    assert.deepEqual(logPaths('/var/log/mail.log, journal:_SYSTEMD_UNIT=dovecot.service'), ['/var/log/mail.log', 'journal:_SYSTEMD_UNIT=dovecot.service']);
    assert.throws(() => logPaths('journal:dovecot'), /not a journal match/);
    assert.throws(() => logPaths('journal:/var/log/../etc/x.journal'), /no \.\./);
  });

  it('turns matches, a file or a directory into journalctl arguments, never an option', () => {
    const unit = parseJournalSpec('journal:_SYSTEMD_UNIT=dovecot.service+_SYSTEMD_UNIT=cyrus-imapd.service');
    assert.deepEqual(unit.matches, ['_SYSTEMD_UNIT=dovecot.service', '_SYSTEMD_UNIT=cyrus-imapd.service']);
    const args = journalctlArgs(unit, 's=1;i=2', true);
    assert.ok(args.includes('--after-cursor=s=1;i=2') && args.includes('--follow') && !args.includes('--lines=all'));
    assert.deepEqual(args.slice(-2), unit.matches);
    assert.ok(journalctlArgs(unit, null, true).includes('--lines=all'), 'nothing read yet: all of it, not the last 10');
    assert.equal(parseJournalSpec('journal:/tmp/t.journal').file, '/tmp/t.journal');
    assert.equal(parseJournalSpec('journal:/var/log/journal/remote/').directory, '/var/log/journal/remote/');
    assert.throws(() => parseJournalSpec('journal:_SYSTEMD_UNIT=x+-f'), /not a journal match/);
  });

  it('a first start reads the system journal back to the grace only; a cursor or a journal file is read as it is', () => {
    const unit = parseJournalSpec('journal:_SYSTEMD_UNIT=dovecot.service');
    assert.ok(journalctlArgs(unit, null, true, 1_700_000_000).includes('--since=@1700000000'));
    assert.ok(!journalctlArgs(unit, 's=1;i=2', true, 1_700_000_000).some((a) => a.startsWith('--since')), 'a stored cursor says where');
    assert.ok(!journalctlArgs(parseJournalSpec('journal:/tmp/t.journal'), null, false, 1_700_000_000).some((a) => a.startsWith('--since')), 'a file is read whole');
  });

  it('keeps the cursor in a Position, and takes it back only for the same entry', () => {
    const spec = parseJournalSpec('journal:_SYSTEMD_UNIT=dovecot.service');
    const pos = positionOf(spec, 's=ab;i=9', 42);
    assert.deepEqual(cursorOf(spec, pos), { cursor: 's=ab;i=9', entries: 42 });
    assert.equal(cursorOf(parseJournalSpec('journal:'), pos), null, 'another selection starts afresh');
    assert.equal(cursorOf(spec, { dev: '2049', ino: '12', fingerprint: 'x', offset: 1, line: 1 }), null, 'a file position is not a cursor');
  });

  it('finds the cursor field, not a look-alike inside a message', () => {
    const line = JSON.stringify({ MESSAGE: '"__CURSOR":"s=forged"', __CURSOR: 's=real;i=1' });
    assert.equal(cursorIn(line), 's=real;i=1');
    assert.equal(cursorIn('{"MESSAGE":"x"}'), null);
  });
});
