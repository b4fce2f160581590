// contrib/install.sh end to end, against a Postfix instance of its own (a copy of this machine's
// /etc/postfix with its own queue directory and one chrooted smtpd on a free loopback port), so
// the shared rig is never touched: fresh install (migrating the old map location), re-run,
// switch to policy mode, switch back, kill -9 under the supervisor, uninstall, purge. After each
// step: main.cf holds exactly popgate's reference, doctor is clean, and a relay probe gets 250
// only from the granted address.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { suiteNeeding } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

const INSTALL = new URL('../../../contrib/install.sh', import.meta.url).pathname;
/** The build this test runs from (it holds src/ and parsers/): installed instead of building again. */
const BUILT = new URL('../../', import.meta.url).pathname;
/** For the relay probes, which outlive the installed copy. */
const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const GRANTED = '127.0.0.9';
const STRANGER = '127.0.0.10';

function skipReason(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const tool of ['postconf', 'postfix', 'postmap', 'setpriv', 'useradd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
  }
  if (!existsSync('/etc/postfix/main.cf')) missing.push('/etc/postfix/main.cf');
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')} (the installer runs as root against a private Postfix instance)`;
  if (process.env.POPGATE_E2E === 'required') throw new Error(`POPGATE_E2E=required: ${reason}`);
  return reason;
}

suiteNeeding('install.sh in every mode', skipReason(), () => {
  let base = '';
  let port = 0;
  let pf = ''; // Postfix config directory of the instance
  let root = ''; // POPGATE_ROOT
  let conf = '';
  let queue = '';

  const postconf = (...args: string[]) => execFileSync('postconf', ['-c', pf, ...args], { encoding: 'utf8' });
  const mainCf = () => readFileSync(join(pf, 'main.cf'), 'utf8');
  const backups = () => readdirSync(pf).filter((n) => n.startsWith('main.cf.popgate-')).length;
  const relayList = () => postconf('-nh', 'smtpd_relay_restrictions').trim();
  const bin = () => join(root, 'usr/local/bin/popgate');
  const mapPath = () => join(root, 'var/lib/popgate/map/popgate');
  const daemonPid = () => Number(readFileSync(join(root, 'run/popgate/supervise-daemon.pid'), 'utf8'));

  function install(...args: string[]): string {
    const r = spawnSync('bash', [INSTALL, ...args], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, POSTFIX_CONFIG_DIR: pf, POPGATE_ROOT: root, POPGATE_BUILT: BUILT, POPGATE_INIT: 'supervise' },
    });
    assert.equal(r.status, 0, `install.sh ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout + r.stderr;
  }

  function popgate(...args: string[]): { status: number | null; out: string } {
    const r = spawnSync(bin(), args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MAIL_CONFIG: pf } });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  function doctorClean(): void {
    const r = popgate('doctor', '-c', conf, '--postfix-config', pf);
    assert.equal(r.status, 0, `doctor:\n${r.out}`);
    assert.doesNotMatch(r.out, /^error:/m);
  }

  /** RCPT replies the server gave `source`: how many were 250 (accepted). */
  function accepted(source: string): number {
    const r = spawnSync(process.execPath, [CLI, 'relay-test', `127.0.0.1:${port}`, '--source', source, '--timeout', '5s', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.ok(r.status === 0 || r.status === 1, `relay-test exited ${r.status}: ${r.stdout}${r.stderr}`);
    const report = JSON.parse(r.stdout) as { accepted: number; probes: { code: number }[] };
    assert.ok(report.probes.length > 0);
    return report.accepted;
  }

  function setConf(settings: Record<string, string>): void {
    let text = readFileSync(conf, 'utf8');
    for (const [k, v] of Object.entries(settings)) {
      const line = `${k} = ${v}`;
      text = new RegExp(`^${k}\\s*=.*$`, 'm').test(text) ? text.replace(new RegExp(`^${k}\\s*=.*$`, 'm'), line) : `${text}${line}\n`;
    }
    writeFileSync(conf, text);
  }

  before(async () => {
    port = await freePort();
    base = mkdtempSync('/tmp/popgate-install-');
    chmodSync(base, 0o755); // popgate and postfix must reach what lies below
    pf = join(base, 'etc');
    root = join(base, 'root');
    queue = join(base, 'spool');
    conf = join(root, 'etc/popgate/popgate.cf');
    // A private instance: own config, queue and data directories, one smtpd, the rig's settings
    // (mynetworks = 127.0.0.1/32, discard transports) copied from /etc/postfix.
    execFileSync(
      'bash',
      [
        '-euc',
        `
      B=$1 PORT=$2
      mkdir -p "$B/etc" "$B/data" "$B/spool" "$B/root"
      cp /etc/postfix/main.cf /etc/postfix/master.cf "$B/etc/"
      if [ -e /etc/postfix/dynamicmaps.cf ]; then cp /etc/postfix/dynamicmaps.cf "$B/etc/"; fi
      chown postfix "$B/data"
      postconf -c "$B/etc" -e "queue_directory = $B/spool" "data_directory = $B/data" \\
        "multi_instance_name = postfix-popgate-install" "syslog_name = postfix-popgate-install" \\
        "maillog_file = $B/postfix.log" "maillog_file_prefixes = $B" "inet_interfaces = 127.0.0.1" \\
        "inet_protocols = ipv4" "mynetworks = 127.0.0.1/32" "default_transport = discard:test" \\
        "relay_transport = discard:test" "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
      postconf -c "$B/etc" -M | awk '$2 == "inet" { print $1 "/" $2 }' | while read -r s; do postconf -c "$B/etc" -MX "$s"; done
      postconf -c "$B/etc" -M "127.0.0.1:$PORT/inet=127.0.0.1:$PORT inet n - y - - smtpd"
      postfix -c "$B/etc" start 2>/dev/null
    `,
        'sh',
        base,
        String(port),
      ],
      { stdio: 'pipe' },
    );
    mkdirSync(join(root, 'etc/popgate'), { recursive: true });
    writeFileSync(join(base, 'mail.log'), '');
    // The map where the old installer put it: in Postfix's config directory.
    writeFileSync(conf, [`log = ${join(base, 'mail.log')}`, `db = ${join(root, 'var/lib/popgate/popgate.sqlite')}`, `map = hash:${join(pf, 'popgate')}`, `exclude = 127.0.0.1/32`, ''].join('\n'));
    writeFileSync(join(pf, 'popgate'), '');
    execFileSync('postmap', [`hash:${join(pf, 'popgate')}`]);
    await waitFor('the private smtpd', () => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0, 10_000, 100);
  });

  after(() => {
    // Whatever a failed step left: the supervisor (it withdraws on the way out), the instance.
    const pidFile = join(root, 'run/popgate/supervise.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {}
    }
    spawnSync('postfix', ['-c', pf, 'stop']);
    rmSync(base, { recursive: true, force: true });
  });

  it('fresh install: moves the map out of Postfix directory, wires it, runs popgate as its own user', async () => {
    const out = install();
    assert.match(readFileSync(conf, 'utf8'), new RegExp(`^map = hash:${mapPath()}$`, 'm'));
    assert.equal(relayList(), `permit_mynetworks, permit_sasl_authenticated, check_client_access hash:${mapPath()}, defer_unauth_destination`);
    assert.equal(backups(), 1);
    assert.ok(!existsSync(join(pf, 'popgate.db')), `old map left behind:\n${out}`);
    assert.equal(statSync(`${mapPath()}.db`).uid, Number(execFileSync('id', ['-u', 'popgate'], { encoding: 'utf8' })));
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${daemonPid()}/status`, 'utf8'))![1];
    assert.equal(uid, execFileSync('id', ['-u', 'popgate'], { encoding: 'utf8' }).trim(), 'popgate run must not run as root');
    assert.ok(realpathSync(bin()).startsWith(join(root, 'usr/local/lib/popgate/')), 'popgate must run from the installed copy, not the clone');
    doctorClean();
    assert.equal(popgate('grant', GRANTED, '-c', conf).status, 0);
    await waitFor('the grant in the map', () => readFileSync(mapPath(), 'utf8').includes(GRANTED), 5000, 50);
    assert.ok(accepted(GRANTED) > 0, 'the granted address must relay: the wiring works');
    assert.equal(accepted(STRANGER), 0);
  });

  it('re-run changes nothing in main.cf and makes no backup', () => {
    const before = mainCf();
    install();
    assert.equal(mainCf(), before);
    assert.equal(backups(), 1);
    doctorClean();
  });

  it('policy mode: the map reference goes, the policy reference comes, a re-run keeps it so', async () => {
    setConf({ map: 'none', policy: `unix:${join(queue, 'popgate/policy')}` });
    install();
    const list = relayList();
    assert.doesNotMatch(list, /hash:/);
    assert.equal(list, 'permit_mynetworks, permit_sasl_authenticated, check_policy_service unix:popgate/policy, defer_unauth_destination');
    assert.equal(readFileSync(mapPath(), 'utf8'), '', 'the map nobody maintains any more must be empty');
    const before = mainCf();
    install();
    assert.equal(mainCf(), before, 're-run in policy mode must not bring the map back');
    doctorClean();
    await waitFor('policy answers', () => accepted(GRANTED) > 0, 5000, 200);
    assert.equal(popgate('revoke', GRANTED, '-c', conf).status, 0);
    assert.equal(accepted(GRANTED), 0, 'revoked: no 250');
    assert.equal(accepted(STRANGER), 0);
  });

  it('back to map mode: the policy reference goes, the map serves again', async () => {
    setConf({ map: `hash:${mapPath()}`, policy: 'none' });
    install();
    assert.equal(relayList(), `permit_mynetworks, permit_sasl_authenticated, check_client_access hash:${mapPath()}, defer_unauth_destination`);
    doctorClean();
    assert.equal(accepted(GRANTED), 0, 'revoked in policy mode: still no grant');
    assert.equal(popgate('grant', GRANTED, '-c', conf).status, 0);
    await waitFor('the grant in the map', () => readFileSync(mapPath(), 'utf8').includes(GRANTED), 5000, 50);
    assert.ok(accepted(GRANTED) > 0);
    assert.equal(accepted(STRANGER), 0);
  });

  it('kill -9 under the supervisor: the map is withdrawn, popgate restarts and rebuilds it', async () => {
    const first = daemonPid();
    const log = join(root, 'var/log/popgate.log');
    const mark = readFileSync(log, 'utf8').length;
    process.kill(first, 'SIGKILL');
    // The supervisor withdraws before it restarts (after a pause): the empty map is logged first.
    await waitFor('the withdraw', () => readFileSync(log, 'utf8').slice(mark).includes('withdrawn'), 10_000, 20);
    const restarted = readFileSync(log, 'utf8').slice(mark);
    assert.ok(restarted.indexOf('withdrawn') < restarted.indexOf('started popgate run') >>> 0, restarted);
    await waitFor('a new daemon', () => existsSync(join(root, 'run/popgate/supervise-daemon.pid')) && daemonPid() !== first, 10_000, 50);
    await waitFor('the map rebuilt from the database', () => readFileSync(mapPath(), 'utf8').includes(GRANTED), 10_000, 50);
    doctorClean();
  });

  it('uninstall leaves no popgate reference and no program; keeps the database; purge removes it', () => {
    const out = install('--uninstall');
    assert.match(out, /withdrawn/);
    assert.doesNotMatch(out, /warning|error/);
    // (the instance's own paths and names contain "popgate": look at the restriction lists)
    assert.doesNotMatch(
      postconf('-n')
        .split('\n')
        .filter((l) => /_restrictions =/.test(l))
        .join('\n'),
      /popgate/,
    );
    assert.equal(relayList(), 'permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination');
    assert.ok(!existsSync(join(root, 'run/popgate/supervise.pid')));
    assert.ok(!existsSync(bin()) && !existsSync(join(root, 'usr/local/lib/popgate')));
    assert.ok(!existsSync(`${mapPath()}.db`));
    assert.ok(existsSync(join(root, 'var/lib/popgate/popgate.sqlite')), 'the database stays without --purge');
    spawnSync('postfix', ['-c', pf, 'reload']);
    assert.equal(accepted(GRANTED), 0, 'nothing relays through a removed popgate');
    install('--uninstall', '--purge');
    assert.ok(!existsSync(join(root, 'var/lib/popgate/popgate.sqlite')) && !existsSync(conf));
  });
});
