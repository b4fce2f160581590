// End to end with the real Postfix (127.0.0.1:2527: check_client_access
// socketmap:unix:private/popgate-socketmap:popgate in smtpd_relay_restrictions, chrooted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { after, it } from 'node:test';
import { postfixAccount } from '../../src/publish/postfix-user.js';
import { e2eSkip, cli, type DaemonHandle, isAccepted, isRelayDenied, isTempFail, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const PORT = 2527;
const SOCKET = '/var/spool/postfix/private/popgate-socketmap';
const skip = await e2eSkip();
after(async () => {
  rmSync(SOCKET, { force: true }); // a killed daemon leaves it; nobody else listens there during e2e
});

function daemon(settings: Record<string, string> = {}): Promise<DaemonHandle> {
  return startDaemon({ map: 'none', socketmap: `unix:${SOCKET}`, ...settings });
}

const rcpt = (src: string) => smtpRcpt(src, PORT);
/** What Postfix's own client gets: postmap -q KEY socketmap:unix:PATH:popgate. */
function postmapQuery(key: string): { code: number | null; out: string } {
  const r = spawnSync('postmap', ['-q', key, `socketmap:unix:${SOCKET}:popgate`], { encoding: 'utf8' });
  return { code: r.status, out: (r.stdout + r.stderr).trim() };
}

suiteNeeding('socketmap mode against real Postfix', skip, () => {
  it('grant and revoke count for the very next session; postmap -q agrees', async () => {
    const d = await daemon();
    const st = statSync(SOCKET);
    assert.ok(st.isSocket());
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [postfixAccount()!.uid, postfixAccount()!.gid, 0o660]);
    const src = loopbackAddress();
    assert.ok(isRelayDenied(await rcpt(src)));
    assert.equal(postmapQuery(src).code, 1, 'not found');
    assert.equal(cli(['grant', src, '--for', '10m', '--config', d.config]).code, 0);
    const t0 = performance.now();
    const granted = await rcpt(src);
    const ms = performance.now() - t0;
    assert.ok(isAccepted(granted), `the first session after the grant relays: ${granted}`);
    assert.deepEqual(postmapQuery(src), { code: 0, out: 'OK' });
    assert.equal(postmapQuery('unknown').code, 1, 'a client name is never found');
    assert.ok(isRelayDenied(await rcpt(loopbackAddress())));
    assert.equal(cli(['revoke', src, '--config', d.config]).code, 0);
    const revoked = await rcpt(src);
    assert.ok(isRelayDenied(revoked), `the first session after the revoke is refused: ${revoked}`);
    process.stderr.write(`# socketmap: SMTP session to RCPT with a live grant took ${ms.toFixed(1)} ms\n`);
    await d.stop();
    assert.ok(!existsSync(SOCKET));
  });

  it('an expired grant is refused from the instant it expires', async () => {
    const d = await daemon();
    const src = loopbackAddress();
    assert.equal(cli(['grant', src, '--for', '2s', '--config', d.config]).code, 0);
    const expires = Date.parse((JSON.parse(cli(['list', '--json', '--config', d.config]).stdout) as { ip: string; expires: string }[]).find((g) => g.ip === src)!.expires);
    assert.ok(isAccepted(await rcpt(src)));
    await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now())));
    const reply = await rcpt(src);
    assert.ok(isRelayDenied(reply), `refused right after expires_at: ${reply}`);
    await d.stop();
  });

  it('a real POP3 login grants relay through the socketmap', async () => {
    const d = await daemon();
    const src = loopbackAddress();
    assert.ok(await pop3Login(src, RIG.user, RIG.pass));
    await waitFor('relay after the POP3 login', async () => isAccepted(await rcpt(src)), 3000, 20);
    await d.stop();
  });

  it("inet:127.0.0.1:PORT: Postfix's own socketmap client (postmap -q) gets OK and NOTFOUND", async () => {
    const d = await daemon({ socketmap: 'inet:127.0.0.1:10047' });
    const src = loopbackAddress();
    const q = (key: string) => spawnSync('postmap', ['-q', key, 'socketmap:inet:127.0.0.1:10047:popgate'], { encoding: 'utf8' });
    assert.equal(q(src).status, 1);
    cli(['grant', src, '--for', '10m', '--config', d.config]);
    assert.deepEqual([q(src).status, q(src).stdout.trim()], [0, 'OK']);
    assert.equal(q('unknown').status, 1);
    await d.stop();
    assert.notEqual(q(src).status, 0, 'nothing answers once popgate stopped');
  });

  it('a wrong map name, a stopped or a killed popgate: 451 4.3.5, never 250', async () => {
    const wrong = await daemon({ socketmap_name: 'other' });
    const src = loopbackAddress();
    cli(['grant', src, '--for', '10m', '--config', wrong.config]);
    const perm = await rcpt(src);
    assert.ok(isTempFail(perm), `wrong map name: ${perm}`);
    await wrong.stop();
    const d = await daemon({ db: wrong.db });
    assert.ok(isAccepted(await rcpt(src)));
    await d.stop();
    const down = await rcpt(src);
    assert.ok(isTempFail(down), `stopped: ${down}`);
    const again = await daemon({ db: d.db });
    assert.ok(isAccepted(await rcpt(src)));
    await again.stop('SIGKILL');
    const killed = await rcpt(src);
    assert.ok(isTempFail(killed), `killed: ${killed}`);
  });
});
