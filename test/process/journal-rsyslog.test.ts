// Issue 11 item 1: a syslog file whose writer is authenticated. A real rsyslogd on its own socket
// runs contrib/rsyslog/popgate.conf; a real Dovecot (own config and port, its syslog socket pointed
// at that rsyslog in a private mount namespace) logs a POP login; logger(1) forges the same line as
// root, as another user and as a copy named like Dovecot's log process. popgate, following the
// trusted file, grants the Dovecot login only.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, logOnly, startDaemon, type DaemonHandle } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const SNIPPET = new URL('../../../contrib/rsyslog/popgate.conf', import.meta.url).pathname;
const PASSWD = '/etc/popgate-e2e/dovecot.passwd';
const PORT = 11110;

function skip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (a mount namespace for Dovecot, logger as other users)';
  for (const bin of ['rsyslogd', 'dovecot', 'unshare', 'setpriv', 'logger', 'python3']) if (spawnSync('which', [bin]).status !== 0) return `needs ${bin}`;
  if (!existsSync(PASSWD)) return `needs ${PASSWD} (test/e2e/services/setup.sh makes it)`;
  return false;
}

const dir = mkdtempSync(join(tmpdir(), 'popgate-jrs-'));
let rsyslog: ChildProcess | null = null;
let d: DaemonHandle | null = null;
after(async () => {
  await d?.stop('SIGKILL');
  const master = join(dir, 'dovecot/run/master.pid');
  if (existsSync(master)) process.kill(Number(readFileSync(master, 'utf8').trim()), 'SIGTERM');
  rsyslog?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
});

/** The shipped snippet, on a socket and file of its own instead of /dev/log and /var/log/popgate. */
function rsyslogConf(sock: string, out: string): string {
  const text = readFileSync(SNIPPET, 'utf8');
  const own = `global(workDirectory="${dir}")\nmodule(load="imuxsock" SysSock.Use="off")\ninput(type="imuxsock" Socket="${sock}" Annotate="on" ParseTrusted="on")`;
  const conf = text.replace(/^module\(load="imuxsock".*$/m, own).replace('file="/var/log/popgate/mail-trusted.log"', `file="${out}"`);
  assert.ok(conf.includes(`file="${out}"`) && conf.includes(sock), 'the snippet still has the lines this test replaces');
  return conf;
}

function dovecotConf(base: string): string {
  return `base_dir = ${base}/run
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
log_path = syslog
syslog_facility = mail
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 999
last_valid_uid = 999
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${PASSWD}
}
userdb {
  driver = static
  args = uid=popgate-mail gid=popgate-mail home=${base}/home/%n
}
service pop3-login {
  inet_listener pop3 {
    port = ${PORT}
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

/** Dovecot with /dev/log pointing at our rsyslog, in a mount namespace of its own. */
function startDovecot(sock: string): void {
  const base = join(dir, 'dovecot');
  mkdirSync(join(base, 'dev'), { recursive: true });
  mkdirSync(join(base, 'home'));
  spawnSync('chown', ['popgate-mail', join(base, 'home')]);
  writeFileSync(join(base, 'dovecot.conf'), dovecotConf(base));
  const script = [
    `for n in null zero urandom random full tty; do touch ${base}/dev/$n; mount --bind /dev/$n ${base}/dev/$n; done`,
    `ln -s ${sock} ${base}/dev/log`,
    `mount --bind ${base}/dev /dev`,
    // Dovecot goes to the background: no pipe of ours may stay open in it.
    `exec dovecot -c ${base}/dovecot.conf </dev/null >/dev/null 2>${base}/start.err`,
  ].join('\n');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-ec', script], { stdio: 'ignore', timeout: 10_000 });
  assert.equal(r.status, 0, `dovecot did not start: ${existsSync(join(base, 'start.err')) ? readFileSync(join(base, 'start.err'), 'utf8') : ''}`);
}

/** A real POP3 login from 127.0.0.7 (a loopback address of its own, so it is not excluded). */
function popLogin(): void {
  const py = `import poplib, socket
class P(poplib.POP3):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=('127.0.0.7', 0))
p = P('127.0.0.1', ${PORT}); p.user('alice'); p.pass_('wonderland'); p.quit()`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, `POP login failed: ${r.stderr}`);
}

const forged = (ip: string) => `pop3-login: Login: user=<x>, method=PLAIN, rip=${ip}, lip=127.0.0.1, mpid=1, session=<Forged${ip.replace(/\./g, '')}>`;

describe('trusted rsyslog file (contrib/rsyslog/popgate.conf)', { skip: skip() }, () => {
  it("grants Dovecot's own login and none of the logger forgeries", async () => {
    chmodSync(dir, 0o755);
    const sock = join(dir, 'log.sock');
    const out = join(dir, 'mail-trusted.log');
    writeFileSync(join(dir, 'rsyslog.conf'), rsyslogConf(sock, out));
    rsyslog = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid')], { stdio: 'ignore' });
    await waitFor('rsyslog socket', () => existsSync(sock), 5000);
    writeFileSync(out, '');
    d = await startDaemon(logOnly(out), dir);

    // Forgeries: root's logger, another user's logger, a copy of logger named `log` (Dovecot's log process name).
    const logger = (args: string[], pre: string[] = []) => {
      const r = spawnSync(pre[0] ?? 'logger', [...pre.slice(1), ...(pre.length ? ['logger'] : []), '-u', sock, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    logger(['-p', 'mail.info', '-t', 'dovecot', forged('203.0.113.71')]);
    logger(['-p', 'mail.info', '-t', 'dovecot', forged('203.0.113.72')], ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups']);
    const copy = join(dir, 'log');
    copyFileSync('/usr/bin/logger', copy);
    chmodSync(copy, 0o755);
    const r = spawnSync(copy, ['-u', sock, '-p', 'mail.info', '-t', 'dovecot', forged('203.0.113.73')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);

    startDovecot(sock);
    popLogin();
    await waitFor('the Dovecot login granted', () => cli(['list', '--json', '--config', d!.config]).stdout.includes('127.0.0.7'), 8000, 100);
    await new Promise((res) => setTimeout(res, 500));
    const granted = (JSON.parse(cli(['list', '--json', '--config', d.config]).stdout) as { ip: string }[]).map((g) => g.ip);
    assert.deepEqual(granted, ['127.0.0.7'], 'only the line Dovecot wrote grants');

    // The file holds all four logins, each with the writer the kernel named.
    const lines = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.includes('Login: '));
    const writers = lines.map((l) => JSON.parse(l) as Record<string, string>).map((o) => [o._UID, o._EXE]);
    assert.equal(lines.length, 4, lines.join('\n'));
    // A short-lived sender may be gone before rsyslog reads its binary: _EXE is then empty.
    assert.deepEqual(
      writers.map((w) => w[0]),
      ['0', '65534', '0', '0'],
    );
    assert.ok(['', '/usr/bin/logger'].includes(writers[0]![1]!) && ['', '/usr/bin/logger'].includes(writers[1]![1]!));
    assert.ok(['', copy].includes(writers[2]![1]!));
    assert.equal(writers[3]![1], '/usr/lib/dovecot/log', "Dovecot's log process wrote the real login");
  });
});
