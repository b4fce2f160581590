// doctor with store = postgresql://…, against a real cluster: the connection, the schema
// version, the reader role's rights (SELECT on every table readers read, nothing more) and the
// shared brake, each an error or warning with its fix.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { type Cluster, pgSkip, startCluster } from '../e2e/pg-helpers.js';
import { cli, suiteNeeding } from '../helpers/e2e.js';

const skip = pgSkip();
let pg: Cluster;
let dir: string;

/** doctor's findings about the shared store, for a config whose store is `url`. */
function doctor(url: string): { code: number | null; lines: string[] } {
  const cf = join(dir, 'popgate.cf');
  writeFileSync(cf, `store = ${url}\ndb = ${join(dir, 'db.sqlite')}\nmap = none\nlog = ${join(dir, 'mail.log')}\nuse_mynetworks = no\n`);
  const r = cli(['doctor', '--config', cf]);
  return { code: r.code, lines: r.stdout.split('\n').filter((l) => l.includes(': store postgresql://')) };
}
const has = (lines: string[], re: RegExp) =>
  assert.ok(
    lines.some((l) => re.test(l)),
    `${re} in:\n${lines.join('\n')}`,
  );

before(async () => {
  if (skip) return;
  pg = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'popgate-pg-doctor-'));
  writeFileSync(join(dir, 'mail.log'), '');
});

suiteNeeding('doctor checks the shared store', skip, () => {
  it('an unreachable store is an error naming it, with the fix', () => {
    const d = doctor('postgresql://popgate_writer@127.0.0.1:1/popgate');
    has(d.lines, /^error: store postgresql:\/\/popgate_writer@127\.0\.0\.1:1\/popgate: cannot connect .*; hint: /);
    assert.equal(d.code, 78);
  });

  it('a store never migrated: schema version 0, hint popgate store migrate', () => {
    const d = doctor(pg.url());
    has(d.lines, /^error: store .*: schema version 0, this popgate needs \d+; hint: popgate store migrate --store /);
    assert.equal(d.code, 78);
  });

  it('reader rights: none, then exactly SELECT, then too much, then too little', () => {
    assert.equal(cli(['store', 'migrate', '--store', pg.url(), '--config', '/dev/null']).code, 0);
    let d = doctor(pg.url());
    has(d.lines, /^ok: store .*: connected, schema version \d+$/);
    has(d.lines, /^warning: store .*: no role but the owner may read the grants .*; hint: popgate store migrate --reader popgate_reader$/);
    assert.equal(cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']).code, 0);
    d = doctor(pg.url());
    has(d.lines, /^ok: store .* role popgate_reader: reads popgate_grants, .*writes nothing$/);
    assert.ok(!d.lines.some((l) => /^(error|warning)/.test(l)), d.lines.join('\n'));
    pg.sql('GRANT INSERT ON popgate_grants TO popgate_reader');
    has(doctor(pg.url()).lines, /^warning: store .* role popgate_reader: may also write popgate_grants; a reader needs SELECT only; hint: REVOKE /);
    pg.sql('REVOKE INSERT ON popgate_grants FROM popgate_reader; REVOKE SELECT ON popgate_brake FROM popgate_reader');
    d = doctor(pg.url());
    has(d.lines, /^error: store .* role popgate_reader: cannot read popgate_brake; hint: popgate store migrate --reader popgate_reader$/);
    assert.equal(d.code, 78);
    // Connected as the reader itself (a reader MTA's popgate): the same finding.
    has(doctor(pg.url('popgate_reader')).lines, /^error: store postgresql:\/\/popgate_reader@.* role popgate_reader: cannot read popgate_brake/);
    assert.equal(cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']).code, 0);
  });

  it('the shared brake is an error until released', () => {
    assert.equal(cli(['store', 'brake', '--store', pg.url(), '--reason', 'doctor test', '--config', '/dev/null']).code, 0);
    has(doctor(pg.url()).lines, /^error: store .* emergency brake: on since .* \(doctor test\): no host grants; hint: popgate store release$/);
    assert.equal(cli(['store', 'release', '--store', pg.url(), '--config', '/dev/null']).code, 0);
    assert.ok(!doctor(pg.url()).lines.some((l) => /emergency brake/.test(l)));
  });
});
