// A first start on the system journal (no stored cursor) asks journalctl for the last grace
// only: a busy server keeps months of journal, and older logins grant nothing.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JournalSource } from '../../src/sources/journal-source.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-jcold-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('journal: a cold start', () => {
  it('runs journalctl with --since the grace ago (the stored-cursor case is in the unit test of journalctlArgs)', async () => {
    const record = join(dir, 'args');
    const fake = join(dir, 'journalctl');
    // A journal with nothing in it: records its arguments, prints nothing, ends.
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${record}'\nexit 0\n`);
    chmodSync(fake, 0o755);
    const now = 1_800_000_000_000;
    const s = new JournalSource('journal:_SYSTEMD_UNIT=dovecot.service', { position: null, logger: memoryLogger().logger, journalctl: fake, backlogMs: 31 * 60_000, now: () => now });
    await s.start(async () => {});
    await s.stop();
    const first = readFileSync(record, 'utf8').split('\n')[0]!;
    assert.match(first, new RegExp(`--since=@${(now - 31 * 60_000) / 1000}\\b`));
    assert.match(first, /_SYSTEMD_UNIT=dovecot\.service$/);
  });
});
