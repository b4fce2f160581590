// End to end with the real Dovecot and Postfix: a POP3/IMAP login from a loopback address
// turns "Relay access denied" into 250 through the hash map popgate publishes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { e2eSkip, cli, dovecotReopenLog, isAccepted, isRelayDenied, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { imapSession, loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = await e2eSkip();
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function relayed(src: string, port = RIG.smtpMapPort, host = '127.0.0.1'): Promise<string> {
  return smtpRcpt(src, port, 'user@example.net', host);
}

suiteNeeding('map mode against real Postfix and Dovecot', skip, () => {
  it('a POP3 login grants relay at once, and the grace ends it', async () => {
    const d = await startDaemon({ grace: '4s' });
    const src = loopbackAddress();
    assert.ok(isRelayDenied(await relayed(src)), 'relay is refused before the login');
    assert.ok(await pop3Login(src, RIG.user, RIG.pass), 'Dovecot accepts the password');
    const t0 = Date.now();
    await waitFor('relay after the login', async () => isAccepted(await relayed(src)), 3000, 20);
    const ms = Date.now() - t0;
    assert.equal(mapLookup(src), 'OK');
    const list = JSON.parse(cli(['list', '--json', '--config', d.config]).stdout) as { ip: string; user: string; server: string }[];
    assert.deepEqual(list.find((g) => g.ip === src) && { user: list.find((g) => g.ip === src)!.user, server: list.find((g) => g.ip === src)!.server }, { user: 'alice', server: 'dovecot' });
    await waitFor('relay refused after the grace', async () => isRelayDenied(await relayed(src)), 15_000, 100);
    assert.equal(mapLookup(src), null);
    assert.match(d.output(), new RegExp(`expire ${src.replace(/\./g, '\\.')}`));
    process.stderr.write(`# login → relay took ${ms} ms\n`);
    await d.stop();
  });

  it('failed passwords grant nothing', async () => {
    const d = await startDaemon({});
    const bad = loopbackAddress();
    const good = loopbackAddress();
    assert.equal(await pop3Login(bad, RIG.user, 'wrong-password'), false);
    assert.equal(await pop3Login(bad, 'nosuchuser', 'x'), false);
    assert.ok(await pop3Login(good, RIG.user, RIG.pass));
    // The good login comes later in the log: once it is granted, the failures have been read.
    await waitFor('the good login', () => mapLookup(good) === 'OK', 3000);
    assert.equal(mapLookup(bad), null);
    assert.ok(isRelayDenied(await relayed(bad)));
    await d.stop();
  });

  it('an open IMAP session holds the grant past the grace; the grace counts from the logout', async () => {
    const d = await startDaemon({ grace: '2s' });
    const src = loopbackAddress();
    const session = await imapSession(src, RIG.user, RIG.pass);
    assert.ok(session.ok);
    await waitFor('grant', () => mapLookup(src) === 'OK', 3000);
    await delay(3500); // longer than the grace: only the open session keeps the grant
    assert.ok(isAccepted(await relayed(src)), 'still relays while the IMAP session is open');
    await session.logout();
    const t0 = Date.now();
    await waitFor('refusal after logout + grace', async () => isRelayDenied(await relayed(src)), 6000, 100);
    assert.ok(Date.now() - t0 >= 1000, 'the grace ran from the logout');
    await d.stop();
  });

  it('grant, revoke and flush from the CLI reach Postfix within a second', async () => {
    const d = await startDaemon({});
    const src = loopbackAddress();
    assert.equal(cli(['grant', src, '--for', '10m', '--config', d.config]).code, 0);
    await waitFor('grant in the map', () => mapLookup(src) === 'OK', 1000);
    assert.ok(isAccepted(await relayed(src)));
    assert.equal(cli(['revoke', src, '--config', d.config]).code, 0);
    await waitFor('revoke in the map', () => mapLookup(src) === null, 1000);
    assert.ok(isRelayDenied(await relayed(src)));
    cli(['grant', src, '--config', d.config]);
    await waitFor('grant again', () => mapLookup(src) === 'OK', 1000);
    assert.equal(cli(['flush', '--config', d.config]).code, 0);
    await waitFor('flush in the map', () => mapLookup(src) === null, 1000);
    assert.equal(cli(['grant', 'not-an-ip', '--config', d.config]).code, 64);
    assert.equal(cli(['grant', '127.0.0.1', '--config', d.config]).code, 64, 'mynetworks/excluded addresses are refused');
    await d.stop();
  });

  it('IPv6: a login over ::1 lets [::1] relay', async () => {
    const d = await startDaemon({ exclude: '127.0.0.1/32' });
    // A new database reads the rig log's recent backlog: an earlier run's ::1 login may grant it.
    cli(['revoke', '::1', '--config', d.config]);
    await waitFor('no grant for ::1 to start from', () => mapLookup('::1') === null, 2000);
    assert.ok(isRelayDenied(await relayed('::1', RIG.smtpMapPort, '::1')));
    assert.ok(await pop3Login('::1', RIG.user, RIG.pass, RIG.pop3Port, '::1'));
    await waitFor('::1 granted', async () => isAccepted(await relayed('::1', RIG.smtpMapPort, '::1')), 3000, 20);
    assert.equal(mapLookup('::1'), 'OK');
    cli(['revoke', '::1', '--config', d.config]);
    await waitFor('::1 revoked', () => mapLookup('::1') === null, 1000);
    await d.stop();
  });

  it('kill -9 and restart: live grants stay, expired ones stay gone, no line is replayed', async () => {
    const first = await startDaemon({ grace: '5s' });
    const early = loopbackAddress();
    const late = loopbackAddress();
    const whileDown = loopbackAddress();
    assert.ok(await pop3Login(early, RIG.user, RIG.pass));
    await waitFor('early grant', () => mapLookup(early) === 'OK', 3000);
    await delay(2500);
    assert.ok(await pop3Login(late, RIG.user, RIG.pass));
    await waitFor('late grant', () => mapLookup(late) === 'OK', 3000);
    await first.stop('SIGKILL');
    await delay(3000); // early's grace ends while popgate is down
    assert.ok(await pop3Login(whileDown, RIG.user, RIG.pass));
    const second = await startDaemon({ grace: '5s' }, first.dir);
    await waitFor('login made while down', () => mapLookup(whileDown) === 'OK', 3000);
    assert.equal(mapLookup(late), 'OK', 'a live grant survives kill -9');
    assert.equal(mapLookup(early), null, 'an expired grant is not resurrected');
    const db = new Database(first.db, { readonly: true });
    // Grants, renewals and expiries (the trail also holds each POP3 session's logout).
    const actions = (ip: string) => db.prepare("SELECT action FROM audit WHERE ip = ? AND action IN ('grant', 'renew', 'expire') ORDER BY id").pluck().all(ip) as string[];
    assert.deepEqual(actions(late), ['grant'], 'the old login line was not read again');
    assert.deepEqual(actions(early), ['grant', 'expire']);
    assert.deepEqual(actions(whileDown), ['grant']);
    db.close();
    await second.stop();
  });

  it('rename+create and copytruncate rotation while logins keep coming lose nothing', async () => {
    const d = await startDaemon({});
    const sources: string[] = [];
    for (let i = 0; i < 12; i++) {
      const src = loopbackAddress();
      sources.push(src);
      assert.ok(await pop3Login(src, RIG.user, RIG.pass));
      if (i % 4 === 1) {
        execFileSync('mv', [RIG.dovecotLog, `${RIG.dovecotLog}.1`]);
        dovecotReopenLog();
      } else if (i % 4 === 3) {
        execFileSync('cp', [RIG.dovecotLog, `${RIG.dovecotLog}.1`]);
        execFileSync('truncate', ['-s', '0', RIG.dovecotLog]);
      }
    }
    await waitFor('every login granted', () => sources.every((s) => mapLookup(s) === 'OK'), 5000, 50);
    await d.stop();
  });
});
