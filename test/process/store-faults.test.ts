// The database under a running daemon: created private, a damaged file refused with the way out,
// a file replaced or removed noticed (the daemon stops rather than grant into a file nobody
// reads), and a CLI holding the write lock never stalls the live answers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, cli, freshLog, grantedIps, startDaemon, syslogStamp } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-dbfault-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = (sub: string) => {
  const { dir: d, log, settings } = freshLog(dir, sub);
  return { d, log, settings };
};
const login = (ip: string) => `${syslogStamp()} mx dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=1, session=<s${ip.replace(/\W/g, '')}>\n`;

/** Another process holds the database's write lock for `ms` (as a slow CLI write would); resolves once it has it. */
async function holdWriteLock(db: string, ms: number): Promise<ChildProcess> {
  const holder = spawn(
    process.execPath,
    [
      '-e',
      `
      const db = new (require('better-sqlite3'))(${JSON.stringify(db)});
      db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); process.exit(0); }, ${ms});`,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((r) => holder.stdout!.once('data', r));
  return holder;
}

/** One policy request over a UNIX socket; resolves with the reply and how long it took. */
function ask(path: string, ip: string): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = connect(path);
    let reply = '';
    c.setTimeout(10_000, () => reject(new Error('no answer in 10 s')));
    c.on('data', (d) => {
      reply += d;
      if (reply.endsWith('\n\n')) {
        c.destroy();
        resolve({ reply, ms: performance.now() - t0 });
      }
    });
    c.on('error', reject);
    c.write(`request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=${ip}\n\n`);
  });
}

describe('the database under a running daemon', () => {
  it('is created 0640: it holds user names', async () => {
    const { d, settings } = base('mode');
    const h = await startDaemon(settings, d);
    assert.equal(statSync(h.db).mode & 0o777, 0o640);
    await h.stop();
  });

  it('a damaged database stops the start with exit 65 and the way out', () => {
    const { d, log } = base('corrupt');
    const db = join(d, 'popgate.sqlite');
    writeFileSync(db, Buffer.alloc(8192, 0x5a));
    writeFileSync(join(d, 'p.cf'), `db = ${db}\nlog = ${log}\nmap = none\nuse_mynetworks = no\n`);
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', join(d, 'p.cf')], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 65, r.stderr);
    assert.match(r.stderr, /the grant database is damaged .*hint: move it aside \(mv /);
  });

  for (const how of ['removed', 'replaced'] as const) {
    it(`a database ${how} under the daemon stops it (exit 75) instead of granting into a file nobody reads`, async () => {
      const { d, settings } = base(how);
      const h = await startDaemon(settings, d);
      if (how === 'removed') rmSync(h.db);
      else {
        copyFileSync(h.db, join(d, 'other.sqlite'));
        renameSync(join(d, 'other.sqlite'), h.db);
      }
      const code = await Promise.race([new Promise<number | null>((r) => h.child.on('exit', r)), new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
      assert.equal(code, 75, h.output());
      assert.match(h.output(), new RegExp(`the database file was ${how} while popgate ran`));
    });
  }

  it('a CLI holding the write lock never stalls a live answer; the lines read meanwhile are granted after', async () => {
    const { d, log, settings } = base('lock');
    const sock = join(d, 'policy.sock');
    const h = await startDaemon({ ...settings, policy: `unix:${sock}` }, d);
    appendFileSync(log, login('198.51.100.81'));
    await waitFor('the first grant', async () => (await ask(sock, '198.51.100.81')).reply === 'action=OK\n\n', 5000, 50);
    // Another process takes the write lock for 2 s (as a slow CLI write would).
    const holder = await holdWriteLock(h.db, 2000);
    appendFileSync(log, login('198.51.100.82'));
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { reply, ms } = await ask(sock, '198.51.100.81');
      assert.equal(reply, 'action=OK\n\n');
      times.push(ms);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(Math.max(...times) < 250, `answers while the lock is held took up to ${Math.max(...times).toFixed(0)} ms`);
    await new Promise((r) => holder.on('exit', r));
    await waitFor('the login read during the lock, granted after it', async () => (await ask(sock, '198.51.100.82')).reply === 'action=OK\n\n', 8000, 100);
    assert.equal(cli(['list', '--config', h.config]).code, 0);
    await h.stop();
  });

  it('a deny-file edit while another process holds the write lock still ends the grant once the lock is gone', async () => {
    const { d, log, settings } = base('denylock');
    const deny = join(d, 'deny.txt');
    writeFileSync(deny, '# nothing denied yet\n');
    const h = await startDaemon({ ...settings, exclude_files: deny }, d);
    appendFileSync(log, login('198.51.100.85'));
    await waitFor('the grant', () => grantedIps(h.config).includes('198.51.100.85'), 5000, 50);
    const holder = await holdWriteLock(h.db, 1500);
    writeFileSync(deny, '198.51.100.0/24\n');
    await waitFor('the failed attempt', () => /revoking what is now excluded failed/.test(h.output()), 5000, 50);
    await new Promise((r) => holder.on('exit', r));
    await waitFor('the grant revoked after the lock', () => !grantedIps(h.config).includes('198.51.100.85'), 8000, 100);
    await waitFor('the revoke in the log', () => /revoke 198\.51\.100\.85: in excluded network 198\.51\.100\.0\/24/.test(h.output()), 5000, 50);
    await h.stop();
  });
});
