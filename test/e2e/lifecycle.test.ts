// Never relay from stale state: a stop, a crash, a second daemon, a shorter grace on reload, and
// read verbs that must not create state — each against the real Postfix, and never a 250 for an
// address popgate would refuse.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { CLI, cli, e2eSkip, isAccepted, isRelayDenied, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const skip = await e2eSkip();
const relayed = (src: string) => smtpRcpt(src, RIG.smtpMapPort, 'user@example.net');

/** Logs in over POP3 from a fresh loopback address and waits until Postfix relays for it. */
async function grantedSource(): Promise<string> {
  const src = loopbackAddress();
  assert.ok(isRelayDenied(await relayed(src)), 'relay is refused before the login');
  assert.ok(await pop3Login(src, RIG.user, RIG.pass));
  await waitFor('relay after the login', async () => isAccepted(await relayed(src)), 5000, 20);
  return src;
}

suiteNeeding('lifecycle against real Postfix and Dovecot', skip, () => {
  it('a clean stop withdraws the map; the next start publishes the grants again', async () => {
    const d = await startDaemon({});
    const src = await grantedSource();
    assert.equal(await d.stop(), 0);
    assert.equal(mapLookup(src), null, 'the map is empty after a stop');
    assert.ok(isRelayDenied(await relayed(src)), 'no relay while popgate is down');
    const again = await startDaemon({ db: d.db }, d.dir);
    await waitFor('the grant published again', () => mapLookup(src) === 'OK', 5000, 20);
    assert.ok(isAccepted(await relayed(src)));
    await again.stop();
  });

  it('after kill -9, list and doctor say what the map still holds; withdraw empties it, and refuses while a daemon runs', async () => {
    const d = await startDaemon({});
    const src = await grantedSource();
    const w = cli(['withdraw', '--config', d.config]);
    assert.equal(w.code, 75, 'withdraw refuses while the daemon runs');
    assert.match(w.stderr, new RegExp(`daemon is running \\(pid ${d.child.pid}\\)`));
    await d.stop('SIGKILL');
    cli(['revoke', src, '--config', d.config]); // rebuilds the map itself: no daemon runs
    assert.ok(isRelayDenied(await relayed(src)), 'revoke with no daemon still reaches the map');
    // A crash with a grant that has since expired in the database: the map still holds it.
    const src2 = loopbackAddress();
    const d2 = await startDaemon({ db: d.db }, d.dir);
    assert.ok(await pop3Login(src2, RIG.user, RIG.pass));
    await waitFor('second grant', () => mapLookup(src2) === 'OK', 5000, 20);
    await d2.stop('SIGKILL');
    // Its grant has since ended in the database (as expiry would have): the map does not know.
    const db = new Database(d.db);
    db.prepare('UPDATE grants SET expires_at = 1 WHERE ip = ?').run(src2);
    db.close();
    const list = cli(['list', '--config', d.config]);
    // (A new database also granted the rig log's recent backlog: the count is not 1.)
    assert.match(list.stderr, /popgate is not running and hash:.* still holds \d+ address\(es\), 1 of them no longer granted/);
    assert.ok(isAccepted(await relayed(src2)), 'this is the danger the notice names');
    const doc = cli(['doctor', '--config', d.config]);
    assert.match(doc.stdout + doc.stderr, /popgate daemon: not running/);
    assert.match(doc.stdout + doc.stderr, /error: hash:.*still holds \d+ address\(es\), 1 of them no longer granted/);
    const ok = cli(['withdraw', '--config', d.config]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(mapLookup(src2), null);
    assert.ok(isRelayDenied(await relayed(src2)), 'withdrawn: no relay');
  });

  it('a second daemon on the same database, or on the same map, exits 75 naming the first', async () => {
    const d = await startDaemon({});
    const second = join(d.dir, 'second.cf');
    writeFileSync(second, readFileSync(d.config, 'utf8'));
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', second], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 75, r.stderr);
    assert.match(r.stderr, new RegExp(`another popgate daemon uses this database \\(pid ${d.child.pid},`));
    const otherDb = join(d.dir, 'other.cf');
    writeFileSync(otherDb, readFileSync(d.config, 'utf8').replace(/^db = .*$/m, `db = ${join(d.dir, 'other.sqlite')}`));
    const m = spawnSync(process.execPath, [CLI, 'run', '--config', otherDb], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(m.status, 75, m.stderr);
    assert.match(m.stderr, /another popgate daemon uses this map/);
    const src = await grantedSource(); // the first one still works
    assert.equal(mapLookup(src), 'OK');
    // Nor may the CLI of the other database rebuild the map the first daemon publishes.
    new SqliteStore(join(d.dir, 'other.sqlite')).close();
    const r2 = cli(['revoke', '192.0.2.99', '--config', otherDb]);
    assert.equal(r2.code, 75, r2.stderr);
    assert.match(r2.stderr, new RegExp(`this map is published by another popgate daemon \\(pid ${d.child.pid}\\)`));
    assert.equal(mapLookup(src), 'OK', "the map still holds the first daemon's grants");
    await d.stop();
  });

  it('a shorter grace on SIGHUP ends the grants that are now past it', async () => {
    const d = await startDaemon({ grace: '30m' });
    const src = await grantedSource();
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace(/^grace = .*$/m, 'grace = 1s'));
    d.child.kill('SIGHUP');
    await waitFor('relay refused after the reload', async () => isRelayDenied(await relayed(src)), 5000, 50);
    assert.match(d.output(), /reload: grace 1800s → 1s/);
    assert.equal(mapLookup(src), null);
    await d.stop();
  });
});

suiteNeeding('read verbs create no state', skip, () => {
  it('list, brake --status and doctor on a database that does not exist: exit 66, nothing created', () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-typo-'));
    const db = join(dir, 'typo', 'x.sqlite');
    for (const args of [['list'], ['brake', '--status'], ['revoke', '192.0.2.1'], ['grant', '192.0.2.1']]) {
      const r = cli([...args, '--db', db]);
      assert.equal(r.code, 66, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /no grant database here; hint: check --db/);
    }
    assert.equal(existsSync(join(dir, 'typo')), false, 'no directory was created');
  });

  it('popgate config refuses a bad value with exit 78, as the daemon does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-cfg-'));
    writeFileSync(join(dir, 'p.cf'), 'grace = -5m\n');
    const r = cli(['config', '--config', join(dir, 'p.cf')]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /p\.cf:1: grace: "-5m" is not a duration/);
  });
});
