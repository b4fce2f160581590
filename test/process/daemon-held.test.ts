// A login the server may still refuse (Cyrus popminpoll) is held by the engine; the daemon must
// grant it once the hold ends even when no further line arrives, and never when it is refused.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { grantedIps, logOnly, startDaemon, syslogStamp, type DaemonHandle } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-held-'));
let d: DaemonHandle | null = null;
after(async () => {
  await d?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('held logins in the daemon', () => {
  it('grants a held Cyrus POP login when its hold ends on a quiet log, and not one the server refused', async () => {
    const log = join(dir, 'mail.log');
    writeFileSync(log, '');
    d = await startDaemon(logOnly(log), dir);
    appendFileSync(log, `${syslogStamp()} mx cyrus/pop3[4100]: login: [198.51.100.41] alice plaintext User logged in SESSIONID=<mx-4100-1>\n`);
    await waitFor('held login granted by the clock', () => grantedIps(d!.config).includes('198.51.100.41'), 6000, 100);
    appendFileSync(
      log,
      [
        `${syslogStamp()} mx cyrus/pop3[4101]: login: [198.51.100.42] alice plaintext User logged in SESSIONID=<mx-4101-1>`,
        `${syslogStamp()} mx cyrus/pop3[4101]: alice: Logins must be at least 1 minute apart`,
        '',
      ].join('\n'),
    );
    await new Promise((r) => setTimeout(r, 3000)); // past the 2 s hold: a refused login must still not appear
    assert.ok(!grantedIps(d.config).includes('198.51.100.42'), 'a login the server refused grants nothing');
    // Confirmed by a later line of the same batch: the grant still names its own login line.
    appendFileSync(
      log,
      [
        `${syslogStamp()} mx cyrus/pop3[4102]: login: [198.51.100.43] bob plaintext User logged in SESSIONID=<mx-4102-1>`,
        `${new Date(Date.now() + 3000).toISOString().replace('Z', '+00:00')} mx cyrus/pop3[4103]: login: [198.51.100.44] carol plaintext User logged in SESSIONID=<mx-4103-1>`,
        '',
      ].join('\n'),
    );
    await waitFor('the held login confirmed by the next line', () => grantedIps(d!.config).includes('198.51.100.43'), 6000, 100);
    await d.stop();
    const store = new SqliteStore(d.db, { readonly: true });
    const grantOf = (ip: string) => store.audit(ip, 10).find((a) => a.action === 'grant')?.detail;
    assert.equal(grantOf('198.51.100.41'), `${log}:1`, 'released by the clock: the login line, not a made-up one');
    assert.equal(grantOf('198.51.100.43'), `${log}:4`, 'released by a later line: the login line, not the later one');
    store.close();
  });
});
