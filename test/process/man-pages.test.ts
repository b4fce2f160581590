// popgate(8) and popgate.cf(5) are written from the program and the schema: rendered with man
// they name every verb and flag, every exit code, every setting and its default, without warnings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { suiteNeeding } from '../helpers/e2e.js';
import { buildProgram, VERSION } from '../../src/cli/program.js';
import { SCHEMA } from '../../src/config/schema.js';
import { EXIT } from '../../src/core/errors.js';
import { popgate8 } from '../../src/man/popgate-8.js';
import { flags, text } from '../../src/man/roff.js';

const GENERATE = new URL('../../src/man/generate.js', import.meta.url).pathname;
// In CI a missing man is a broken setup, not a reason to skip.
const REQUIRED = Boolean(process.env.CI) || process.env.POPGATE_E2E === 'required';
const HAVE_MAN = spawnSync('man', ['--version']).status === 0;
const SKIP = !HAVE_MAN && !REQUIRED ? 'man is not installed (apt-get install man-db)' : false;

/** The page as a reader sees it, on lines wide enough that nothing wraps or hyphenates. */
function render(file: string): string {
  const r = spawnSync('man', ['--warnings', '-l', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '250', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', MANPAGER: 'cat', PAGER: 'cat' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', `${file}: groff warnings`);
  return r.stdout;
}

function section(page: string, name: string): string {
  const m = new RegExp(`^${name}\\n([\\s\\S]*?)(?=^\\S|$(?![\\s\\S]))`, 'm').exec(page);
  assert.ok(m, `section ${name}`);
  return m[1]!;
}

suiteNeeding('man pages', SKIP, () => {
  const out = mkdtempSync(join(tmpdir(), 'popgate-man-'));
  const gen = spawnSync(process.execPath, [GENERATE, out], { encoding: 'utf8' });

  it('generate.js writes both pages', () => {
    assert.equal(gen.status, 0, gen.stderr);
    assert.deepEqual(gen.stdout.trim().split('\n'), [join(out, 'man8/popgate.8'), join(out, 'man5/popgate.cf.5')]);
  });

  it('popgate(8): every verb with each of its flags, every exit code, signals and files', () => {
    const page = render(join(out, 'man8/popgate.8'));
    const commands = section(page, 'COMMANDS');
    for (const c of buildProgram().commands) {
      const at = commands.search(new RegExp(`^   popgate ${c.name()} `, 'm'));
      assert.ok(at >= 0, `verb ${c.name()}`);
      const next = commands.slice(at + 1).search(/^ {3}popgate /m);
      const own = commands.slice(at, next < 0 ? undefined : at + 1 + next);
      for (const o of c.options) assert.ok(own.includes(o.long!), `${c.name()} ${o.long}`);
    }
    const exits = section(page, 'EXIT STATUS');
    for (const code of new Set([...Object.values(EXIT), 66, 141])) assert.match(exits, new RegExp(`^       ${code} `, 'm'), `exit ${code}`);
    assert.match(section(page, 'SIGNALS'), /SIGHUP[\s\S]*SIGTERM, SIGINT/);
    const files = section(page, 'FILES');
    for (const f of ['/etc/popgate/popgate.cf', SCHEMA.find((k) => k.key === 'db')!.default]) assert.ok(files.includes(f), f);
  });

  it('popgate.cf(5): every setting of SCHEMA with its default', () => {
    const params = section(render(join(out, 'man5/popgate.cf.5')), 'PARAMETERS');
    for (const k of SCHEMA) {
      const at = params.search(new RegExp(`^       ${k.key}(\\n| )`, 'm'));
      assert.ok(at >= 0, `setting ${k.key}`);
      const dflt = /Default: (.*)/.exec(params.slice(at))![1]!;
      assert.equal(dflt, k.default === '' ? 'empty' : k.default, `default of ${k.key}`);
    }
  });
});

describe('man page source', () => {
  it('a verb added to the program appears in popgate(8) with no other change', () => {
    const program = buildProgram();
    program.command('frobnicate').description('a verb only this test adds').option('--now', 'at once');
    assert.match(popgate8(program, VERSION), /^\.SS "\\fBpopgate frobnicate\\fR[^\n]*\n[^]*\\fB\\-\\-now\\fR/m);
  });

  it('roff: text never starts a request, hyphens and backslashes stay literal', () => {
    assert.equal(text('.x -y \\z'), '\\&.x \\-y \\ez');
    assert.equal(text("'quoted"), "\\&'quoted");
    assert.equal(flags('-p, --parser <name>'), '\\fB\\-p\\fR, \\fB\\-\\-parser\\fR \\fIname\\fR');
  });
});
