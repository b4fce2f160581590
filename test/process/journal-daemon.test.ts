// The daemon following `log = journal:FILE` (a real journal file): grants Dovecot's logins, never
// a forged identifier; kill -9 and a restart lose and repeat nothing (the cursor is stored in the
// transaction of the grants), and entries written while it was down are read at their own time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { startDaemon, type DaemonHandle, grantedIps } from '../helpers/e2e.js';
import { journalSkip, usec, writeJournal } from '../helpers/journal.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-jdaemon-'));
let d: DaemonHandle | null = null;
after(async () => {
  await d?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const DOVECOT = { _UID: '0', _EXE: '/usr/lib/dovecot/log', _SYSTEMD_UNIT: 'dovecot.service', _COMM: 'log', _PID: '870', SYSLOG_IDENTIFIER: 'dovecot' };
const FORGED = { _UID: '1000', _EXE: '/usr/bin/logger', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'logger', _PID: '990', SYSLOG_IDENTIFIER: 'dovecot' };
let n = 0;
function login(ip: string, at = Date.now(), writer: Record<string, string> = DOVECOT) {
  n++;
  return {
    __REALTIME_TIMESTAMP: usec(at),
    MESSAGE: `pop3-login: Login: user=<u${n}>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=${5000 + n}, session=<Sess${String(n).padStart(12, '0')}>`,
    ...writer,
  };
}

describe('daemon on journal:FILE', { skip: journalSkip() }, () => {
  it('grants from the journal, refuses a forged writer, and survives kill -9 without losing or repeating', async () => {
    const file = join(dir, 'mail.journal');
    const settings = { log: `journal:${file}`, map: 'none', use_mynetworks: 'no', grace: '30m' };
    writeJournal(file, [login('198.51.100.1', Date.now() - 60_000), login('203.0.113.66', Date.now() - 50_000, FORGED), login('198.51.100.2', Date.now() - 40_000)]);
    d = await startDaemon(settings, dir);
    await waitFor('the backlog granted', () => grantedIps(d!.config).length === 2, 8000, 100);
    writeJournal(file, [login('198.51.100.3'), login('198.51.100.4')]);
    await waitFor('live entries granted', () => grantedIps(d!.config).length === 4, 8000, 100);
    await d.stop('SIGKILL');
    // Written while popgate is down: read at the entries' own time when it comes back.
    const downAt = Date.now() - 120_000;
    writeJournal(file, [login('198.51.100.5', downAt), login('203.0.113.67', downAt, FORGED)]);
    d = await startDaemon(settings, dir);
    await waitFor('the entries written while down', () => grantedIps(d!.config).includes('198.51.100.5'), 8000, 100);
    writeJournal(file, [login('198.51.100.6')]);
    await waitFor('a live entry after the restart', () => grantedIps(d!.config).includes('198.51.100.6'), 8000, 100);
    await d.stop();
    assert.deepEqual(grantedIps(d.config), ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5', '198.51.100.6']);
    const store = new SqliteStore(d.db, { readonly: true });
    try {
      for (let i = 1; i <= 6; i++) {
        const actions = store
          .audit(`198.51.100.${i}`, 20)
          .map((a) => a.action)
          .filter((a) => a === 'grant' || a === 'renew');
        assert.deepEqual(actions, ['grant'], `198.51.100.${i}: read exactly once`);
      }
      const g5 = store.list(Date.now()).find((g) => g.ip === '198.51.100.5')!;
      assert.ok(Math.abs(g5.lastLogin - downAt) < 1000, `an entry read after the restart counts at its own time (${new Date(g5.lastLogin).toISOString()})`);
      const pos = store.getPosition(`journal:${file}`);
      assert.equal(pos?.dev, 'journal');
      assert.equal(pos?.line, 8, 'every entry counted once');
    } finally {
      store.close();
    }
  });
});
