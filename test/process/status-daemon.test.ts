// popgate status, history and systemd's notification against a daemon run as a child process
// (no Postfix needed: map none, a policy service on loopback). A Python datagram socket stands in
// for systemd's NOTIFY_SOCKET, which Node cannot open.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { CLI, suiteNeeding } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

const tools = ['python3', 'systemd-notify'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** A datagram socket at `path` that collects what is sent to it, one message per line. */
function notifySocket(path: string): { messages: () => string[] } {
  const py =
    'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True:\n  print(s.recv(4096).decode().replace("\\n"," "),flush=True)';
  const child = spawn('python3', ['-c', py, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  return { messages: () => out.split('\n').filter((l) => l && l !== 'bound') };
}

/** Now as syslog writes it: `Nov  5 14:03:09`. */
function syslogNow(): string {
  const d = new Date();
  return `${d.toLocaleString('en-US', { month: 'short' })} ${String(d.getDate()).padStart(2)} ${d.toTimeString().slice(0, 8)}`;
}
const login = (ip: string, user: string) =>
  `${syslogNow()} mail dovecot: imap-login: Login: user=<${user}>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=${Math.floor(Math.random() * 30000) + 100}, secured\n`;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

suiteNeeding('status, history and sd_notify with a daemon', tools.length ? `needs ${tools.join(' and ')}` : false, () => {
  it('READY=1 after the catch-up, watchdog pings, status and history show a grant and a refusal, STOPPING=1, then status exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-status-'));
    const log = join(dir, 'mail.log');
    writeFileSync(log, login('198.51.100.20', 'alice') + login('10.9.8.7', 'mallory'));
    const config = join(dir, 'popgate.cf');
    const policyPort = await freePort();
    writeFileSync(config, `log = ${log}\ndb = ${join(dir, 'db.sqlite')}\nmap = none\npolicy = inet:127.0.0.1:${policyPort}\nexclude = 10.0.0.0/8\nuse_mynetworks = no\n`);
    const sock = join(dir, 'notify.sock');
    const notify = notifySocket(sock);
    await waitFor('the notify socket', () => spawnSync('test', ['-S', sock]).status === 0, 5000);
    const env = { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' };
    const daemon = spawn(process.execPath, [CLI, 'run', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(daemon);
    let out = '';
    daemon.stderr!.on('data', (d) => (out += d));
    await waitFor('READY=1', () => notify.messages().includes('READY=1'), 10_000);
    assert.match(out, /caught up, 2 lines .* 2 login\(s\)/);
    await waitFor('STATUS=', () => notify.messages().some((m) => /^STATUS=1 grant\(s\), 1 open session\(s\); 1 log\(s\)$/.test(m)), 3000);
    await waitFor('two watchdog pings', () => notify.messages().filter((m) => m === 'WATCHDOG=1').length >= 2, 3000);

    appendFileSync(log, login('198.51.100.21', 'bob'));
    await waitFor('the live login', () => out.includes('grant 198.51.100.21'), 5000);
    const s = cli(['status', '--json', '--config', config]);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    const r = JSON.parse(s.stdout);
    assert.equal(r.version, 1);
    assert.equal(r.ok, true);
    assert.equal(r.daemon.pid, daemon.pid);
    assert.deepEqual([r.logs[0].path, r.logs[0].lines, r.logs[0].logins, r.logs[0].behind_bytes, r.logs[0].caught_up], [log, 3, 3, 0, true]);
    assert.match(r.logs[0].last_line, /rip=198\.51\.100\.21,/);
    assert.deepEqual([r.grants.active, r.grants.last_grant.ip, r.grants.last_grant.user], [2, '198.51.100.21', 'bob']);
    assert.deepEqual([r.outcomes.grant, r.outcomes.refused, r.refusals.excluded], [2, 1, 1]);
    assert.equal(r.publishers[0].kind, 'policy');
    assert.equal(r.brake, null);
    const text = cli(['status', '--config', config]).stdout;
    assert.match(text, /^daemon: running, pid \d+/m);
    assert.match(text, /^status: OK$/m);

    const h = cli(['history', '--json', '--config', config]);
    assert.equal(h.code, 0, h.stderr);
    const rows = h.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((e) => [e.action, e.ip, e.user, e.origin]),
      [
        ['grant', '198.51.100.20', 'alice', `${log}:1`],
        ['refuse', '10.9.8.7', 'mallory', `${log}:2`],
        ['grant', '198.51.100.21', 'bob', `${log}:3`],
      ],
    );
    assert.equal(rows[1].detail, 'in excluded network 10.0.0.0/8');
    assert.equal(cli(['history', '10.9.8.7', '--config', config]).stdout.trim().split('\n').length, 1);
    assert.match(cli(['history', '--user', 'nobody', '--config', config]).stdout, /^no audit entries match$/m);

    daemon.kill('SIGTERM');
    await waitFor('STOPPING=1', () => notify.messages().includes('STOPPING=1'), 5000);
    await waitFor('the daemon to exit', () => daemon.exitCode !== null, 5000);
    const down = cli(['status', '--json', '--config', config]);
    assert.equal(down.code, 1);
    assert.deepEqual([JSON.parse(down.stdout).daemon.running, JSON.parse(down.stdout).problems], [false, ['the daemon is not running']]);
  });
});
