// popgate history with store = postgresql://…: every host's grants, renewals, refusals by the
// shared store (a revoke, the brake), revokes, flushes, the brake and its release, each naming
// its writer, with the SQLite history's filters and JSON shape; --local reads this host's own.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { type Cluster, pgSkip, startCluster } from '../e2e/pg-helpers.js';
import { cli, suiteNeeding } from '../helpers/e2e.js';
import { delivered, startWriter, type Writer } from '../helpers/pg-writer.js';

const MIN = 60_000;
const skip = pgSkip();
const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-history-'));
let pg: Cluster;
let cf: string;

interface Row {
  time: string;
  action: string;
  ip: string | null;
  user: string | null;
  server: string | null;
  protocol: string | null;
  origin: string | null;
  detail: string | null;
  writer: string;
}

const run = (...args: string[]) => cli([...args, '--config', cf]);
function history(...args: string[]): Row[] {
  const r = run('history', '--json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
}

const login = (w: Writer, ip: string, user: string, at = Date.now()) =>
  w.store.transaction(() => w.store.login({ ip, user, server: 'dovecot', protocol: 'imap', at, session: null, origin: 'mail.log:1' }, 30 * MIN, 120 * MIN));

before(async () => {
  if (skip) return;
  pg = await startCluster();
  cf = join(dir, 'popgate.cf');
  writeFileSync(cf, `store = ${pg.url()}\ndb = ${join(dir, 'absent.sqlite')}\nmap = none\nlog = ${join(dir, 'mail.log')}\n`);
  const m = cli(['store', 'migrate', '--config', cf, '--reader', 'popgate_reader']);
  assert.equal(m.code, 0, m.stderr);
});

suiteNeeding('popgate history from the shared store', skip, () => {
  it("shows every writer's grants, renewals, revokes and refusals, and the actions by hand, each with its writer", async () => {
    const [a, b] = [startWriter(pg.url(), dir), startWriter(pg.url(), dir)];
    const before = Date.now();
    login(a, '192.0.2.10', 'alice');
    await delivered(a);
    login(b, '192.0.2.10', 'alice'); // another host, the address already granted: a renewal
    await delivered(b);
    b.store.transaction(() => b.store.revoke('192.0.2.10', Date.now(), 'cli:bob'));
    await delivered(b);
    login(a, '192.0.2.10', 'alice', before); // a line A read late, from before B's revoke
    await delivered(a);
    assert.equal(pg.sql(`SELECT count(*) FROM popgate_active WHERE ip = '192.0.2.10'`), '0');

    const rows = history('192.0.2.10');
    assert.deepEqual(
      rows.map((r) => [r.action, r.writer]),
      [
        ['grant', a.name],
        ['renew', b.name],
        ['revoke', b.name],
        ['refuse', a.name],
      ],
    );
    assert.deepEqual(Object.keys(rows[0]!), ['time', 'action', 'ip', 'user', 'server', 'protocol', 'origin', 'detail', 'writer'], 'the SQLite JSON shape, and the writer');
    assert.equal(rows[0]!.user, 'alice');
    assert.equal(rows[0]!.server, 'dovecot');
    assert.equal(rows[0]!.protocol, 'imap');
    assert.equal(rows[2]!.detail, 'cli:bob');
    assert.match(rows[3]!.detail!, /^revoked after this login \(.*cli:bob\)$/);
    assert.ok(Math.abs(Date.parse(rows[0]!.time) - before) < 5000, `the login's time, on the database's clock: ${rows[0]!.time}`);
    assert.ok(Date.parse(rows[3]!.time) < Date.parse(rows[2]!.time), 'the late line keeps its own time');

    // By hand from this host: the writer is the host, the detail who did it.
    assert.equal(run('grant', '192.0.2.11').code, 0);
    assert.equal(run('flush').code, 0);
    assert.equal(run('brake', '--reason', 'history test').code, 0);
    login(a, '192.0.2.12', 'carol');
    await delivered(a);
    assert.equal(run('release').code, 0);
    const tail = history('--limit', '5');
    assert.deepEqual(
      tail.map((r) => [r.action, r.ip, r.writer]),
      [
        ['grant', '192.0.2.11', hostname()],
        ['flush', null, hostname()],
        ['brake', null, hostname()],
        ['refuse', '192.0.2.12', a.name],
        ['release', null, hostname()],
      ],
    );
    assert.match(tail[1]!.detail!, /^cli:\S+: 1 grants$/);
    assert.match(tail[2]!.detail!, /^brake \(cli:\S+\): history test: 0 grants$/);
    assert.equal(tail[3]!.detail, 'emergency brake on in the shared store');
    assert.match(tail[4]!.detail!, /^cli:\S+: brake applied .* by cli:\S+: history test$/);

    // The filters of the SQLite history.
    assert.deepEqual(
      history('--user', 'carol').map((r) => r.ip),
      ['192.0.2.12'],
    );
    assert.equal(history('--since', '1h').length, 9);
    assert.equal(history('--since', new Date(Date.now() + 3600_000).toISOString()).length, 0);
    const text = run('history', '192.0.2.10');
    assert.equal(text.code, 0, text.stderr);
    const line = text.stdout.split('\n')[0]!.split(/\s+/);
    assert.deepEqual(line.slice(1), ['grant', '192.0.2.10', 'alice', 'dovecot/imap', 'on', a.name], text.stdout);
    assert.match(run('history', '198.51.100.1').stdout, /^no audit entries match$/m);

    // --local: this host's own SQLite trail (A's login lines are there, B's revoke is not).
    const local = cli(['history', '--json', '--local', '--config', cf, '--db', a.store.path]);
    assert.equal(local.code, 0, local.stderr);
    const own = local.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row);
    assert.ok(own.length > 0 && own.every((r) => r.writer === undefined && r.action !== 'revoke'));
    assert.equal(own[0]!.origin, 'mail.log:1');
    await Promise.all([a.close(), b.close()]);
  });

  it("the readers' role may not read it: a clear error, not a crash", () => {
    const rcf = join(dir, 'reader.cf');
    writeFileSync(rcf, `store = ${pg.url('popgate_reader')}\ndb = ${join(dir, 'absent.sqlite')}\nmap = none\nlog = ${join(dir, 'mail.log')}\n`);
    const r = cli(['history', '--config', rcf]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /may not read the shared history \(popgate_history\); hint: .*--local/);
    assert.equal(cli(['list', '--config', rcf]).code, 0, 'the reader still reads the grants');
  });
});
