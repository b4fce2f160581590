// contrib/popgate-supervise, the installer's stand-in for systemd, driven with a stand-in popgate
// that records its calls: withdraw after every exit (kill -9 included), restart on failure only,
// SIGTERM and SIGHUP forwarded, one supervisor per pid file. (The real daemon under it, against
// Postfix: test/e2e/install-modes.test.ts.)
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';

const SUPERVISE = new URL('../../../contrib/popgate-supervise', import.meta.url).pathname;
const LOGROTATE = new URL('../../../contrib/logrotate/popgate', import.meta.url).pathname;
const INSTALL = new URL('../../../contrib/install.sh', import.meta.url).pathname;

// `run` records its pid and waits (or exits with the code in ./exit); `withdraw` records itself.
const FAKE = `#!/bin/sh
d=$(dirname "$0")
case $1 in
  run)
    echo "run $$" >>"$d/calls"
    if [ -s "$d/exit" ]; then exit "$(cat "$d/exit")"; fi
    trap 'echo term >>"$d/calls"; exit 0' TERM
    trap 'echo hup >>"$d/calls"' HUP
    while :; do sleep 0.05; done ;;
  withdraw) echo withdraw >>"$d/calls"; echo "map withdrawn" ;;
esac
`;

const running = new Set<ChildProcess>();
after(() => {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
});

function setup(exitCode?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-supervise-'));
  const bin = join(dir, 'popgate');
  writeFileSync(bin, FAKE);
  chmodSync(bin, 0o755);
  if (exitCode !== undefined) writeFileSync(join(dir, 'exit'), String(exitCode));
  const pidfile = join(dir, 'supervise.pid');
  let out = '';
  const child = spawn('bash', [SUPERVISE, '--user', '', '--bin', bin, '--config', join(dir, 'popgate.cf'), '--pidfile', pidfile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);
  const runs = () => calls().filter((c) => c.startsWith('run '));
  return { dir, child, pidfile, exited, calls, runs, output: () => out };
}

describe('popgate-supervise', () => {
  it('after kill -9 of popgate run: withdraws, then restarts it', async () => {
    const s = setup();
    await waitFor('popgate run', () => s.runs().length === 1, 5000);
    assert.equal(readFileSync(s.pidfile, 'utf8').trim(), String(s.child.pid));
    const first = Number(s.runs()[0]!.split(' ')[1]);
    assert.equal(Number(readFileSync(s.pidfile.replace(/\.pid$/, '-daemon.pid'), 'utf8')), first);
    process.kill(first, 'SIGKILL');
    await waitFor('a second popgate run', () => s.runs().length === 2, 5000);
    assert.deepEqual(
      s.calls().map((c) => c.split(' ')[0]),
      ['run', 'withdraw', 'run'],
      'withdraw comes between the crash and the restart',
    );
    assert.match(s.output(), /killed by signal 9/);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });

  it('SIGTERM is forwarded, the map withdrawn, the pid file removed', async () => {
    const s = setup();
    await waitFor('popgate run', () => s.runs().length === 1, 5000);
    s.child.kill('SIGHUP');
    await waitFor('the forwarded SIGHUP', () => s.calls().includes('hup'), 5000);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    assert.deepEqual(
      s
        .calls()
        .filter((c) => c !== 'hup')
        .map((c) => c.split(' ')[0]),
      ['run', 'term', 'withdraw'],
    );
    assert.ok(!existsSync(s.pidfile));
  });

  for (const code of [64, 69, 78]) {
    it(`exit ${code} needs a person: withdrawn, not restarted`, async () => {
      const s = setup(code);
      assert.equal(await s.exited, code);
      assert.deepEqual(
        s.calls().map((c) => c.split(' ')[0]),
        ['run', 'withdraw'],
      );
      assert.match(s.output(), /not restarting/);
    });
  }

  it('a second supervisor on the same pid file refuses (exit 75)', async () => {
    const s = setup();
    await waitFor('popgate run', () => s.runs().length === 1, 5000);
    const r = spawnSync('bash', [SUPERVISE, '--user', '', '--bin', join(s.dir, 'popgate'), '--pidfile', s.pidfile], { encoding: 'utf8', timeout: 5000 });
    assert.equal(r.status, 75, r.stdout + r.stderr);
    assert.match(r.stdout, /already running/);
    assert.equal(s.runs().length, 1);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('logs where the logrotate entry rotates (copytruncate: the log is the >> redirection)', () => {
    const install = readFileSync(INSTALL, 'utf8');
    const log = /^LOGFILE=\$ROOT(\S+)$/m.exec(install)?.[1];
    assert.ok(log, 'install.sh names its LOGFILE');
    assert.match(install, /"\$SUPERVISE" .*>>"\$LOGFILE"/);
    const entry = readFileSync(LOGROTATE, 'utf8');
    assert.match(entry, new RegExp(`^${log} \\{$`, 'm'));
    assert.match(entry, /^\s*copytruncate$/m);
  });
});
