// The multi-host measurements, shared by test/e2e/pg-bench.test.ts and `npm run bench`
// (bench/multihost.ts): one PostgreSQL, writer A following its own log, host B's popgate serving
// its Postfix (policy, socketmap, map) and that Postfix also reading proxy:pgsql: directly.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectPg, drop } from '../../src/multihost/pg-connect.js';
import { pgsqlQuery } from '../../src/multihost/pgsql-map.js';
import { SharedView } from '../../src/multihost/shared-view.js';
import { cli, type DaemonHandle, isAccepted, startDaemon } from '../helpers/e2e.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';
import { type Cluster, startCluster } from './pg-helpers.js';
import { type Mode, type Mta, startMta } from './pg-postfix.js';

export const MODES: readonly Mode[] = ['policy', 'socketmap', 'pgsql', 'map'];

export interface Rig {
  pg: Cluster;
  mta: Mta;
  logA: string;
  writerA: DaemonHandle;
  readerB: DaemonHandle;
  dir: string;
}

export const pct = (xs: readonly number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function must(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function startRig(): Promise<Rig> {
  const pg = await startCluster();
  must(cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']), 'popgate store migrate');
  const pw = join(pg.dir, 'reader-password');
  writeFileSync(pw, pg.readerPassword, { mode: 0o600 });
  const mta = await startMta('pg-bench', must(cli(['pgsql-map', '--store', pg.url('popgate_reader'), '--password-file', pw, '--config', '/dev/null']), 'popgate pgsql-map'));
  const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-bench-'));
  const logA = join(dir, 'a.log');
  writeFileSync(logA, '');
  writeFileSync(join(dir, 'b.log'), '');
  const writerA = await startDaemon({ store: pg.url(), log: logA, map: 'none', db: join(dir, 'a.sqlite') }, dir);
  const readerB = await startDaemon(
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
  return { pg, mta, logA, writerA, readerB, dir };
}

/** Stops what startRig started (the bench runs outside node:test, whose after() would do it). */
export async function stopRig(r: Rig): Promise<void> {
  await r.writerA.stop('SIGKILL');
  await r.readerB.stop('SIGKILL');
  spawnSync('postfix', ['-c', join(r.mta.dir, 'etc'), 'stop']);
  rmSync(r.mta.dir, { recursive: true, force: true });
  spawnSync('bash', [new URL('../../../test/e2e/services/postgres.sh', import.meta.url).pathname, 'stop', r.pg.dir]);
  rmSync(r.dir, { recursive: true, force: true });
}

/** A login line in A's log → the first 250 on B's MTA (policy service), polled every 5 ms. */
export async function loginToRelay(r: Rig, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const src = loopbackAddress();
    const t0 = performance.now();
    appendFileSync(r.logA, `${new Date().toISOString().replace('Z', '+00:00')} vm dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=${src}, lip=127.0.0.1, mpid=1\n`);
    await waitFor('relay on B', async () => isAccepted(await smtpRcpt(src, r.mta.port.policy)), 5000, 5);
    times.push(performance.now() - t0);
  }
  return times;
}

/** SMTP sessions to RCPT 250 per reader mode, one after another; throws on any other answer. */
export async function rcptPerMode(r: Rig, n: number): Promise<Record<Mode, { times: number[]; perSec: number }>> {
  const src = loopbackAddress();
  must(cli(['store', 'grant', src, '--for', '1h', '--config', r.writerA.config]), 'popgate store grant');
  await waitFor('the map', async () => isAccepted(await smtpRcpt(src, r.mta.port.map)), 5000, 50);
  const out = {} as Record<Mode, { times: number[]; perSec: number }>;
  for (const mode of MODES) {
    const times: number[] = [];
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const reply = await smtpRcpt(src, r.mta.port[mode]);
      times.push(performance.now() - t0);
      if (!isAccepted(reply)) throw new Error(`${mode}: ${reply}`);
    }
    out[mode] = { times, perSec: Math.round(n / ((performance.now() - start) / 1000)) };
  }
  return out;
}

/** The reader's view in memory (10k grants) and the pgsql: query on one connection. */
export async function rawLookups(r: Rig): Promise<{ viewPerSec: number; found: number; query: number[]; queryPerSec: number }> {
  r.pg.sql(`INSERT INTO popgate_grants (ip, writer, expires_at, granted_at)
            SELECT '10.' || (i >> 8 & 255) || '.' || (i & 255) || '.1', 'bench', now() + interval '1 hour', now() FROM generate_series(0, 9999) AS i
            ON CONFLICT DO NOTHING`);
  const view = new SharedView({ url: r.pg.url('popgate_reader'), logger: memoryLogger().logger });
  if (!(await view.start())) throw new Error('the reader view did not start');
  const n = 1_000_000;
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (view.lookup(`10.${(i >> 8) & 39}.${i & 255}.1`, 0).kind === 'found') found++;
  const viewPerSec = Math.round(n / ((performance.now() - t0) / 1000));
  await view.stop();
  const c = await connectPg(r.pg.url('popgate_reader'), { connectMs: 2000, queryMs: 2000 }, 'bench');
  const sql = pgsqlQuery('OK').replace("'%s'", '$1');
  const query: number[] = [];
  const q0 = performance.now();
  try {
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await c.query(sql, [`10.0.${i & 255}.1`]);
      query.push(performance.now() - t);
    }
  } finally {
    drop(c);
  }
  return { viewPerSec, found, query, queryPerSec: Math.round(2000 / ((performance.now() - q0) / 1000)) };
}
