// A restart between the two lines of a login (popa3d: the address, then the success) or during a
// Cyrus hold must not lose it: what is pending is stored with the log position.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freshLog, grantedIps, startDaemon, syslogStamp } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-pending-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pending logins across a restart', () => {
  it('popa3d: the address line before a restart, the success after it: granted', async () => {
    const { dir: sub, log, settings } = freshLog(dir, 'popa3d');
    const d = await startDaemon(settings, sub);
    appendFileSync(log, `${syslogStamp()} mx popa3d[31001]: Session from 198.51.100.91\n`);
    // A later line proves the first was read and committed before the stop.
    appendFileSync(log, `${syslogStamp()} mx dovecot: pop3-login: Login: user=<x>, method=PLAIN, rip=198.51.100.92, lip=192.0.2.1, mpid=1, session=<p1>\n`);
    await waitFor('the marker login', () => grantedIps(d.config).includes('198.51.100.92'), 5000, 50);
    assert.equal(await d.stop(), 0);
    appendFileSync(log, `${syslogStamp()} mx popa3d[31001]: Authentication passed for alice\n`);
    const again = await startDaemon({ ...settings, db: d.db }, sub);
    await waitFor('the login completed after the restart', () => grantedIps(again.config).includes('198.51.100.91'), 5000, 50);
    await again.stop();
  });

  it('Cyrus popminpoll: a login held when popgate stops is granted after the restart', async () => {
    const { dir: sub, log, settings } = freshLog(dir, 'cyrus');
    const d = await startDaemon(settings, sub);
    appendFileSync(log, `${syslogStamp()} mx cyrus/pop3[4200]: login: [198.51.100.93] alice plaintext User logged in SESSIONID=<mx-4200-1>\n`);
    appendFileSync(log, `${syslogStamp()} mx dovecot: pop3-login: Login: user=<x>, method=PLAIN, rip=198.51.100.94, lip=192.0.2.1, mpid=1, session=<p2>\n`);
    await waitFor('the marker login', () => grantedIps(d.config).includes('198.51.100.94'), 5000, 50);
    assert.ok(!grantedIps(d.config).includes('198.51.100.93'), 'still held');
    assert.equal(await d.stop(), 0);
    const again = await startDaemon({ ...settings, db: d.db }, sub);
    await waitFor('the held login granted after the restart', () => grantedIps(again.config).includes('198.51.100.93'), 6000, 100);
    await again.stop();
  });
});
