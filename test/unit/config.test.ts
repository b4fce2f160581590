import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { SCHEMA } from '../../src/config/schema.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.cf`);
  writeFileSync(p, text);
  return p;
}

describe('config', () => {
  it('has Debian defaults for every unset key', () => {
    const c = loadConfig({ file: file('# nothing set\n'), overrides: {} });
    assert.deepEqual(c.log, ['/var/log/mail.log']);
    assert.deepEqual(c.map, { type: 'hash', path: '/var/lib/popgate/map/popgate' });
    assert.equal(c.grace, 30 * 60_000);
    assert.equal(c.db, '/var/lib/popgate/popgate.sqlite');
    assert.ok(c.exclude.some((n) => n.contains('127.0.0.5')) && c.exclude.some((n) => n.contains('::1')));
  });

  it('reads main.cf syntax: comments, lists, continuation lines; flags win', () => {
    const p = file('# c\nlog = /a.log,\n  /b.log\ngrace = 90s\nmap = lmdb:/etc/postfix/pg\n');
    const c = loadConfig({ file: p, overrides: { grace: '2m' } });
    assert.deepEqual(c.log, ['/a.log', '/b.log']);
    assert.equal(c.grace, 120_000);
    assert.deepEqual(c.map, { type: 'lmdb', path: '/etc/postfix/pg' });
  });

  it('names file, line and key for a bad value, with a hint', () => {
    const p = file('log = /x\ngrace = soon\n');
    assert.throws(
      () => loadConfig({ file: p }),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${p}:2: grace: "soon" is not a duration`) && e.message.includes('hint:'),
    );
    assert.throws(() => loadConfig({ file: file('exclude = 10.0.0.0/33\n') }), /is not an address or network/);
    assert.throws(() => loadConfig({ file: file('map = hash:relative/path\n') }), /TYPE:\/absolute\/path/);
    assert.throws(() => loadConfig({ file: file('this is not a setting\n') }), /:1: .*not a "name = value" line/);
  });

  it('treats a bad flag as a usage error and a missing --config file as a config error', () => {
    assert.throws(
      () => loadConfig({ overrides: { grace: 'x' } }),
      (e: Error) => e instanceof UsageError && e.message.startsWith('--grace:'),
    );
    assert.throws(
      () => loadConfig({ file: join(dir, 'missing.cf') }),
      (e: Error) => e instanceof ConfigError && e.message.includes('cannot read'),
    );
  });

  it('warns about unknown keys instead of failing', () => {
    const warnings: string[] = [];
    loadConfig({ file: file('grase = 10m\n'), warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /:1: unknown setting "grase"/);
  });

  it('documents every key with a default that itself validates', () => {
    for (const k of SCHEMA) {
      assert.ok(k.meaning.length > 10, k.key);
      assert.doesNotThrow(() => k.parse(k.default), k.key);
    }
    assert.equal(parseConfigText('a = 1\n', 'x').get('a')!.value, '1');
  });
});
