// Deny files end to end: a login from a denied address is refused with the file and line as the
// reason; editing the file denies a granted address (revoked at once) without a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { e2eSkip, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = await e2eSkip();
const esc = (s: string) => s.replace(/\./g, '\\.');

suiteNeeding('deny files against real Dovecot and Postfix', skip, () => {
  it('denies from the file, and an edit takes effect without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-e2e-deny-'));
    const deny = join(dir, 'nat-gateways');
    const denied = loopbackAddress();
    const later = loopbackAddress();
    writeFileSync(deny, `# webmail front end\n${denied}\n`);
    const d = await startDaemon({ exclude_files: deny, grace: '5m' }, dir);
    const pid = d.child.pid;

    assert.ok(await pop3Login(denied, RIG.user, RIG.pass));
    assert.ok(await pop3Login(later, RIG.user, RIG.pass));
    await waitFor('the allowed login granted', () => mapLookup(later) === 'OK', 3000);
    assert.equal(mapLookup(denied), null);
    assert.match(d.output(), new RegExp(`refused ${esc(denied)} user=alice .*: in excluded network ${esc(denied)} \\(${deny}:2\\)`));

    // Deny the other one too: its grant is revoked, and its next login refused, same process.
    writeFileSync(deny, `# webmail front end\n${denied}\n${later.split('.').slice(0, 3).join('.')}.0/24\n`);
    await waitFor('the grant revoked after the edit', () => mapLookup(later) === null, 3000);
    assert.match(d.output(), new RegExp(`revoke ${esc(later)}: in excluded network`));
    assert.ok(await pop3Login(later, RIG.user, RIG.pass));
    await waitFor('the next login refused', () => new RegExp(`refused ${esc(later)} .*${deny}:3`).test(d.output()), 3000);
    assert.equal(mapLookup(later), null);
    assert.equal(d.child.pid, pid);
    assert.equal(d.child.exitCode, null, 'no restart');
    await d.stop();
  });

  it('SIGHUP with another exclude_files: the new file applies, its denied grants end, the old file is no longer read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-e2e-deny-'));
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    const a = loopbackAddress();
    const b = loopbackAddress();
    writeFileSync(first, `${a}\n`);
    writeFileSync(second, `${b}\n`);
    const d = await startDaemon({ exclude_files: first, grace: '5m' }, dir);
    assert.ok(await pop3Login(b, RIG.user, RIG.pass));
    await waitFor('b granted', () => mapLookup(b) === 'OK', 3000);
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace(`exclude_files = ${first}`, `exclude_files = ${second}`));
    d.child.kill('SIGHUP');
    await waitFor('reloaded', () => d.output().includes('configuration reloaded'), 3000);
    await waitFor('b revoked by the new file', () => mapLookup(b) === null, 3000);
    assert.match(d.output(), new RegExp(`revoke ${esc(b)}: in excluded network ${esc(b)} \\(${second}:1\\)`));
    assert.ok(await pop3Login(a, RIG.user, RIG.pass));
    await waitFor('a granted: the first file no longer applies', () => mapLookup(a) === 'OK', 3000);
    await d.stop();
  });
});
