// SIGHUP applies every live setting and names every restart-only one. The parsers were once kept
// as they ran (a Courier login that `popgate parse` found was not granted after a switch).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, freshLog, grantedIps, logOnly, startDaemon, syslogStamp } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('reload', () => {
  it('a parsers change takes effect: a Courier login grants after dovecot → courier', async () => {
    const log = join(dir, 'mail.log');
    writeFileSync(log, '');
    const base = logOnly(log);
    const d = await startDaemon({ ...base, parsers: 'dovecot' }, dir);
    const courier = (ip: string) => `${syslogStamp()} vm pop3d: LOGIN, user=alice, ip=[${ip}], port=[41207]\n`;
    appendFileSync(log, courier('198.51.100.61'));
    // A Dovecot line after it proves the first was read (and ignored) before the switch.
    appendFileSync(log, `${syslogStamp()} vm dovecot: pop3-login: Login: user=<bob>, method=PLAIN, rip=198.51.100.62, lip=127.0.0.1, mpid=1, session=<a1>\n`);
    await waitFor('the dovecot login', () => grantedIps(d.config).includes('198.51.100.62'), 5000, 50);
    assert.ok(!grantedIps(d.config).includes('198.51.100.61'), 'courier is not on yet');

    writeFileSync(
      d.config,
      Object.entries({ ...base, db: d.db, parsers: 'courier', map_value: 'RELAY' })
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') + '\n',
    );
    d.child.kill('SIGHUP');
    await waitFor('the reload', () => d.output().includes('configuration reloaded'), 5000, 20);
    assert.match(d.output(), /reload: map_value changed; that takes effect at the next restart/);
    assert.match(d.output(), /configuration reloaded \([^)]*\bparsers\b/);
    appendFileSync(log, courier('198.51.100.63'));
    await waitFor('the courier login after the reload', () => grantedIps(d.config).includes('198.51.100.63'), 5000, 50);
    assert.equal(await d.stop(), 0);
  });

  it('what is done by hand appears in the daemon log with who did it', async () => {
    const { dir: sub, settings } = freshLog(dir, 'hand');
    const d = await startDaemon(settings, sub);
    const env = { ...process.env, SUDO_USER: 'alice-admin' };
    assert.equal(cli(['grant', '198.51.100.71', '--config', d.config], env).code, 0);
    assert.equal(cli(['revoke', '198.51.100.71', '--config', d.config], env).code, 0);
    await waitFor('the daemon to say it', () => /by hand: revoke 198\.51\.100\.71 \(cli:alice-admin\)/.test(d.output()), 5000, 50);
    assert.match(d.output(), /by hand: grant 198\.51\.100\.71 \(cli:alice-admin\)/);
    await d.stop();
  });

  it('a login line no parser reads is said in the daemon log, never silently skipped', async () => {
    const { dir: sub, log, settings } = freshLog(dir, 'unread');
    const d = await startDaemon(settings, sub);
    // A login format no parser has (a server renamed or reconfigured): it must not pass unnoticed.
    appendFileSync(log, `${syslogStamp()} mx mypopd[77]: user alice logged in from 198.51.100.99 ok\n`);
    await waitFor('the warning', () => /mail\.log: 1 line .*so popgate grants nothing for it .*popgate parse --explain/.test(d.output()), 5000, 50);
    await d.stop();
  });
});
