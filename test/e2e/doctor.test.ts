// popgate doctor against the real Postfix configuration (read with postconf) and against
// deliberately broken copies of it (postconf -c DIR on a copy; the live /etc/postfix is
// only read).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { e2eSkip, cli, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';

const skip = await e2eSkip();
const POLICY = 'unix:/var/spool/postfix/private/popgate-policy';
const SOCKETMAP = 'unix:/var/spool/postfix/private/popgate-socketmap';
const dir = mkdtempSync(join(tmpdir(), 'popgate-doctor-'));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/** A socket file left behind by a process killed with -9 (nobody answers on it). */
function staleSocket(path: string, mode = 0o755): void {
  const code = `require('net').createServer().listen(process.argv[1], () => { require('fs').chmodSync(process.argv[1], ${mode}); process.kill(process.pid, 'SIGKILL'); })`;
  spawnSync(process.execPath, ['-e', code, path]);
}

let n = 0;
/** A popgate config for the rig's three modes, with some settings changed. */
function popgateConfig(over: Record<string, string> = {}): string {
  const path = join(dir, `popgate-${n++}.cf`);
  const all = { log: RIG.dovecotLog, db: join(dir, 'doctor.sqlite'), map: `hash:${RIG.map}`, policy: POLICY, socketmap: SOCKETMAP, exclude: '127.0.0.1/32, ::1/128', ...over };
  writeFileSync(
    path,
    Object.entries(all)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  return path;
}

/** A copy of /etc/postfix changed with postconf -c COPY ARGS... (one call per array). */
function brokenPostfix(...edits: string[][]): string {
  const copy = join(dir, `postfix-${n++}`);
  cpSync('/etc/postfix', copy, { recursive: true });
  for (const args of edits) execFileSync('postconf', ['-c', copy, ...args]);
  return copy;
}

function doctor(config: string, postfixDir?: string) {
  const r = cli(['doctor', '--config', config, ...(postfixDir ? ['--postfix-config', postfixDir] : [])]);
  return { ...r, errors: r.stdout.split('\n').filter((l) => l.startsWith('error: ')) };
}

suiteNeeding('popgate doctor against real postconf', skip, () => {
  it('the rig, with popgate running in all three modes: every listener is wired right, exit 0', async () => {
    const d = await startDaemon({ policy: POLICY, socketmap: SOCKETMAP });
    const r = doctor(d.config);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.errors, []);
    assert.match(r.stdout, /^ok: master\.cf 127\.0\.0\.1:2525\/inet: -o smtpd_relay_restrictions: check_client_access hash:\/var\/lib\/popgate-e2e\/popgate is asked before the relay check$/m);
    assert.match(r.stdout, /^ok: master\.cf 127\.0\.0\.1:2526\/inet: -o smtpd_relay_restrictions: check_policy_service unix:private\/popgate-policy is asked before the relay check$/m);
    assert.match(
      r.stdout,
      /^ok: master\.cf 127\.0\.0\.1:2527\/inet: -o smtpd_relay_restrictions: check_client_access socketmap:unix:private\/popgate-socketmap:popgate is asked before the relay check$/m,
    );
    assert.match(r.stdout, /^ok: popgate config: policy = unix:\S+: answering, and connectable for postfix$/m);
    assert.match(r.stdout, /^ok: popgate config: socketmap = unix:\S+: answering, and connectable for postfix$/m);
    assert.match(r.stdout, /^ok: \/var\/log\/popgate-e2e\/dovecot\.log: \d+ of the last \d+ lines recognised/m);
    await d.stop();
  });

  it('popgate not running is a warning (Postfix fails closed), not an error', () => {
    const r = doctor(
      popgateConfig({ socketmap: 'none', policy: 'unix:/var/spool/postfix/private/popgate-doctor-none' }),
      brokenPostfix(['-P', '127.0.0.1:2526/inet/smtpd_relay_restrictions=permit_mynetworks,check_policy_service,unix:private/popgate-doctor-none,reject_unauth_destination']),
    );
    assert.deepEqual(
      r.errors.filter((e) => !/socketmap/.test(e)),
      [],
      r.stdout,
    );
    assert.match(r.stdout, /^warning: \/var\/spool\/postfix\/private\/popgate-doctor-none: no socket there/m);
  });

  it('the policy service only in smtpd_recipient_restrictions: error, exit 78, and the exact master.cf line', () => {
    const pf = brokenPostfix([
      '-P',
      '127.0.0.1:2526/inet/smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination',
      '127.0.0.1:2526/inet/smtpd_recipient_restrictions=permit_mynetworks,check_policy_service,unix:private/popgate-policy,reject_unauth_destination',
    ]);
    const r = doctor(popgateConfig(), pf);
    assert.equal(r.code, 78, r.stdout);
    assert.ok(
      r.errors.some((e) =>
        e.startsWith('error: master.cf 127.0.0.1:2526/inet: -o smtpd_recipient_restrictions: check_policy_service unix:private/popgate-policy is only in smtpd_recipient_restrictions'),
      ),
      r.stdout,
    );
    assert.match(r.stdout, /^ {4}master\.cf 127\.0\.0\.1:2526\/inet: -o smtpd_relay_restrictions=permit_mynetworks,check_policy_service,unix:private\/popgate-policy,reject_unauth_destination$/m);
    assert.match(
      r.stdout,
      /^ {4}\(or run: postconf -P '127\.0\.0\.1:2526\/inet\/smtpd_relay_restrictions=permit_mynetworks,check_policy_service,unix:private\/popgate-policy,reject_unauth_destination'\)$/m,
    );
  });

  it('the socketmap after reject_unauth_destination, or named by an absolute path in the chroot: errors', () => {
    const pf = brokenPostfix(
      ['-P', '127.0.0.1:2527/inet/smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination,check_client_access,socketmap:unix:private/popgate-socketmap:popgate'],
      ['-P', '127.0.0.1:2526/inet/smtpd_relay_restrictions=permit_mynetworks,check_client_access,socketmap:unix:/var/spool/postfix/private/popgate-socketmap:popgate,reject_unauth_destination'],
    );
    const r = doctor(popgateConfig({ policy: 'none' }), pf);
    assert.equal(r.code, 78);
    assert.ok(
      r.errors.some((e) => /127\.0\.0\.1:2527\/inet: .* comes after reject_unauth_destination/.test(e)),
      r.stdout,
    );
    assert.ok(
      r.errors.some((e) => /127\.0\.0\.1:2526\/inet: .*looked up as \/var\/spool\/postfix\/var\/spool\/postfix\/private\/popgate-socketmap/.test(e)),
      r.stdout,
    );
  });

  it('a fail-open default_action and a wide-open mynetworks in main.cf: errors', () => {
    const pf = brokenPostfix(['-e', 'smtpd_policy_service_default_action = OK', 'mynetworks = 127.0.0.0/8 0.0.0.0/0']);
    const r = doctor(popgateConfig(), pf);
    assert.equal(r.code, 78);
    assert.ok(
      r.errors.some((e) => /^error: main\.cf: smtpd_policy_service_default_action: OK makes Postfix relay for everybody/.test(e)),
      r.stdout,
    );
    assert.ok(
      r.errors.some((e) => /^error: main\.cf: mynetworks .*wide open: 0\.0\.0\.0\/0/.test(e)),
      r.stdout,
    );
  });

  it('policy and socketmap on one address, or in a directory that does not exist: errors', () => {
    const r = doctor(popgateConfig({ policy: SOCKETMAP }));
    assert.ok(
      r.errors.some((e) => /^error: popgate config: socketmap: same address as policy/.test(e)),
      r.stdout,
    );
    const r2 = doctor(popgateConfig({ socketmap: 'unix:/var/spool/postfix/no-such-dir/popgate-socketmap' }));
    assert.ok(
      r2.errors.some((e) => /the directory \/var\/spool\/postfix\/no-such-dir does not exist/.test(e)),
      r2.stdout,
    );
  });

  it("popgate's side: missing map, socket outside the chroot, missing and unrecognised logs, unwritable db, long grace", () => {
    const junk = join(dir, 'junk.log');
    writeFileSync(junk, 'Nov 25 10:00:00 host kernel: something unrelated\n'.repeat(50));
    const closed = join(dir, 's.sock'); // a socket only root may connect to
    staleSocket(closed, 0o600);
    const r = doctor(
      popgateConfig({
        map: `hash:${join(dir, 'nomap')}`,
        policy: `unix:${join(dir, 'p.sock')}`,
        socketmap: `unix:${closed}`,
        log: `${join(dir, 'missing.log')} ${junk}`,
        db: '/etc/hostname/popgate.sqlite',
        grace: '2d',
      }),
    );
    assert.equal(r.code, 78);
    const has = (re: RegExp) =>
      assert.ok(
        r.stdout.split('\n').some((l) => re.test(l)),
        `${re}\n${r.stdout}`,
      );
    has(/^error: .*nomap\.db: missing/);
    has(/^error: popgate config: policy = unix:.*p\.sock: outside Postfix's chroot/);
    has(/^error: .*missing\.log: the watched log does not exist/);
    has(/^warning: .*junk\.log: no parser recognised any of its last 50 lines/);
    has(/^error: \/etc\/hostname\/popgate\.sqlite: the database is not writable/);
    has(/^error: popgate config: grace = 172800s: 48\.0 h is unreasonably long/);
    has(/^error: .*s\.sock: user postfix cannot connect \(owner 0:0, mode 600\)/);
  });
});
