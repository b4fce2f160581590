// Two hosts on one machine: popgate A and B each follow their own POP/IMAP log (writers) and serve
// their own Postfix instance (readers: policy service, socketmap, map), and each Postfix also
// reads the shared store straight through proxy:pgsql: (no popgate involved). A login in A's log
// relays on every port of both MTAs; a revoke on B, or the expiry, refuses on all of them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { cli, type DaemonHandle, isAccepted, isRelayDenied, isTempFail, startDaemon, suiteNeeding, syslogStamp } from '../helpers/e2e.js';
import { loopbackAddress, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';
import { type Cluster, pgSkip, startCluster } from './pg-helpers.js';
import { type Mode, type Mta, startMta } from './pg-postfix.js';

const skip = pgSkip();
const GRACE_S = 4;
let pg: Cluster;
const hosts: { name: string; mta: Mta; daemon: DaemonHandle; log: string }[] = [];

let sessions = 0;
/** A POP3 login and its logout (the grace counts from the logout). */
function loginLine(ip: string): string {
  const s = `S${process.pid}x${++sessions}`;
  return (
    `${syslogStamp()} vm dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=${ip}, lip=127.0.0.1, mpid=7, session=<${s}>\n` +
    `${syslogStamp()} vm dovecot: pop3(alice)<7><${s}>: Info: Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0\n`
  );
}

/** Every smtpd port of both MTAs, labelled. */
const ports = () => hosts.flatMap((h) => (Object.keys(h.mta.port) as Mode[]).map((m) => ({ label: `${h.name}/${m}`, port: h.mta.port[m] })));

async function everywhere(src: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(ports().map(async ({ label, port }) => (out[label] = await smtpRcpt(src, port))));
  return out;
}

const all = (pred: (r: string) => boolean) => async (src: string) => Object.values(await everywhere(src)).every(pred);

before(async () => {
  if (skip) return;
  pg = await startCluster();
  const m = cli(['store', 'migrate', '--store', pg.url(), '--reader', 'popgate_reader', '--config', '/dev/null']);
  assert.equal(m.code, 0, m.stderr);
  const pwFile = join(pg.dir, 'reader-password');
  writeFileSync(pwFile, `${pg.readerPassword}\n`, { mode: 0o600 });
  for (const name of ['A', 'B']) {
    const map = cli(['pgsql-map', '--store', pg.url('popgate_reader'), '--password-file', pwFile, '--config', '/dev/null']);
    assert.equal(map.code, 0, map.stderr);
    const mta = await startMta(`pg-mta${name}`, map.stdout);
    const dir = mkdtempSync(join(tmpdir(), `popgate-pg-host${name}-`));
    const log = join(dir, 'mail.log');
    writeFileSync(log, '');
    const daemon = await startDaemon(
      {
        store: pg.url(),
        log,
        grace: `${GRACE_S}s`,
        map: `hash:${mta.map}`,
        policy: `inet:127.0.0.1:${mta.policy}`,
        socketmap: `inet:127.0.0.1:${mta.socketmap}`,
      },
      dir,
    );
    hosts.push({ name, mta, daemon, log });
  }
});

suiteNeeding('two writers, two MTAs, one shared store', skip, () => {
  it("a login in host A's log relays on both MTAs in every reader mode; a revoke on B refuses on all", async () => {
    const src = loopbackAddress();
    const before = await everywhere(src);
    for (const [k, r] of Object.entries(before)) assert.ok(isRelayDenied(r), `${k} before the login: ${r}`);
    const t0 = performance.now();
    appendFileSync(hosts[0]!.log, loginLine(src));
    await waitFor('relay on MTA B (policy)', async () => isAccepted(await smtpRcpt(src, hosts[1]!.mta.port.policy)), 5000, 10);
    process.stderr.write(`# login in A's log → relay accepted on MTA B (policy): ${(performance.now() - t0).toFixed(0)} ms\n`);
    await waitFor('relay everywhere', () => all(isAccepted)(src), 5000, 50);
    assert.ok(await all(isRelayDenied)(loopbackAddress()), 'another address is refused everywhere');
    const r = cli(['store', 'revoke', src, '--config', hosts[1]!.daemon.config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revoked/);
    await waitFor('refusal everywhere', () => all(isRelayDenied)(src), 2000, 50);
  });

  it('the expiry (grace counted on the database clock) refuses on both MTAs in every mode', async () => {
    const src = loopbackAddress();
    appendFileSync(hosts[1]!.log, loginLine(src));
    await waitFor('relay everywhere', () => all(isAccepted)(src), 5000, 50);
    await waitFor('refusal everywhere after the grace', () => all(isRelayDenied)(src), GRACE_S * 1000 + 3000, 100);
  });

  it('the shared brake from one host holds on both; release lets new logins grant', async () => {
    const src = loopbackAddress();
    appendFileSync(hosts[0]!.log, loginLine(src));
    await waitFor('relay everywhere', () => all(isAccepted)(src), 5000, 50);
    assert.equal(cli(['store', 'brake', '--reason', 'test', '--config', hosts[1]!.daemon.config]).code, 0);
    await waitFor('refusal everywhere under the brake', () => all(isRelayDenied)(src), 2000, 50);
    const listed = cli(['store', 'list', '--config', hosts[0]!.daemon.config]);
    assert.match(listed.stdout, /EMERGENCY BRAKE ON/);
    assert.equal(cli(['store', 'release', '--config', hosts[0]!.daemon.config]).code, 0);
    appendFileSync(hosts[1]!.log, loginLine(src));
    await waitFor('relay again after release and a new login', () => all(isAccepted)(src), 5000, 50);
  });

  it('PostgreSQL stopped: proxy:pgsql: and the live readers answer 4xx, never 250; back, they relay', async () => {
    const src = loopbackAddress();
    assert.equal(cli(['store', 'grant', src, '--for', '10m', '--config', hosts[0]!.daemon.config]).code, 0);
    await waitFor('relay everywhere', () => all(isAccepted)(src), 5000, 50);
    pg.down();
    try {
      const down = hosts.flatMap((h) => [h.mta.port.policy, h.mta.port.socketmap, h.mta.port.pgsql]);
      await waitFor('451 from pgsql, policy and socketmap', async () => (await Promise.all(down.map((p) => smtpRcpt(src, p)))).every(isTempFail), 8000, 100);
      // Map mode keeps what it knew until each grant's own expiry (a map cannot say "later").
      for (const h of hosts) assert.ok(isAccepted(await smtpRcpt(src, h.mta.port.map)), 'map mode keeps an unexpired grant');
    } finally {
      pg.up();
    }
    const live = hosts.flatMap((h) => [h.mta.port.policy, h.mta.port.socketmap]);
    await waitFor('the live readers relay again', async () => (await Promise.all(live.map((p) => smtpRcpt(src, p)))).every(isAccepted), 15_000, 200);
    // Postfix's pgsql client skips a failed host for 60 s (RETRY_CONN_INTV, fixed): a reload ends that.
    for (const h of hosts) spawnSync('postfix', ['-c', join(h.mta.dir, 'etc'), 'reload'], { stdio: 'ignore' });
    await waitFor('proxy:pgsql: relays again after postfix reload', () => all(isAccepted)(src), 15_000, 200);
  });
});
