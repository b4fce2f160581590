// End to end with the real Postfix (127.0.0.1:2526: check_policy_service
// unix:private/popgate-policy in smtpd_relay_restrictions, smtpd chrooted): popgate answers
// live from its store, so a grant or revoke counts for the very next SMTP session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { after, it } from 'node:test';
import { postfixAccount } from '../../src/publish/postfix-user.js';
import { e2eSkip, CLI, cli, type DaemonHandle, isAccepted, isRelayDenied, isTempFail, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const PORT = 2526;
const SOCKET = '/var/spool/postfix/private/popgate-policy';
const skip = await e2eSkip();
after(async () => {
  rmSync(SOCKET, { force: true }); // a killed daemon leaves it; nobody else listens there during e2e
});

function daemon(settings: Record<string, string> = {}): Promise<DaemonHandle> {
  return startDaemon({ map: 'none', policy: `unix:${SOCKET}`, ...settings });
}

const rcpt = (src: string) => smtpRcpt(src, PORT);

suiteNeeding('policy mode against real Postfix', skip, () => {
  it('the socket belongs to postfix; grant and revoke count for the very next session', async () => {
    const d = await daemon();
    const st = statSync(SOCKET);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.deepEqual([st.uid, st.gid], [postfixAccount()!.uid, postfixAccount()!.gid], 'owned by postfix:postfix');
    const src = loopbackAddress();
    const before = await rcpt(src);
    assert.ok(isRelayDenied(before), `refused before the grant: ${before}`);
    assert.equal(cli(['grant', src, '--for', '10m', '--config', d.config]).code, 0);
    const t0 = performance.now();
    const granted = await rcpt(src);
    const ms = performance.now() - t0;
    assert.ok(isAccepted(granted), `the first session after the grant relays: ${granted}`);
    assert.ok(isRelayDenied(await rcpt(loopbackAddress())), 'another address is still refused');
    assert.equal(cli(['revoke', src, '--config', d.config]).code, 0);
    const revoked = await rcpt(src);
    assert.ok(isRelayDenied(revoked), `the first session after the revoke is refused: ${revoked}`);
    assert.match(d.output(), new RegExp(`policy unix:${SOCKET}: ${src.replace(/\./g, '\\.')} RCPT → OK`));
    process.stderr.write(`# policy: SMTP session to RCPT with a live grant took ${ms.toFixed(1)} ms\n`);
    await d.stop();
    assert.ok(!existsSync(SOCKET), 'the socket is removed at stop');
  });

  it('popgate run --policy ADDR: the flag wins over the config file', async () => {
    const d = await daemon({ policy: 'none' });
    await d.stop();
    const child = spawn(process.execPath, [CLI, 'run', '--config', d.config, '--policy', `unix:${SOCKET}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (c) => (out += c));
    try {
      await waitFor('popgate to start', () => out.includes('started:'), 10_000);
      assert.match(out, new RegExp(`→ policy unix:${SOCKET}`));
      const src = loopbackAddress();
      cli(['grant', src, '--for', '10m', '--config', d.config]);
      assert.ok(isAccepted(await rcpt(src)));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
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

  it('a real POP3 login makes the policy service answer OK', async () => {
    const d = await daemon();
    const src = loopbackAddress();
    assert.ok(isRelayDenied(await rcpt(src)));
    assert.ok(await pop3Login(src, RIG.user, RIG.pass));
    await waitFor('relay after the POP3 login', async () => isAccepted(await rcpt(src)), 3000, 20);
    await d.stop();
  });

  it('with popgate stopped or killed Postfix answers 451 4.3.5, never 250, even for a granted address', async () => {
    const d = await daemon();
    const src = loopbackAddress();
    cli(['grant', src, '--for', '10m', '--config', d.config]);
    assert.ok(isAccepted(await rcpt(src)));
    await d.stop();
    const down = await rcpt(src);
    assert.ok(isTempFail(down), `stopped: ${down}`);
    const again = await daemon({ db: d.db });
    assert.ok(isAccepted(await rcpt(src)), 'the grant is back with the daemon (same store)');
    await again.stop('SIGKILL');
    assert.ok(existsSync(SOCKET), 'kill -9 leaves the socket file');
    const killed = await rcpt(src);
    assert.ok(isTempFail(killed), `killed: ${killed}`);
    const third = await daemon({ db: d.db });
    assert.ok(isAccepted(await rcpt(src)), 'a restart replaces the stale socket');
    await third.stop();
  });
});
