// The plain verbs follow `store =`: with store = postgresql://… in the config, popgate list,
// grant, revoke, flush, brake and release act on the shared store (no SQLite database needed),
// as popgate store … does; every change is seen in PostgreSQL itself.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { type Cluster, pgSkip, startCluster } from '../e2e/pg-helpers.js';
import { cli, suiteNeeding } from '../helpers/e2e.js';

const skip = pgSkip();
let pg: Cluster;
let cf: string;

/** `popgate VERB …` on the config whose store is the cluster. */
const run = (...args: string[]) => cli([...args, '--config', cf]);
const active = () => pg.sql('SELECT ip FROM popgate_active ORDER BY ip').split('\n').filter(Boolean);

before(async () => {
  if (skip) return;
  pg = await startCluster();
  const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-verbs-'));
  cf = join(dir, 'popgate.cf');
  // The db does not exist: the verbs must not need (or create) the local SQLite database.
  writeFileSync(cf, `store = ${pg.url()}\ndb = ${join(dir, 'absent.sqlite')}\nmap = none\nlog = ${join(dir, 'mail.log')}\n`);
  const m = cli(['store', 'migrate', '--config', cf]);
  assert.equal(m.code, 0, m.stderr);
});

suiteNeeding('list, grant, revoke, flush, brake, release on the shared store', skip, () => {
  it('grant, list and revoke act on PostgreSQL', () => {
    const g = run('grant', '192.0.2.10', '--for', '10m');
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /on every host/);
    assert.deepEqual(active(), ['192.0.2.10']);
    const secs = Number(pg.sql(`SELECT round(extract(epoch FROM expires_at - now())) FROM popgate_active WHERE ip = '192.0.2.10'`));
    assert.ok(secs > 590 && secs <= 600, `10 minutes by the database's clock: ${secs}`);
    const l = run('list', '--json');
    assert.equal(l.code, 0, l.stderr);
    assert.deepEqual(
      (JSON.parse(l.stdout) as { ip: string }[]).map((x) => x.ip),
      ['192.0.2.10'],
    );
    const r = run('revoke', '192.0.2.10');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revoked 192\.0\.2\.10/);
    assert.deepEqual(active(), []);
    assert.match(run('list').stdout, /no active grants/);
  });

  it('flush ends every shared grant', () => {
    for (const ip of ['192.0.2.11', '192.0.2.12']) assert.equal(run('grant', ip).code, 0);
    assert.equal(active().length, 2);
    const f = run('flush');
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /flushed 2 grant/);
    assert.deepEqual(active(), []);
  });

  it('brake holds in the shared store until release; brake --status reads it', () => {
    assert.equal(run('grant', '192.0.2.13').code, 0);
    const b = run('brake', '--reason', 'test brake');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(pg.sql('SELECT reason FROM popgate_brake'), 'test brake');
    assert.deepEqual(active(), []);
    const s = run('brake', '--status');
    assert.equal(s.code, 1);
    assert.match(s.stdout, /emergency brake ON .*test brake/);
    const refused = run('grant', '192.0.2.14');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /brake/);
    assert.deepEqual(active(), []);
    const r = run('release');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pg.sql('SELECT count(*) FROM popgate_brake'), '0');
    assert.equal(run('brake', '--status').code, 0);
    assert.equal(run('grant', '192.0.2.14').code, 0);
    assert.deepEqual(active(), ['192.0.2.14']);
  });

  it('popgate run --store takes the URL from the flag (an unreachable store is named in the error)', () => {
    const r = cli([
      'run',
      '--store',
      'postgresql://popgate_writer@127.0.0.1:1/popgate',
      '--config',
      '/dev/null',
      '--log',
      '/dev/null',
      '--map',
      'none',
      '--db',
      join(tmpdir(), `popgate-run-store-${process.pid}.sqlite`),
    ]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /shared store postgresql:\/\/popgate_writer@127\.0\.0\.1:1\/popgate: .*cannot connect/);
  });
});
