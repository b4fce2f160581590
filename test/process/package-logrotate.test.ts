// contrib/logrotate/popgate rotates the log the installer's non-systemd fallback appends to, and
// the daemon's next line still lands in the live file (copytruncate: popgate cannot reopen it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ENTRY = new URL('../../../contrib/logrotate/popgate', import.meta.url).pathname;
const SUPERVISE = new URL('../../../contrib/popgate-supervise', import.meta.url).pathname;
const LOG = '/var/log/popgate.log';
const REQUIRED = Boolean(process.env.CI) || process.env.POPGATE_E2E === 'required';
const HAVE = spawnSync('logrotate', ['--version']).status === 0;

describe('logrotate entry', () => {
  it('names the log the installer writes', () => {
    assert.match(readFileSync(ENTRY, 'utf8'), new RegExp(`^${LOG} \\{$`, 'm'));
    assert.ok(readFileSync(SUPERVISE, 'utf8').includes(`/var/log/popgate.log`), `popgate-supervise no longer writes ${LOG}`);
  });

  it('rotates it while a writer keeps appending', { skip: !HAVE && !REQUIRED ? 'logrotate is not installed (apt-get install logrotate)' : false }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-logrotate-'));
    const log = join(dir, 'popgate.log');
    const conf = join(dir, 'popgate');
    const text = readFileSync(ENTRY, 'utf8').replaceAll(LOG, log);
    assert.ok(!text.includes(LOG), 'the copy must not touch the real log');
    writeFileSync(conf, text);
    // As the shell's >> opens it for the daemon.
    const fd = openSync(log, 'a');
    try {
      writeSync(fd, 'before rotation\n');
      const r = spawnSync('logrotate', ['--force', '--state', join(dir, 'state'), conf], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      writeSync(fd, 'after rotation\n');
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'before rotation\n');
    assert.equal(readFileSync(log, 'utf8'), 'after rotation\n');
  });
});
