// A full disk under the map: a revoke that cannot be built must not leave the revoked address
// relaying. The reserve empty map takes the live map's place (a rename needs no space), postmap's
// leftovers are cleaned up, and once space is back the map is rebuilt by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { cli, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const root = process.getuid?.() === 0;
const hasPostfix = spawnSync('postconf', ['-h', 'mail_version']).status === 0;
const skip = !hasPostfix ? 'needs Postfix (postmap): apt-get install postfix' : !root ? 'needs root to mount a small tmpfs' : false;
if (skip && process.env.POPGATE_E2E === 'required') throw new Error(`POPGATE_E2E=required: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'popgate-full-'));
const mnt = join(dir, 'map');
after(() => {
  spawnSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

const lookup = (ip: string) => spawnSync('postmap', ['-q', ip, `hash:${join(mnt, 'popgate')}`], { encoding: 'utf8' }).stdout.trim();

/** Fills the file system until it refuses: returns the filler's path. */
function fill(): string {
  const path = join(mnt, 'filler');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return path;
}

suiteNeeding('a full disk under the map', skip, () => {
  it('a revoke that cannot be built withdraws the map; it comes back by itself once space is free', async () => {
    mkdirSync(mnt);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k,mode=0755', 'tmpfs', mnt]).status, 0, 'mount tmpfs');
    const db = join(dir, 'popgate.sqlite');
    const store = new SqliteStore(db);
    const now = Date.now();
    for (let i = 1; i <= 200; i++) store.grantManual(`198.51.100.${i}`, now + 3_600_000, now, 'test');
    store.close();
    const log = join(dir, 'mail.log');
    spawnSync('touch', [log]);
    const d = await startDaemon({ db, log, map: `hash:${join(mnt, 'popgate')}`, use_mynetworks: 'no' }, dir);
    assert.equal(lookup('198.51.100.7'), 'OK');
    assert.ok(readdirSync(mnt).includes('popgate.popgate-empty.db'), 'the reserve empty map is ready');

    const filler = fill();
    assert.equal(cli(['revoke', '198.51.100.7', '--config', d.config]).code, 0);
    await waitFor('the map withdrawn', () => lookup('198.51.100.7') === '', 10_000, 50);
    assert.equal(lookup('198.51.100.8'), '', 'the whole map is empty: nobody relays on a map popgate cannot keep');
    await waitFor('the daemon to say so', () => /cannot be rebuilt .*the empty reserve map is in place/.test(d.output()), 5000, 50);
    assert.deepEqual(
      readdirSync(mnt).filter((n) => n.startsWith('__db.') || n.includes('popgate-new')),
      [],
      'no postmap leftovers',
    );

    rmSync(filler);
    await waitFor('the map rebuilt once space is back', () => lookup('198.51.100.8') === 'OK', 40_000, 200);
    assert.equal(lookup('198.51.100.7'), '', 'the revoked address stays out');
    await waitFor('the reserve made again', () => readdirSync(mnt).includes('popgate.popgate-empty.db'), 5000, 50);
    await d.stop();
  });
});
