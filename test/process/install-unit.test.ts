// contrib/popgate.service: valid for systemd, sandboxed (exposure 3.0 or lower), run as its own
// user, and the map withdrawn after any exit. systemd-analyze works offline, without a running systemd.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const UNIT = new URL('../../../contrib/popgate.service', import.meta.url).pathname;
const REQUIRED = Boolean(process.env.CI) || process.env.POPGATE_E2E === 'required';
const HAVE = spawnSync('systemd-analyze', ['--version']).status === 0;
const skip = !HAVE && !REQUIRED ? 'systemd-analyze is not installed (apt-get install systemd)' : false;
const text = readFileSync(UNIT, 'utf8');

/** The unit's settings as key → values (a key may repeat). */
function settings(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
  }
  return m;
}

describe('systemd unit', () => {
  it('runs popgate as popgate, withdraws after any exit, restarts only on failure', () => {
    const s = settings();
    assert.deepEqual(s.get('User'), ['popgate']);
    assert.deepEqual(s.get('ExecStart'), ['/usr/local/bin/popgate run']);
    assert.deepEqual(s.get('ExecStopPost'), ['/usr/local/bin/popgate withdraw']);
    assert.deepEqual(s.get('Restart'), ['on-failure']);
    assert.deepEqual(s.get('RestartPreventExitStatus'), ['64 69 78']);
    assert.ok(s.get('ExecReload')?.[0]?.includes('HUP'));
    // Ready when caught up and published (READY=1 from a child process), and a watchdog.
    assert.deepEqual(s.get('Type'), ['notify']);
    assert.deepEqual(s.get('NotifyAccess'), ['all']);
    assert.ok(s.get('WatchdogSec'));
    // V8's JIT maps memory writable and executable: this option would kill popgate at start.
    assert.equal(s.get('MemoryDenyWriteExecute'), undefined);
  });

  it('passes systemd-analyze verify', { skip }, () => {
    // verify insists that the programs exist: point them at stand-ins in a scratch directory.
    const dir = mkdtempSync(join(tmpdir(), 'popgate-unit-'));
    const stand = join(dir, 'popgate');
    writeFileSync(stand, '#!/bin/sh\n');
    chmodSync(stand, 0o755);
    const unit = join(dir, 'popgate.service');
    writeFileSync(unit, text.replaceAll('/usr/local/bin/popgate', stand));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify must print no warning');
  });

  it('scores 3.0 or lower in systemd-analyze security', { skip }, () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
    const m = /Overall exposure level for popgate\.service: (\d+\.\d+)/.exec(r.stdout);
    assert.ok(m, `no score in:\n${r.stdout}${r.stderr}`);
    assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]} > 3.0:\n${r.stdout}`);
  });
});
