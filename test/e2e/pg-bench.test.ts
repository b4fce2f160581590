// Numbers for README "Several hosts": RCPT round trips through a real Postfix per reader mode
// (p50/p99), raw lookups per second of the reader's view and of the pgsql: query, and the time
// from a login line in host A's log to relay accepted on host B's MTA. Prints "# bench:" lines;
// asserts only that every answer was the right one.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { connectPg, drop } from '../../src/multihost/pg-connect.js';
import { pgsqlQuery } from '../../src/multihost/pgsql-map.js';
import { SharedView } from '../../src/multihost/shared-view.js';
import { cli, type DaemonHandle, isAccepted, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';
import { type Cluster, pgSkip, startCluster } from './pg-helpers.js';
import { type Mode, type Mta, startMta } from './pg-postfix.js';

const skip = pgSkip();
let pg: Cluster;
let mta: Mta;
let logA: string;
let writerA: DaemonHandle;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const report = (what: string, xs: number[]) => process.stderr.write(`# bench: ${what}: p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms (n=${xs.length})\n`);

before(async () => {
  if (skip) return;
  pg = await startCluster();
  assert.equal(cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']).code, 0);
  const pw = join(pg.dir, 'reader-password');
  writeFileSync(pw, pg.readerPassword, { mode: 0o600 });
  mta = await startMta('pg-bench', cli(['pgsql-map', '--store', pg.url('popgate_reader'), '--password-file', pw, '--config', '/dev/null']).stdout);
  const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-bench-'));
  logA = join(dir, 'a.log');
  writeFileSync(logA, '');
  writeFileSync(join(dir, 'b.log'), '');
  writerA = await startDaemon({ store: pg.url(), log: logA, map: 'none', db: join(dir, 'a.sqlite') }, dir);
  await startDaemon(
    {
      store: pg.url(),
      log: join(dir, 'b.log'),
      db: join(dir, 'b.sqlite'),
      map: `hash:${mta.map}`,
      policy: `inet:127.0.0.1:${mta.policy}`,
      socketmap: `inet:127.0.0.1:${mta.socketmap}`,
      log_level: 'info',
    },
    dir,
  );
});

suiteNeeding('multi-host bench', skip, () => {
  it("login in A's log → relay accepted on B's MTA (policy service)", async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const src = loopbackAddress();
      const t0 = performance.now();
      appendFileSync(logA, `${new Date().toISOString().replace('Z', '+00:00')} vm dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=${src}, lip=127.0.0.1, mpid=1\n`);
      await waitFor('relay on B', async () => isAccepted(await smtpRcpt(src, mta.port.policy)), 5000, 5);
      times.push(performance.now() - t0);
    }
    report('login on A → 250 on B (includes one SMTP session per 5 ms poll)', times);
    assert.ok(writerA.output().includes('grant'));
  });

  it('RCPT round trip through Postfix, per reader mode', async () => {
    const src = loopbackAddress();
    assert.equal(cli(['store', 'grant', src, '--for', '1h', '--config', writerA.config]).code, 0);
    await waitFor('the map', async () => isAccepted(await smtpRcpt(src, mta.port.map)), 5000, 50);
    for (const mode of ['policy', 'socketmap', 'pgsql', 'map'] as Mode[]) {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const r = await smtpRcpt(src, mta.port[mode]);
        times.push(performance.now() - t0);
        assert.ok(isAccepted(r), `${mode}: ${r}`);
      }
      report(`SMTP session to RCPT 250, ${mode}`, times);
    }
  });

  it('raw lookups: the reader view in memory, and the pgsql: query on one connection', async () => {
    pg.sql(`INSERT INTO popgate_grants (ip, writer, expires_at, granted_at)
            SELECT '10.' || (i >> 8 & 255) || '.' || (i & 255) || '.1', 'bench', now() + interval '1 hour', now() FROM generate_series(0, 9999) AS i`);
    const view = new SharedView({ url: pg.url('popgate_reader'), logger: memoryLogger().logger });
    assert.ok(await view.start());
    const n = 1_000_000;
    let found = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) if (view.lookup(`10.${(i >> 8) & 39}.${i & 255}.1`, 0).kind === 'found') found++;
    const secs = (performance.now() - t0) / 1000;
    await view.stop();
    assert.ok(found > 0);
    process.stderr.write(`# bench: reader view lookups (10k grants in memory): ${Math.round(n / secs).toLocaleString('en')}/s\n`);
    const c = await connectPg(pg.url('popgate_reader'), { connectMs: 2000, queryMs: 2000 }, 'bench');
    const sql = pgsqlQuery('OK').replace("'%s'", '$1');
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await c.query(sql, [`10.0.${i & 255}.1`]);
      times.push(performance.now() - t);
    }
    drop(c);
    report('pgsql: query (10k grants, one connection)', times);
  });
});
