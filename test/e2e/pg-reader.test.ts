// Reader mode 1 against a real Postfix: a popgate on the MTA answers the policy service and the
// socketmap from its view of the shared grants. PostgreSQL stopped, or hung (SIGSTOP) with
// connections open, turns every answer into 451 within the staleness bound, never 250.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { connectPg, drop } from '../../src/multihost/pg-connect.js';
import { migratePg } from '../../src/multihost/pg-schema.js';
import { cli, type DaemonHandle, isAccepted, isRelayDenied, isTempFail, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';
import { type Cluster, pgSkip, startCluster } from './pg-helpers.js';
import { type Mta, startMta } from './pg-postfix.js';

const skip = pgSkip();
let pg: Cluster;
let mta: Mta;
let reader: DaemonHandle;
/** The reader's bound: heartbeat 1 s, stale after 3 s (the defaults); a margin for Postfix. */
const STALE_BOUND_MS = 6000;

/** A grant written straight into the shared store, as a writer's delivery would, and announced. */
function grant(ip: string, seconds: number): void {
  pg.sql(`INSERT INTO popgate_grants (ip, writer, expires_at, granted_at) VALUES ('${ip}', 'test', now() + interval '${seconds} seconds', now())
          ON CONFLICT (ip, writer) DO UPDATE SET expires_at = EXCLUDED.expires_at; SELECT pg_notify('popgate_grants', '${ip}')`);
}

function revoke(ip: string): void {
  pg.sql(`DELETE FROM popgate_grants WHERE ip = '${ip}'; SELECT pg_notify('popgate_grants', '${ip}')`);
}

const modes = () => [mta.port.policy, mta.port.socketmap];
const replies = (src: string) => Promise.all(modes().map((p) => smtpRcpt(src, p)));

before(async () => {
  if (skip) return;
  pg = await startCluster();
  const c = await connectPg(pg.url(), { connectMs: 3000, queryMs: 5000 }, 'test');
  await migratePg(c, pg.url(), 'popgate_reader');
  drop(c);
  mta = await startMta('pg-reader');
  const dir = mkdtempSync(join(tmpdir(), 'popgate-pg-reader-'));
  writeFileSync(join(dir, 'empty.log'), '');
  reader = await startDaemon(
    {
      store: pg.url('popgate_reader'),
      log: join(dir, 'empty.log'),
      map: 'none',
      policy: `inet:127.0.0.1:${mta.policy}`,
      socketmap: `inet:127.0.0.1:${mta.socketmap}`,
    },
    dir,
  );
});

suiteNeeding('reader mode 1 (policy service, socketmap) from the shared store, fail-closed', skip, () => {
  it('a grant in the shared store relays at once; a revoke is refused within a second', async () => {
    const src = loopbackAddress();
    for (const r of await replies(src)) assert.ok(isRelayDenied(r), `refused before the grant: ${r}`);
    grant(src, 600);
    await waitFor('relay on both ports', async () => (await replies(src)).every(isAccepted), 1000, 20);
    assert.ok((await replies(loopbackAddress())).every(isRelayDenied), 'another address is still refused');
    const t0 = performance.now();
    revoke(src);
    await waitFor('refusal on both ports', async () => (await replies(src)).every(isRelayDenied), 1000, 20);
    process.stderr.write(`# revoke in the shared store → refused on the reader MTA: ${(performance.now() - t0).toFixed(0)} ms\n`);
  });

  it('an expiry by the database clock is refused on time, with no notification', async () => {
    const src = loopbackAddress();
    grant(src, 2);
    await waitFor('relay', async () => isAccepted(await smtpRcpt(src, mta.port.policy)), 1000, 20);
    await new Promise((r) => setTimeout(r, 2100));
    for (const r of await replies(src)) assert.ok(isRelayDenied(r), `expired: ${r}`);
  });

  for (const fault of ['stopped', 'hung (SIGSTOP)'] as const) {
    it(`PostgreSQL ${fault}: a granted address gets 451, never 250, and relays again when it is back`, async () => {
      const src = loopbackAddress();
      grant(src, 600);
      await waitFor('relay', async () => (await replies(src)).every(isAccepted), 1000, 20);
      if (fault === 'stopped') pg.down();
      else pg.freeze();
      const t0 = performance.now();
      try {
        await waitFor('451 on both ports', async () => (await replies(src)).every(isTempFail), STALE_BOUND_MS, 100);
        process.stderr.write(`# PostgreSQL ${fault} → 451 after ${(performance.now() - t0).toFixed(0)} ms\n`);
        // From then on, for as long as it lasts: 4xx only.
        for (let i = 0; i < 5; i++) for (const r of await replies(src)) assert.ok(isTempFail(r), `while ${fault}: ${r}`);
        // And popgate status says why (exit 1: a monitoring check fires).
        const st = cli(['status', '--json', '--config', reader.config]);
        assert.equal(st.code, 1, st.stderr);
        const report = JSON.parse(st.stdout) as { shared: { in_step: boolean } | null; problems: string[] };
        assert.equal(report.shared?.in_step, false);
        assert.ok(
          report.problems.some((p) => /shared store .* not confirmed in step .*live answers are 451/.test(p)),
          report.problems.join('; '),
        );
      } finally {
        if (fault === 'stopped') pg.up();
        else pg.thaw();
      }
      await waitFor('relay again', async () => (await replies(src)).every(isAccepted), 10_000, 100);
      assert.match(reader.output(), /out of step|not in step/);
      const back = JSON.parse(cli(['status', '--json', '--config', reader.config]).stdout) as { shared: { in_step: boolean; grants: number } | null };
      assert.equal(back.shared?.in_step, true);
      assert.ok(back.shared!.grants >= 1);
    });
  }
});
