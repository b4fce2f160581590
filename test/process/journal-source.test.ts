// The journal source on real journal files (journal:FILE): backlog first, not live, each entry at
// its own time; then new entries live; the cursor handed with each batch resumes exactly after a
// restart; a journalctl that dies is run again and nothing is lost or read twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogLine } from '../../src/core/types.js';
import type { Position } from '../../src/grants/store.js';
import { JournalSource } from '../../src/sources/journal-source.js';
import { journalSkip, usec, writeJournal } from '../helpers/journal.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-jsrc-'));
const sources: JournalSource[] = [];
after(async () => {
  for (const s of sources) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-11-30T00:00:00Z');
const entry = (n: number) => ({ __REALTIME_TIMESTAMP: usec(T0 + n * 1000), SYSLOG_IDENTIFIER: 'dovecot', MESSAGE: `entry ${n}`, _UID: '0', _EXE: '/usr/lib/dovecot/log' });
const numbers = (lines: LogLine[]) => lines.map((l) => Number(/"MESSAGE":"entry (\d+)"/.exec(l.text)![1]));

interface Run {
  source: JournalSource;
  seen: LogLine[];
  last: () => Position | null;
}

async function follow(file: string, position: Position | null, fail?: (lines: LogLine[]) => boolean): Promise<Run> {
  const seen: LogLine[] = [];
  let last: Position | null = position;
  const source = new JournalSource(`journal:${file}`, { position, logger: memoryLogger().logger, retryMs: 50 });
  sources.push(source);
  await source.start(async (lines, pos) => {
    if (fail?.(lines)) throw new Error('store busy');
    seen.push(...lines);
    last = pos;
  });
  return { source, seen, last: () => last };
}

describe('journal source (journalctl on real journal files)', { skip: journalSkip() }, () => {
  it('reads the backlog as not live, then new entries live, and resumes after the stored cursor', async () => {
    const file = join(dir, 'a.journal');
    writeJournal(file, [1, 2, 3].map(entry));
    const a = await follow(file, null);
    assert.deepEqual(numbers(a.seen), [1, 2, 3], 'start() resolves once the backlog is read');
    assert.ok(
      a.seen.every((l) => !l.live),
      'backlog lines are not live',
    );
    assert.equal(a.last()?.dev, 'journal');
    assert.match(a.last()?.fingerprint ?? '', /^s=[0-9a-f]+;i=3;/, 'the position holds the cursor of the last entry');
    writeJournal(file, [4, 5].map(entry));
    await waitFor('the new entries', () => a.seen.length === 5, 5000);
    assert.deepEqual(
      a.seen.slice(3).map((l) => l.live),
      [true, true],
      'entries written while following are live',
    );
    await a.source.stop();
    const stored = a.last();
    writeJournal(file, [6, 7].map(entry));
    const b = await follow(file, stored);
    assert.deepEqual(numbers(b.seen), [6, 7], 'after a restart: exactly the entries not yet stored');
    assert.equal(b.last()?.line, 7, 'entries are counted on from the stored position');
    await b.source.stop();
  });

  it('runs journalctl again when it dies, and reads a batch again when it was not stored', async () => {
    const file = join(dir, 'b.journal');
    writeJournal(file, [1, 2].map(entry));
    let refuse = 1;
    const a = await follow(file, null, () => refuse-- > 0);
    // The first batch was refused: journalctl runs again from the start and it is read once.
    await waitFor('the backlog after a refused batch', () => a.seen.length === 2, 5000);
    const pid = await waitFor('journalctl --follow', () => a.source.childPid, 3000);
    process.kill(pid, 'SIGKILL');
    writeJournal(file, [3, 4].map(entry));
    await waitFor('the entries written after journalctl died', () => a.seen.length >= 4, 8000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(numbers(a.seen), [1, 2, 3, 4], 'nothing lost, nothing read twice');
    await a.source.stop();
  });

  it('refuses what is not a journal entry', () => {
    assert.throws(() => new JournalSource('journal:dovecot', { position: null, logger: memoryLogger().logger }), /not a journal match/);
    assert.throws(() => new JournalSource('journal:_SYSTEMD_UNIT=a b', { position: null, logger: memoryLogger().logger }), /not a journal match/);
    assert.throws(() => new JournalSource('journal:--since=today', { position: null, logger: memoryLogger().logger }), /not a journal match/);
  });
});
