// doctor tells the admin when the emergency brake is on (nothing is granted until release).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { cli } from '../helpers/e2e.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-doc-brake-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('doctor and the brake', () => {
  it('reports the brake as an error while it is on, and as released after', () => {
    const cfg = join(dir, 'popgate.cf');
    writeFileSync(join(dir, 'mail.log'), '');
    writeFileSync(cfg, `db = ${join(dir, 'db.sqlite')}\nmap = none\nlog = ${join(dir, 'mail.log')}\nuse_mynetworks = no\n`);
    assert.equal(cli(['brake', '--config', cfg]).code, 66, 'the CLI never creates a database');
    new SqliteStore(join(dir, 'db.sqlite')).close(); // as the daemon's first start does
    assert.equal(cli(['brake', '--config', cfg]).code, 0);
    const on = cli(['doctor', '--config', cfg]);
    assert.match(on.stdout + on.stderr, /error: emergency brake: on since .*; hint: .*popgate release/);
    assert.notEqual(on.code, 0);
    assert.equal(cli(['release', '--config', cfg]).code, 0);
    const off = cli(['doctor', '--config', cfg]);
    assert.doesNotMatch(off.stdout + off.stderr, /error: emergency brake/);
  });
});
