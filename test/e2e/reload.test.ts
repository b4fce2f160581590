// SIGHUP re-reads the config and reopens the logs; a broken config is refused and the old one stays.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, it } from 'node:test';
import { e2eSkip, type DaemonHandle, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = await e2eSkip();
let d: DaemonHandle | null = null;
after(async () => {
  await d?.stop('SIGKILL');
});

suiteNeeding('SIGHUP', skip, () => {
  it('applies a new exclude list without a restart, and refuses a broken config', async () => {
    d = await startDaemon({});
    const first = loopbackAddress();
    assert.ok(await pop3Login(first, RIG.user, RIG.pass));
    await waitFor('first grant', () => mapLookup(first) === 'OK', 3000);

    const denied = loopbackAddress();
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace(/^exclude = .*$/m, `exclude = 127.0.0.1/32, ${denied}/32`));
    d.child.kill('SIGHUP');
    await waitFor('reload', () => d!.output().includes('configuration reloaded'), 3000);
    assert.ok(await pop3Login(denied, RIG.user, RIG.pass));
    await waitFor('refusal logged', () => d!.output().includes(`refused ${denied}`), 3000);
    assert.equal(mapLookup(denied), null);

    writeFileSync(d.config, readFileSync(d.config, 'utf8') + 'grace = whenever\n');
    d.child.kill('SIGHUP');
    await waitFor('reload refused', () => d!.output().includes('reload refused'), 3000);
    assert.match(d.output(), /grace: "whenever" is not a duration/);
    const later = loopbackAddress();
    assert.ok(await pop3Login(later, RIG.user, RIG.pass));
    await waitFor('still granting with the old config', () => mapLookup(later) === 'OK', 3000);
    assert.equal(d.child.exitCode, null);
    await d.stop();
  });
});
