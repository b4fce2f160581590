// The emergency brake end to end with real Postfix and Dovecot: grants present → popgate brake →
// map empty and the policy service says DUNNO within a second; the brake survives a restart;
// release resumes; a login storm trips the automatic brake by itself.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { e2eSkip, cli, type DaemonHandle, isAccepted, isRelayDenied, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const POLICY_PORT = 2526;
const SOCKET = '/var/spool/postfix/private/popgate-policy';
const SOCKETMAP_PORT = 2527;
const SOCKETMAP = '/var/spool/postfix/private/popgate-socketmap';
const skip = await e2eSkip();

function daemon(settings: Record<string, string>, dir?: string): Promise<DaemonHandle> {
  return startDaemon({ policy: `unix:${SOCKET}`, socketmap: `unix:${SOCKETMAP}`, ...settings }, dir);
}

const esc = (s: string) => s.replace(/\./g, '\\.');

suiteNeeding('emergency brake against real Postfix and Dovecot', skip, () => {
  it('brake empties the map and the policy answers within a second, survives a restart, release resumes', async () => {
    // A short grace keeps the backlog of other tests' logins in the shared Dovecot log out of it.
    const settings = { grace: '5m' };
    const d = await daemon(settings);
    const viaLogin = loopbackAddress();
    const viaCli = loopbackAddress();
    assert.ok(await pop3Login(viaLogin, RIG.user, RIG.pass));
    assert.equal(cli(['grant', viaCli, '--for', '10m', '--config', d.config]).code, 0);
    await waitFor('both granted in the map', () => mapLookup(viaLogin) === 'OK' && mapLookup(viaCli) === 'OK', 3000);
    assert.ok(isAccepted(await smtpRcpt(viaLogin, POLICY_PORT)), 'the policy service grants before the brake');
    assert.ok(isAccepted(await smtpRcpt(viaCli, SOCKETMAP_PORT)), 'the socketmap grants before the brake');

    const t0 = Date.now();
    const b = cli(['brake', '--reason', 'e2e test', '--config', d.config]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /emergency brake ON: \d+ grant\(s\) revoked/);
    await waitFor('map empty', () => mapLookup(viaLogin) === null && mapLookup(viaCli) === null, 1000);
    const policyReply = await smtpRcpt(viaLogin, POLICY_PORT);
    const ms = Date.now() - t0;
    assert.ok(isRelayDenied(policyReply), `policy says DUNNO → relay denied: ${policyReply}`);
    assert.ok(isRelayDenied(await smtpRcpt(viaCli, RIG.smtpMapPort)), 'the map refuses too');
    assert.ok(isRelayDenied(await smtpRcpt(viaCli, SOCKETMAP_PORT)), 'and the socketmap');
    assert.ok(ms < 1000, `brake → map empty and policy refusal took ${ms} ms`);
    process.stderr.write(`# brake → empty map and policy refusal: ${ms} ms\n`);
    assert.match(cli(['list', '--config', d.config]).stdout, /EMERGENCY BRAKE ON: applied .* by cli:\S+: e2e test/);
    assert.equal(cli(['brake', '--status', '--config', d.config]).code, 1);

    const during = loopbackAddress();
    assert.ok(await pop3Login(during, RIG.user, RIG.pass));
    await waitFor('the login refused', () => new RegExp(`refused ${esc(during)} .*emergency brake on`).test(d.output()), 3000);
    assert.equal(mapLookup(during), null);
    assert.equal(cli(['grant', during, '--config', d.config]).code, 69, 'no grant by hand either');

    await d.stop();
    const again = await daemon(settings, d.dir);
    assert.match(again.output(), /emergency brake is on \(applied .* by cli:\S+: e2e test\)/);
    const afterRestart = loopbackAddress();
    assert.ok(await pop3Login(afterRestart, RIG.user, RIG.pass));
    await waitFor('refused after the restart', () => new RegExp(`refused ${esc(afterRestart)} .*emergency brake on`).test(again.output()), 3000);
    assert.equal(mapLookup(afterRestart), null);

    const r = cli(['release', '--config', d.config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /released/);
    await waitFor('the daemon notices the release', () => again.output().includes('emergency brake released'), 2000);
    assert.ok(await pop3Login(afterRestart, RIG.user, RIG.pass));
    await waitFor('granted again after release', () => mapLookup(afterRestart) === 'OK', 3000);
    assert.ok(isAccepted(await smtpRcpt(afterRestart, POLICY_PORT)));
    await again.stop();
  });

  it('a login storm trips the automatic brake: every grant revoked, logged at error with the lines', async () => {
    const d = await daemon({ grace: '5s', brake_burst: '10/1m', brake_rate: 'none' });
    assert.equal(cli(['brake', '--status', '--config', d.config]).code, 0, `no brake before the storm:\n${d.output()}`);
    const storm = Array.from({ length: 16 }, () => loopbackAddress());
    for (const src of storm) assert.ok(await pop3Login(src, RIG.user, RIG.pass));
    await waitFor('automatic brake', () => d.output().includes('EMERGENCY BRAKE applied automatically'), 5000);
    const out = d.output();
    // The count may include backlog logins of earlier tests younger than the grace (they count
    // at their own timestamps); the last lines shown are the storm's.
    assert.match(
      out,
      /error: EMERGENCY BRAKE applied automatically: 11 new grants within \d+ (ms|s) from \/var\/log\/popgate-e2e\/dovecot\.log \(dovecot\), limit 10\/1m per log and parser; \d+ grant\(s\) revoked/,
    );
    const shown = out.split('\n').filter((l) => /error: {3}\/var\/log\/popgate-e2e\/dovecot\.log:\d+: .*pop3-login: (Info: )?Login: user=<alice>/.test(l));
    assert.ok(shown.length >= 3, 'the tripping lines are logged');
    assert.ok(
      storm.some((src) => shown.some((l) => l.includes(`rip=${src},`))),
      'storm lines among them',
    );
    await waitFor('map empty', () => storm.every((s) => mapLookup(s) === null), 1000);
    assert.ok(isRelayDenied(await smtpRcpt(storm[0]!, POLICY_PORT)));
    assert.match(cli(['list', '--config', d.config]).stdout, /EMERGENCY BRAKE ON: .* by auto: 11 new grants/);
    await d.stop();
  });
});
