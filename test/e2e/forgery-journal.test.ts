// Issue 11 items 1-2 end to end against the real Postfix: popgate follows a journal (a real journal
// file, log = journal:FILE). Entries tagged dovecot by logger, by a copy named imap, by a user's own
// Dovecot and without writer fields never make Postfix answer 250; the entry Dovecot's log process
// wrote does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { e2eSkip, isAccepted, isRelayDenied, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { journalSkip, usec, writeJournal } from '../helpers/journal.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = (await e2eSkip()) || journalSkip();
const dir = mkdtempSync(join(tmpdir(), 'popgate-forgery-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const login = (ip: string, n: number) => `pop3-login: Login: user=<alice>, method=PLAIN, rip=${ip}, lip=127.0.0.1, mpid=${7000 + n}, session=<Forgery${String(n).padStart(9, '0')}>`;
const WRITERS: Record<string, Record<string, string>> = {
  'logger -t dovecot': { _UID: '1000', _EXE: '/usr/bin/logger', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'logger' },
  'a copy named imap': { _UID: '1000', _EXE: '/home/mallory/imap', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'imap' },
  "a user's own Dovecot": { _UID: '1000', _EXE: '/usr/lib/dovecot/log', _SYSTEMD_UNIT: 'session-3.scope', _COMM: 'log' },
  "root's logger": { _UID: '0', _EXE: '/usr/bin/logger', _SYSTEMD_UNIT: 'cron.service', _COMM: 'logger' },
  'no writer fields': { _COMM: 'imap-login' },
};

suiteNeeding('forged journal entries against real Postfix', skip, () => {
  it("never a 250 for a forged writer; Dovecot's own entry relays", async () => {
    const file = join(dir, 'mail.journal');
    const forged = Object.keys(WRITERS).map(() => loopbackAddress());
    const genuine = loopbackAddress();
    for (const ip of [...forged, genuine]) assert.ok(isRelayDenied(await smtpRcpt(ip, RIG.smtpMapPort)), `${ip} is refused before`);
    const d = await startDaemon({ log: `journal:${file}`, grace: '1m' }, dir);
    let n = 0;
    writeJournal(
      file,
      Object.values(WRITERS).map((w, i) => ({ __REALTIME_TIMESTAMP: usec(Date.now()), SYSLOG_IDENTIFIER: 'dovecot', _PID: String(900 + i), MESSAGE: login(forged[i]!, n++), ...w })),
    );
    writeJournal(file, [
      {
        __REALTIME_TIMESTAMP: usec(Date.now()),
        SYSLOG_IDENTIFIER: 'dovecot',
        _PID: '870',
        _UID: '0',
        _EXE: '/usr/lib/dovecot/log',
        _SYSTEMD_UNIT: 'dovecot.service',
        _COMM: 'log',
        MESSAGE: login(genuine, n++),
      },
    ]);
    // The genuine entry comes last: once it relays, every forged one has been read.
    await waitFor('relay for the genuine login', async () => isAccepted(await smtpRcpt(genuine, RIG.smtpMapPort)), 8000, 50);
    const names = Object.keys(WRITERS);
    for (const [i, ip] of forged.entries()) {
      assert.equal(mapLookup(ip), null, `${names[i]}: not in the map`);
      assert.ok(isRelayDenied(await smtpRcpt(ip, RIG.smtpMapPort)), `${names[i]}: Postfix refuses relay`);
    }
    await d.stop();
  });
});
