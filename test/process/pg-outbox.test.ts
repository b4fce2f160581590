// Writers against a real PostgreSQL: each grant change goes into the local outbox in its own
// transaction and reaches the shared store in order, once, with expiry on the database's clock;
// an outage, a restart with rows pending, two writers at once, a revoke racing a delayed login.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { applyBrake, releaseBrake } from '../../src/grants/brake.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { Outbox } from '../../src/multihost/outbox.js';
import { applyRows } from '../../src/multihost/pg-apply.js';
import { connectPg, drop, inTransaction } from '../../src/multihost/pg-connect.js';
import { type Cluster, pgSkip, startCluster } from '../e2e/pg-helpers.js';
import { suiteNeeding } from '../helpers/e2e.js';
import { delivered, startWriter, type Writer } from '../helpers/pg-writer.js';
import { waitFor } from '../helpers/wait.js';

const MIN = 60_000;
const FAST = { connectMs: 1000, queryMs: 1000 };
const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-outbox-'));
let pg: Cluster;

const writer = (path?: string): Writer => startWriter(pg.url(), dir, { path });

const login = (w: Writer, ip: string, session: string | null = null, at = Date.now()) =>
  w.store.transaction(() => w.store.login({ ip, user: 'alice', server: 'dovecot', protocol: 'imap', at, session, origin: 'test' }, 30 * MIN, 120 * MIN));

/** Seconds left of `ip`'s grant by the database's clock, '' when not granted. */
const left = (ip: string) => pg.sql(`SELECT round(extract(epoch FROM expires_at - now())) FROM popgate_active WHERE ip = '${ip}'`);

before(async () => {
  if (!pgSkip()) pg = await startCluster();
});

suiteNeeding('writers deliver their outbox to PostgreSQL', pgSkip(), () => {
  it('a login reaches the store with its time left measured on the database clock; the SQLite-only setup queues nothing', async () => {
    const solo = new SqliteStore(join(dir, 'solo.sqlite'));
    solo.login({ ip: '192.0.2.9', user: null, server: 'x', protocol: null, at: Date.now(), session: null, origin: 't' }, MIN, MIN);
    const soloBox = new Outbox(solo.path);
    assert.equal(soloBox.size(), 0, 'no outbox rows without store = postgresql');
    soloBox.close();
    solo.close();
    const w = writer();
    login(w, '192.0.2.10');
    await delivered(w);
    assert.equal(left('192.0.2.10'), '1800', 'grace measured from the login, on the database clock');
    // A login already past its grace when delivered grants nothing.
    login(w, '192.0.2.11', null, Date.now() - 31 * MIN);
    await delivered(w);
    assert.equal(left('192.0.2.11'), '');
    await w.close();
  });

  it('PostgreSQL stopped during writes: changes wait in the outbox and arrive in order once it is back', async () => {
    const w = writer();
    pg.down();
    try {
      login(w, '192.0.2.20');
      login(w, '192.0.2.21');
      w.store.transaction(() => w.store.revoke('192.0.2.20', Date.now(), 'cli:test'));
      login(w, '192.0.2.22', 'imap:S1');
      w.store.transaction(() => w.store.logout('imap:S1', Date.now(), 10 * MIN));
      await waitFor('a failed delivery', () => w.deliverer.lastError !== null, 5000);
      assert.equal(w.outbox.size(), 5, 'every change kept');
    } finally {
      pg.up();
    }
    await delivered(w);
    assert.equal(left('192.0.2.20'), '', 'the revoke after the login holds');
    assert.equal(left('192.0.2.21'), '1800');
    assert.equal(left('192.0.2.22'), '1800', 'the logout ended the session hold (7200 s): the grace of the login is left');
    assert.match(w.messages.join('\n'), /delivery failed, \d+ change\(s\) kept in the outbox/);
    assert.match(w.messages.join('\n'), /reachable again/);
    await w.close();
  });

  it('a writer restarted with a pending outbox delivers it; a batch delivered twice counts once', async () => {
    const path = join(dir, 'restart.sqlite');
    let w = writer(path);
    pg.down();
    try {
      login(w, '192.0.2.30');
      await w.close(); // the daemon stops with the row undelivered
    } finally {
      pg.up();
    }
    const box = new Outbox(path);
    const rows = box.pending(10);
    assert.equal(rows.length, 1);
    box.close();
    w = writer(path);
    await delivered(w);
    assert.equal(left('192.0.2.30'), '1800');
    // The same rows again (a crash between the commit and the local delete): skipped.
    const client = await connectPg(pg.url(), FAST, 'test');
    const again = await inTransaction(client, () => applyRows(client, w.name, rows, Date.now()));
    drop(client);
    assert.equal(again.applied, 0);
    assert.equal(pg.sql(`SELECT count(*) FROM popgate_grants WHERE ip = '192.0.2.30'`), '1');
    await w.close();
  });

  it('two writers granting the same address at once: one address granted, a revoke on one ends both', async () => {
    const [a, b] = [writer(), writer()];
    const ip = '192.0.2.40';
    await Promise.all(
      [a, b].map(async (w) => {
        for (let i = 0; i < 50; i++) {
          login(w, ip);
          await new Promise((r) => setImmediate(r));
        }
      }),
    );
    await Promise.all([delivered(a), delivered(b)]);
    assert.equal(pg.sql(`SELECT count(*) FROM popgate_grants WHERE ip = '${ip}'`), '2', 'one row per writer');
    assert.equal(pg.sql(`SELECT count(*) FROM popgate_active WHERE ip = '${ip}'`), '1');
    b.store.transaction(() => b.store.revoke(ip, Date.now(), 'cli:test'));
    await delivered(b);
    assert.equal(left(ip), '', 'revoked for every writer');
    await Promise.all([a.close(), b.close()]);
  });

  it('after a revoke elsewhere, a logout or a delayed older login does not grant again; a new login does', async () => {
    const [a, b] = [writer(), writer()];
    const ip = '192.0.2.50';
    login(a, ip, 'imap:S2');
    await delivered(a);
    const delayed = Date.now();
    // b learns of the grant only through the shared store: its revoke goes there directly.
    b.store.transaction(() => b.store.grantManual(ip, Date.now() + MIN, Date.now(), 'cli:test'));
    b.store.transaction(() => b.store.revoke(ip, Date.now(), 'cli:test'));
    await delivered(b);
    assert.equal(left(ip), '');
    a.store.transaction(() => a.store.logout('imap:S2', Date.now(), 30 * MIN)); // the session's end
    login(a, ip, null, delayed - 1); // a line read late, from before the revoke
    await delivered(a);
    assert.equal(left(ip), '', 'the revoke holds');
    login(a, ip);
    await delivered(a);
    assert.equal(left(ip), '1800', 'a new login grants again');
    await Promise.all([a.close(), b.close()]);
  });

  it('the brake from one writer empties the shared grants and blocks logins until its release', async () => {
    const [a, b] = [writer(), writer()];
    login(a, '192.0.2.60');
    await delivered(a);
    applyBrake(b.store, Date.now(), 'cli:test', 'test');
    await delivered(b);
    assert.equal(pg.sql('SELECT count(*) FROM popgate_active'), '0');
    assert.match(pg.sql('SELECT by FROM popgate_brake'), /cli:test on /);
    login(a, '192.0.2.61');
    await delivered(a);
    assert.equal(left('192.0.2.61'), '', 'no grant while the brake is on');
    releaseBrake(b.store, Date.now(), 'cli:test');
    await delivered(b);
    login(a, '192.0.2.62');
    await delivered(a);
    assert.equal(left('192.0.2.62'), '1800');
    await Promise.all([a.close(), b.close()]);
  });
});
