// The compiled CLI's outcome for a shell: usage errors exit 64, help and version exit 0, and a
// reader that goes away (`popgate … | head`) ends it quietly instead of with a stack trace.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const PKG = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

function cli(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
}

describe('popgate sets its own Node flags', () => {
  it('the shebang runs this Node with the flags that keep peak RSS under 100 MB, and the command starts with them', () => {
    const first = readFileSync(MAIN, 'utf8').split('\n')[0]!;
    const m = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+=\d+)+)$/.exec(first);
    assert.ok(m, `shebang: ${first}`);
    const flags = m[1]!.trim().split(' ');
    assert.ok(flags.includes('--max-semi-space-size=2') && flags.includes('--v8-pool-size=1'), first);
    // Run as the shebang would (env splits the line): a flag this Node rejects would stop every start.
    const r = spawnSync('/usr/bin/env', ['-S', `${process.execPath} ${flags.join(' ')}`, MAIN, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), PKG.version);
  });
});

describe('popgate exit codes', () => {
  it('bare popgate: the usage on stderr, nothing on stdout, exit 64', () => {
    const r = cli();
    assert.equal(r.status, 64);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: popgate /m);
  });

  it('an unknown verb or flag exits 64 and names it', () => {
    const verb = cli('frobnicate');
    assert.equal(verb.status, 64);
    assert.match(verb.stderr, /unknown command 'frobnicate'/);
    const flag = cli('list', '--frobnicate');
    assert.equal(flag.status, 64);
    assert.match(flag.stderr, /unknown option '--frobnicate'/);
  });

  it('a missing argument exits 64', () => {
    assert.equal(cli('grant').status, 64);
  });

  it('--help and help exit 0 and list every verb of the program', () => {
    for (const args of [['--help'], ['help']]) {
      const r = cli(...args);
      assert.equal(r.status, 0, r.stderr);
      for (const c of buildProgram().commands) assert.match(r.stdout, new RegExp(`^  ${c.name()} `, 'm'), `${args.join(' ')} lists ${c.name()}`);
    }
  });

  it('--version prints the version of package.json', () => {
    const r = cli('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), PKG.version);
  });
});

describe('popgate | head', () => {
  it('a closed stdout ends the verb quietly, exit 141 as after SIGPIPE', async () => {
    const child = spawn(process.execPath, [MAIN, 'config', '-d'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before node has even started, so the verb's first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 141);
  });
});
