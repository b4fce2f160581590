// What the shared store deletes, and that deleting it is safe: a revocation keeps blocking a
// delayed older login for as long as such a login can still arrive (login_max_age), is deleted
// after, and a login older than that never grants; history rows older than audit_keep go, a
// bounded batch per pass, by the writer's deliverer between deliveries.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Client } from 'pg';
import type { OutboxRow } from '../../src/multihost/outbox.js';
import { applyRows } from '../../src/multihost/pg-apply.js';
import { connectPg, drop, inTransaction } from '../../src/multihost/pg-connect.js';
import { pruneShared } from '../../src/multihost/pg-retention.js';
import { migratePg } from '../../src/multihost/pg-schema.js';
import { type Cluster, pgSkip, startCluster } from '../e2e/pg-helpers.js';
import { suiteNeeding } from '../helpers/e2e.js';
import { delivered, startWriter } from '../helpers/pg-writer.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const HOUR = 3600_000;
const skip = pgSkip();
let pg: Cluster;
let c: Client;
let seq = 0;

/** One outbox row of writer 'w1', `ago` ms before now (the writer's clock). */
function row(kind: OutboxRow['kind'], ip: string | null, ago: number, expiresIn: number | null = null): OutboxRow {
  const now = Date.now();
  return {
    seq: ++seq,
    kind,
    ip,
    at: now - ago,
    expires_at: expiresIn === null ? null : now + expiresIn,
    user: 'alice',
    server: 'dovecot',
    protocol: 'imap',
    detail: kind === 'revoke' ? 'cli:test' : null,
  };
}
const apply = (...rows: OutboxRow[]) => inTransaction(c, () => applyRows(c, 'w1', rows, Date.now()));
const granted = (ip: string) => pg.sql(`SELECT count(*) FROM popgate_active WHERE ip = '${ip}'`) === '1';
const revocations = (ip: string) => Number(pg.sql(`SELECT count(*) FROM popgate_revocations WHERE ip = '${ip}'`));
const lastRefusal = (ip: string) => pg.sql(`SELECT detail FROM popgate_history WHERE ip = '${ip}' AND action = 'refuse' ORDER BY id DESC LIMIT 1`);

before(async () => {
  if (skip) return;
  pg = await startCluster();
  c = await connectPg(pg.url(), { connectMs: 2000, queryMs: 2000 }, 'test');
  await migratePg(c, pg.url());
});
after(() => drop(c));

suiteNeeding('pruning the shared store', skip, () => {
  it('a revocation blocks a delayed older login while one can arrive; deleted after, such a login still does not grant', async () => {
    assert.equal(pg.sql(`SELECT value FROM popgate_meta WHERE key = 'login_max_age'`), '7 days');
    // A long IMAP session (a hold of 10 days): its login line reaches the store days late.
    await apply(row('revoke', '192.0.2.1', 6 * DAY));
    await apply(row('login', '192.0.2.1', 6.5 * DAY, HOUR));
    assert.equal(granted('192.0.2.1'), false, 'revoked after the login');
    assert.match(lastRefusal('192.0.2.1'), /^revoked after this login/);
    assert.deepEqual(await pruneShared(c, 0), { history: 0, revocations: 0 }, 'a revocation younger than login_max_age and a day stays');
    await apply(row('login', '192.0.2.1', 6.6 * DAY, HOUR));
    assert.equal(granted('192.0.2.1'), false, 'still blocks after a pruning pass');
    await apply(row('login', '192.0.2.1', 5 * DAY, HOUR));
    assert.equal(granted('192.0.2.1'), true, 'a login after the revoke grants');

    // Older than login_max_age and the day: deleted, a flush ('*') too.
    await apply(row('revoke', '192.0.2.2', 8.5 * DAY), row('flush', null, 9 * DAY), row('revoke', '192.0.2.3', 7.5 * DAY));
    assert.equal(revocations('192.0.2.2') + revocations('*') + revocations('192.0.2.3'), 3);
    const p = await pruneShared(c, 0);
    assert.equal(p.revocations, 2);
    assert.equal(revocations('192.0.2.2'), 0);
    assert.equal(revocations('*'), 0);
    assert.equal(revocations('192.0.2.3'), 1, 'not yet: login_max_age and a day');
    // The login it would have blocked is older than login_max_age: refused without it.
    await apply(row('login', '192.0.2.2', 8.6 * DAY, HOUR));
    assert.equal(granted('192.0.2.2'), false, 'a deleted revocation lets no older login through');
    assert.match(lastRefusal('192.0.2.2'), /^older than login_max_age/);
    // Within login_max_age, after the deleted revocation: granted as before.
    await apply(row('login', '192.0.2.2', 6.9 * DAY, HOUR));
    assert.equal(granted('192.0.2.2'), true);
  });

  it('a login already expired on its way is neither granted nor in the history; without login_max_age nothing grants', async () => {
    await apply(row('login', '192.0.2.5', HOUR, -1));
    assert.equal(granted('192.0.2.5'), false);
    assert.equal(pg.sql(`SELECT count(*) FROM popgate_history WHERE ip = '192.0.2.5'`), '0');
    // A hand-edited store: failing closed, and revocations are no longer deleted.
    pg.sql(`DELETE FROM popgate_meta WHERE key = 'login_max_age'`);
    try {
      await apply(row('login', '192.0.2.6', 0, HOUR), row('revoke', '192.0.2.7', 30 * DAY));
      assert.equal(granted('192.0.2.6'), false);
      assert.equal((await pruneShared(c, 0)).revocations, 0);
    } finally {
      pg.sql(`INSERT INTO popgate_meta (key, value) VALUES ('login_max_age', '7 days')`);
    }
  });

  it('history rows older than audit_keep go, at most a batch per pass; audit_keep forever keeps them', async () => {
    pg.sql('DELETE FROM popgate_history');
    await apply(row('revoke', '198.51.100.1', 100 * DAY), row('revoke', '198.51.100.2', 95 * DAY), row('revoke', '198.51.100.3', 91 * DAY), row('revoke', '198.51.100.4', 10 * DAY));
    assert.equal(pg.sql('SELECT count(*) FROM popgate_history'), '4');
    assert.equal((await pruneShared(c, 0)).history, 0, 'forever');
    assert.equal((await pruneShared(c, 90 * DAY, 2)).history, 2, 'a bounded pass');
    assert.equal((await pruneShared(c, 90 * DAY, 2)).history, 1);
    assert.equal((await pruneShared(c, 90 * DAY, 2)).history, 0);
    assert.equal(pg.sql('SELECT ip FROM popgate_history'), '198.51.100.4');
  });

  it("a writer's deliverer prunes between deliveries, in passes until nothing is left", async () => {
    pg.sql('DELETE FROM popgate_history; DELETE FROM popgate_revocations');
    pg.sql(`INSERT INTO popgate_history (at, writer, action, ip) SELECT now() - interval '40 days', 'old', 'grant', '203.0.113.' || (i % 250) FROM generate_series(1, 2500) AS i`);
    pg.sql(`INSERT INTO popgate_revocations (ip, at, by) VALUES ('203.0.113.9', now() - interval '20 days', 'old')`);
    const w = startWriter(pg.url(), mkdtempSync(join(tmpdir(), 'popgate-pg-retention-')), { historyKeepMs: 30 * DAY, prune: { firstMs: 0, everyMs: 60_000 } });
    try {
      w.store.transaction(() => w.store.login({ ip: '203.0.113.200', user: 'bob', server: 'dovecot', protocol: 'pop3', at: Date.now(), session: null, origin: 't' }, 30 * 60_000, HOUR));
      await delivered(w);
      await waitFor('the old rows pruned', () => w.deliverer.pruned.history === 2500, 10_000);
      assert.equal(pg.sql(`SELECT count(*) FROM popgate_history WHERE writer = 'old'`), '0');
      assert.equal(pg.sql(`SELECT action || ' ' || ip FROM popgate_history`), 'grant 203.0.113.200', "the writer's own new row stays");
      assert.equal(w.deliverer.pruned.revocations, 1);
      assert.equal(revocations('203.0.113.9'), 0);
    } finally {
      await w.close();
    }
  });
});
