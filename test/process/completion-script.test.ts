// contrib/completion/popgate is the script generated from the program (so it cannot drift), passes
// bash -n, and completes verbs, flags, parser names, files and config keys when bash drives it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parserNames } from '../../parsers/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { SCHEMA } from '../../src/config/schema.js';
import { bashCompletion } from '../../src/man/completion.js';

const SCRIPT = new URL('../../../contrib/completion/popgate', import.meta.url).pathname;

/** What the script offers for the command line `words`, the last word being completed. */
function complete(script: string, ...words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['--norc', '-c', `source "$1"; COMP_WORDS=(popgate ${quoted}); COMP_CWORD=${words.length}; _popgate; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  it('contrib/completion/popgate is what the program generates', () => {
    assert.equal(readFileSync(SCRIPT, 'utf8'), bashCompletion(buildProgram()), 'regenerate: node dist/src/man/generate.js --completion > contrib/completion/popgate');
  });

  it('passes bash -n', () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('completes every verb, and a verb from its start', () => {
    assert.deepEqual(complete(SCRIPT, ''), [...buildProgram().commands.map((c) => c.name()), 'help']);
    assert.deepEqual(complete(SCRIPT, 'rel'), ['release', 'relay-test']);
  });

  it("completes each verb's flags, after other words too", () => {
    for (const c of buildProgram().commands) {
      const offered = complete(SCRIPT, c.name(), '-');
      for (const o of c.options) assert.ok(offered.includes(o.long!), `${c.name()} ${o.long}`);
    }
    assert.deepEqual(complete(SCRIPT, 'parse', '--json', 'x.log', '--ex'), ['--explain']);
  });

  it('completes parser names after --parser and files after --config', () => {
    assert.deepEqual(complete(SCRIPT, 'run', '--parser', ''), parserNames());
    assert.deepEqual(complete(SCRIPT, 'parse', '-p', 'dov'), ['dovecot']);
    const dir = mkdtempSync(join(tmpdir(), 'popgate-comp-'));
    writeFileSync(join(dir, 'popgate.cf'), '');
    assert.deepEqual(complete(SCRIPT, 'list', '--config', join(dir, 'pop')), [join(dir, 'popgate.cf')]);
    assert.deepEqual(complete(SCRIPT, 'grant', '--for', ''), []);
  });

  it('completes config keys where a verb takes a key', () => {
    const program = buildProgram();
    program.command('get').argument('[key...]', 'settings to show');
    const dir = mkdtempSync(join(tmpdir(), 'popgate-comp-'));
    const script = join(dir, 'popgate');
    writeFileSync(script, bashCompletion(program));
    assert.deepEqual(complete(script, 'get', 'dnsbl_t'), ['dnsbl_timeout']);
    assert.deepEqual(
      complete(script, 'get', ''),
      SCHEMA.map((k) => k.key),
    );
  });
});
