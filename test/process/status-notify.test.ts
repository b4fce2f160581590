// sd_notify messages as the helper receives them: one argument each, in order, through one
// resident shell (a stand-in script records them, so no systemd or datagram socket is needed).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Notifier } from '../../src/core/notify.js';
import { waitFor } from '../helpers/wait.js';

function recorder() {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-notify-'));
  const out = join(dir, 'messages');
  const cmd = join(dir, 'fake-notify');
  writeFileSync(cmd, `#!/bin/sh\nprintf '%s|%s\\n' "$PPID" "$1" >> ${out}\n`);
  chmodSync(cmd, 0o755);
  writeFileSync(out, '');
  const rows = () =>
    readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|'));
  return { cmd, messages: () => rows().map((r) => r[1]!), parents: () => new Set(rows().map((r) => r[0])) };
}

describe('sd_notify through systemd-notify', () => {
  it('sends READY, STATUS, EXTEND_TIMEOUT_USEC, watchdog pings and STOPPING, one message per call', async () => {
    const r = recorder();
    const n = new Notifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '600000' }, command: r.cmd });
    assert.equal(n.watchdogMs(), 600);
    n.extendTimeout(15_000);
    n.ready('3 grant(s)\nsecond line');
    n.startWatchdog();
    await waitFor('two pings', () => r.messages().filter((m) => m === 'WATCHDOG=1').length >= 2, 3000);
    n.stopping();
    await waitFor('STOPPING=1', () => r.messages().includes('STOPPING=1'), 3000);
    n.close();
    const m = r.messages();
    assert.deepEqual(m.slice(0, 3), ['EXTEND_TIMEOUT_USEC=15000000', 'READY=1', 'STATUS=3 grant(s) second line']);
    assert.equal(r.parents().size, 1, 'every message from the same resident shell');
  });

  it('says nothing without NOTIFY_SOCKET, and no watchdog for another pid', () => {
    assert.equal(new Notifier({ env: {} }).enabled, false);
    assert.equal(new Notifier({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' } }).watchdogMs(), null);
  });
});
