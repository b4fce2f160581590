// popgate status and history against the real Dovecot and Postfix: a login, a refusal (deny
// file), a revoke and a brake by hand, each visible with its reason, its log line or who did it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { cli, e2eSkip, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = await e2eSkip();
const POLICY_PORT = 2526;
const POLICY_SOCKET = '/var/spool/postfix/private/popgate-policy';

const status = (config: string) => {
  const r = cli(['status', '--json', '--config', config]);
  return { code: r.code, report: JSON.parse(r.stdout) };
};
const history = (config: string, ...args: string[]) =>
  cli(['history', '--json', '--config', config, ...args])
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

suiteNeeding('status and history against real Dovecot and Postfix', skip, () => {
  it('shows a login, a refusal, a revoke and a brake, each with its reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-e2e-status-'));
    const granted = loopbackAddress();
    const denied = loopbackAddress();
    const deny = join(dir, 'deny');
    writeFileSync(deny, `# front end\n${denied}\n`);
    const d = await startDaemon({ exclude_files: deny, grace: '5m', policy: `unix:${POLICY_SOCKET}` }, dir);

    assert.ok(await pop3Login(granted, RIG.user, RIG.pass));
    assert.ok(await pop3Login(denied, RIG.user, RIG.pass));
    await waitFor('the grant in the map', () => mapLookup(granted) === 'OK', 3000);
    await waitFor('the refusal', () => d.output().includes(`refused ${denied}`), 3000);
    assert.match(await smtpRcpt(granted, POLICY_PORT), /^250/);

    const s = status(d.config);
    assert.equal(s.code, 0, JSON.stringify(s.report.problems));
    const r = s.report;
    assert.equal(r.logs[0].path, RIG.dovecotLog);
    assert.equal(r.logs[0].caught_up, true);
    assert.ok(r.logs[0].logins >= 2);
    assert.equal(r.grants.last_grant.ip, granted);
    assert.ok(r.refusals.deny_file >= 1);
    const map = r.publishers.find((p: { kind: string }) => p.kind === 'map');
    assert.ok(map.entries >= 1 && map.builds >= 1 && map.last_build_age_s < 60 && !map.failing, JSON.stringify(map));
    const policy = r.publishers.find((p: { kind: string }) => p.kind === 'policy');
    assert.ok(policy.answers.found >= 1, JSON.stringify(policy));

    const [login] = history(d.config, granted);
    assert.deepEqual([login.action, login.user, login.server, login.protocol], ['grant', RIG.user, 'dovecot', 'pop3']);
    assert.match(login.origin, new RegExp(`^${RIG.dovecotLog}:\\d+$`));
    const [refusal] = history(d.config, denied);
    assert.equal(refusal.action, 'refuse');
    assert.equal(refusal.detail, `in excluded network ${denied} (${deny}:2)`);
    assert.match(refusal.origin, new RegExp(`^${RIG.dovecotLog}:\\d+$`));

    assert.equal(cli(['revoke', granted, '--config', d.config]).code, 0);
    const revoke = history(d.config, granted).at(-1);
    assert.equal(revoke.action, 'revoke');
    assert.match(revoke.detail, /^cli:\S+$/);

    assert.equal(cli(['brake', '--reason', 'status test', '--config', d.config]).code, 0);
    await waitFor('the daemon notices the brake', () => d.output().includes('emergency brake is on'), 3000);
    const braked = status(d.config);
    assert.equal(braked.code, 1, 'the brake is a problem for a monitoring check');
    assert.match(braked.report.brake.reason, /^status test$/);
    assert.ok(braked.report.problems.some((p: string) => p.startsWith('emergency brake on since ')));
    const text = cli(['status', '--config', d.config]).stdout;
    assert.match(text, /^brake: ON since .* by cli:\S+: status test;/m);
    const brake = history(d.config, '--since', '1m').filter((e) => e.action === 'brake');
    assert.equal(brake.length, 1);
    assert.match(brake[0].detail, /^brake \(cli:\S+\): status test: \d+ grants$/);
    assert.equal(cli(['release', '--config', d.config]).code, 0);
    assert.ok(history(d.config, '--since', '1m').some((e) => e.action === 'release'));
    await d.stop();
  });
});
