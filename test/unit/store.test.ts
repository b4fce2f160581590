import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { SCHEMA_VERSION } from '../../src/grants/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => new SqliteStore(join(dir, `s${n++}.sqlite`));
const MIN = 60_000;
const login = (ip: string, at: number, session: string | null = null) => ({ ip, user: 'alice', server: 'dovecot', protocol: 'pop3' as const, at, session, origin: 'test' });

describe('SqliteStore', () => {
  it('grants, renews with sliding expiry, and never shortens', () => {
    const s = fresh();
    assert.equal(s.login(login('192.0.2.1', 0), 30 * MIN, 12 * 60 * MIN).action, 'grant');
    assert.equal(s.list(1)[0]!.expiresAt, 30 * MIN);
    assert.equal(s.login(login('192.0.2.1', 10 * MIN), 30 * MIN, 12 * 60 * MIN).action, 'renew');
    assert.equal(s.list(1)[0]!.expiresAt, 40 * MIN);
    s.login(login('192.0.2.1', 5 * MIN), 30 * MIN, 12 * 60 * MIN); // an older line read late
    assert.equal(s.list(1)[0]!.expiresAt, 40 * MIN);
    assert.ok(s.isGranted('192.0.2.1', 40 * MIN - 1));
    assert.ok(!s.isGranted('192.0.2.1', 40 * MIN));
    s.close();
  });

  it('holds a grant while a session is open, and counts the grace from the logout', () => {
    const s = fresh();
    s.login(login('192.0.2.2', 0, 'dovecot:S1'), 30 * MIN, 120 * MIN);
    assert.equal(s.list(1)[0]!.expiresAt, 120 * MIN, 'held up to max_hold');
    assert.equal(s.list(1)[0]!.openSessions, 1);
    assert.equal(s.logout('dovecot:S1', 100 * MIN, 30 * MIN)?.ip, '192.0.2.2');
    assert.equal(s.list(1)[0]!.expiresAt, 130 * MIN, 'grace from the logout');
    assert.equal(s.logout('dovecot:S1', 101 * MIN, 30 * MIN), null, 'a session closes once');
    s.close();
  });

  it('keeps the hold of another open session when one closes', () => {
    const s = fresh();
    s.login(login('192.0.2.3', 0, 'dovecot:A'), 30 * MIN, 120 * MIN);
    s.login(login('192.0.2.3', 10 * MIN, 'dovecot:B'), 30 * MIN, 120 * MIN);
    s.logout('dovecot:A', 20 * MIN, 30 * MIN);
    assert.equal(s.list(1)[0]!.expiresAt, 130 * MIN);
    s.close();
  });

  it('expires exactly what ended and reports the next expiry', () => {
    const s = fresh();
    s.login(login('192.0.2.4', 0), 10 * MIN, 60 * MIN);
    s.login(login('192.0.2.5', 0), 20 * MIN, 60 * MIN);
    assert.equal(s.nextExpiry(0), 10 * MIN);
    assert.deepEqual(s.expire(10 * MIN), ['192.0.2.4']);
    assert.deepEqual(s.activeIps(10 * MIN), ['192.0.2.5']);
    assert.equal(s.nextExpiry(10 * MIN), 20 * MIN);
    assert.deepEqual(
      s.audit('192.0.2.4', 10).map((a) => a.action),
      ['expire', 'grant'],
    );
    s.close();
  });

  it('revokes, flushes, and grants by hand without shortening a login grant', () => {
    const s = fresh();
    s.login(login('192.0.2.6', 0), 30 * MIN, 60 * MIN);
    s.grantManual('192.0.2.6', 5 * MIN, 0, 'cli');
    assert.equal(s.list(1)[0]!.expiresAt, 30 * MIN);
    s.grantManual('192.0.2.7', 50 * MIN, 0, 'cli');
    assert.deepEqual(s.activeIps(1), ['192.0.2.6', '192.0.2.7']);
    assert.ok(s.revoke('192.0.2.6', 1, 'cli'));
    assert.ok(!s.revoke('192.0.2.6', 1, 'cli'));
    assert.equal(s.flush(2, 'cli'), 1);
    assert.deepEqual(s.activeIps(3), []);
    s.close();
  });

  it('keeps grants, sessions and positions across a reopen', () => {
    const path = join(dir, 'reopen.sqlite');
    const a = new SqliteStore(path);
    a.login(login('2001:db8::1', 0, 'dovecot:X'), 30 * MIN, 60 * MIN);
    a.setPosition('/var/log/mail.log', { dev: '1', ino: '2', fingerprint: 'f', offset: 123, line: 4 }, 0);
    a.close();
    const b = new SqliteStore(path);
    assert.deepEqual(b.activeIps(1), ['2001:db8::1']);
    assert.deepEqual(
      b.openSessions().map((x) => x.key),
      ['dovecot:X'],
    );
    assert.deepEqual(b.getPosition('/var/log/mail.log'), { dev: '1', ino: '2', fingerprint: 'f', offset: 123, line: 4 });
    b.close();
  });

  it('rolls a failed transaction back whole', () => {
    const s = fresh();
    assert.throws(() =>
      s.transaction(() => {
        s.login(login('192.0.2.8', 0), 30 * MIN, 60 * MIN);
        s.setPosition('x', { dev: '1', ino: '1', fingerprint: null, offset: 9, line: 1 }, 0);
        throw new Error('disk full');
      }),
    );
    assert.deepEqual(s.activeIps(1), []);
    assert.equal(s.getPosition('x'), null);
    s.close();
  });

  it('records the schema version, uses WAL, and refuses a newer schema', () => {
    const path = join(dir, 'version.sqlite');
    new SqliteStore(path).close();
    const db = new Database(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => new SqliteStore(path), /newer than this popgate/);
  });

  it('says where and what when the database cannot be opened', () => {
    writeFileSync(join(dir, 'afile'), 'not a directory');
    assert.throws(
      () => new SqliteStore(join(dir, 'afile', 'nope.sqlite')),
      (err: Error) => /afile\/nope\.sqlite: cannot open.*hint:/.test(err.message),
    );
  });
});
