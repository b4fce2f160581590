// The daemon refuses to start, with the fix and the documented exit code, when Postfix cannot take the map.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { CLI, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const hasPostfix = spawnSync('postconf', ['-h', 'mail_version']).status === 0;
const skip = hasPostfix ? false : 'needs Postfix (postconf): apt-get install postfix';
if (!hasPostfix && process.env.POPGATE_E2E === 'required') throw new Error('POPGATE_E2E=required but postconf is missing');
const dir = mkdtempSync(join(tmpdir(), 'popgate-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(settings: string): { code: number | null; err: string } {
  const cfg = join(dir, `${Math.random().toString(36).slice(2)}.cf`);
  writeFileSync(join(dir, 'empty.log'), '');
  writeFileSync(cfg, `log = ${join(dir, 'empty.log')}\ndb = ${join(dir, 'db.sqlite')}\n${settings}\n`);
  const r = spawnSync(process.execPath, [CLI, 'run', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, err: r.stderr };
}

suiteNeeding('start-up checks', skip, () => {
  it('exits 69 with the fix when postmap is missing', () => {
    const r = run(`map = hash:${join(dir, 'map')}\npostmap_command = /nonexistent/postmap`);
    assert.equal(r.code, 69, r.err);
    assert.match(r.err, /postmap not found: is Postfix installed\?; hint: apt-get install postfix/);
  });

  it('exits 69 when this Postfix lacks the map type', () => {
    const types = spawnSync('postconf', ['-m'], { encoding: 'utf8' }).stdout.split(/\s+/);
    const missing = ['lmdb', 'cdb', 'btree'].find((t) => !types.includes(t));
    if (!missing) return; // every type is installed here: nothing to refuse
    const r = run(`map = ${missing}:${join(dir, 'map')}`);
    assert.equal(r.code, 69, r.err);
    assert.match(r.err, new RegExp(`does not support ${missing} maps`));
  });

  it('exits 78 for a map type popgate cannot build, naming file, line and key', () => {
    const r = run('map = regexp:/etc/postfix/popgate');
    assert.equal(r.code, 78, r.err);
    assert.match(r.err, /:3: map: popgate cannot build regexp maps/);
  });

  it('without a daemon, grant rebuilds the map itself', () => {
    const map = join(dir, 'cli-map');
    writeFileSync(join(dir, 'g.cf'), `db = ${join(dir, 'cli.sqlite')}\nmap = hash:${map}\n`);
    new SqliteStore(join(dir, 'cli.sqlite')).close(); // as the daemon's first start leaves it
    const g = spawnSync(process.execPath, [CLI, 'grant', '198.51.100.77', '--config', join(dir, 'g.cf')], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stderr, /daemon is not running; hash:.* rebuilt now/);
    assert.equal(spawnSync('postmap', ['-q', '198.51.100.77', `hash:${map}`], { encoding: 'utf8' }).stdout.trim(), 'OK');
  });

  it('without a daemon, a revoke whose map cannot be rebuilt says so and exits 75', () => {
    const map = join(dir, 'fail-map');
    const db = join(dir, 'fail.sqlite');
    writeFileSync(join(dir, 'fail.cf'), `db = ${db}\nmap = hash:${map}\npostmap_command = /bin/false\n`);
    new SqliteStore(db).close();
    for (const args of [['revoke', '198.51.100.79'], ['flush'], ['brake']]) {
      const r = spawnSync(process.execPath, [CLI, ...args, '--config', join(dir, 'fail.cf')], { encoding: 'utf8' });
      assert.equal(r.status, 75, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /the change is stored, but the daemon is not running and the map could not be rebuilt: Postfix still uses the old one/);
    }
  });

  it('builds the map from the database at start', async () => {
    const map = join(dir, 'start-map');
    const db = join(dir, 'start.sqlite');
    writeFileSync(join(dir, 'nomap.cf'), `db = ${db}\nmap = none\n`);
    new SqliteStore(db).close();
    const g = spawnSync(process.execPath, [CLI, 'grant', '198.51.100.78', '--config', join(dir, 'nomap.cf')], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    assert.notEqual(spawnSync('postmap', ['-q', '198.51.100.78', `hash:${map}`]).status, 0, 'no map yet');
    const d = await startDaemon({ db, map: `hash:${map}`, log: join(dir, 'empty.log') }, dir);
    try {
      assert.equal(spawnSync('postmap', ['-q', '198.51.100.78', `hash:${map}`], { encoding: 'utf8' }).stdout.trim(), 'OK');
    } finally {
      await d.stop();
    }
  });

  it('first start reads the backlog and grants only logins younger than the grace, by their timestamps', async () => {
    const log = join(dir, 'backlog.log');
    const stamp = (ago: number) => {
      const d = new Date(Date.now() - ago);
      const mon = d.toLocaleString('en-US', { month: 'short' });
      return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${d.toTimeString().slice(0, 8)}`;
    };
    const login = (ago: number, ip: string, s: string) => `${stamp(ago)} pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=${ip}, lip=127.0.0.1, mpid=1, session=<${s}>`;
    writeFileSync(log, [login(3_600_000, '198.51.100.10', 'old'), login(60_000, '198.51.100.11', 'new')].join('\n') + '\n');
    const map = join(dir, 'backlog-map');
    const d = await startDaemon({ db: join(dir, 'backlog.sqlite'), map: `hash:${map}`, log, grace: '30m' }, dir);
    try {
      await waitFor('recent login granted', () => spawnSync('postmap', ['-q', '198.51.100.11', `hash:${map}`], { encoding: 'utf8' }).stdout.trim() === 'OK', 3000);
      assert.notEqual(spawnSync('postmap', ['-q', '198.51.100.10', `hash:${map}`]).status, 0, 'an hour-old login grants nothing');
    } finally {
      assert.equal(await d.stop(), 0, 'SIGTERM stops cleanly');
    }
  });
});
