// What `npm pack` puts in the tarball: everything the CLI runs, LICENSE, the contrib files an admin
// installs, and no tests, samples, benchmarks, CI or capture scripts. The tree packed here is a
// copy of the repository's shipped-or-not files with this build's output as dist/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BUILD = new URL('../../', import.meta.url).pathname;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

let files: string[] = [];
let bin = '';

describe('npm pack', () => {
  before(() => {
    const stage = mkdtempSync(join(tmpdir(), 'popgate-pack-'));
    for (const p of ['package.json', 'LICENSE', 'README.md', 'contrib', '.ci', 'parsers']) cpSync(join(ROOT, p), join(stage, p), { recursive: true });
    cpSync(BUILD, join(stage, 'dist'), { recursive: true, filter: (src) => !src.includes('node_modules') });
    // --ignore-scripts: this build stands in for the one `prepare` would make.
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: stage, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    files = pack!.files.map((f) => f.path);
    bin = (JSON.parse(spawnSync('npm', ['pkg', 'get', 'bin.popgate'], { cwd: stage, encoding: 'utf8' }).stdout) as string).replace(/^\.\//, '');
  });

  it('holds LICENSE, the CLI entry and the files an admin installs', () => {
    assert.equal(bin, 'dist/src/cli/main.js');
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      bin,
      'dist/src/man/generate.js',
      'dist/parsers/index.js',
      'contrib/popgate.service',
      'contrib/popgate-supervise',
      'contrib/popgate.cf',
      'contrib/completion/popgate',
      'contrib/logrotate/popgate',
    ]) {
      assert.ok(files.includes(f), f);
    }
  });

  it('holds every compiled module of src and parsers', () => {
    const built = [...walk(join(BUILD, 'src')), ...readdirSync(join(BUILD, 'parsers')).map((n) => join(BUILD, 'parsers', n))]
      .filter((p) => p.endsWith('.js'))
      .map((p) => join('dist', relative(BUILD, p)));
    assert.deepEqual(
      built.filter((p) => !files.includes(p)),
      [],
    );
  });

  it('holds no tests, samples, benchmarks, CI, capture scripts, sources or source maps', () => {
    const unwanted = /(^|\/)test\/|\.test\.js$|^\.ci\/|bench\/|\.samples$|parsers\/capture|\.ts$|\.map$|^src\//;
    assert.deepEqual(
      files.filter((f) => unwanted.test(f)),
      [],
    );
  });
});
