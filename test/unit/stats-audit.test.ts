// The audit trail behind `popgate history`: refusals with their reason and log line, logouts,
// the brake's refusals one in 100, queries by address, user and time, the origin column's
// migration, and retention in bounded batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AuthEvent, LogLine } from '../../src/core/types.js';
import { AuditRetention, PRUNE_BATCH } from '../../src/daemon/audit-retention.js';
import { applyBrake } from '../../src/grants/brake.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import { Granter } from '../../src/grants/granter.js';
import { migrate, MIGRATIONS } from '../../src/grants/schema.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { GrantView } from '../../src/grants/view.js';
import { parseNetwork } from '../../src/net/ip.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

function rig() {
  const store = new SqliteStore(':memory:');
  const { logger, messages } = memoryLogger();
  const view = new GrantView(store, new Exclusions([parseNetwork('10.0.0.0/8')!], []));
  const granter = new Granter(store, view, { graceMs: 30 * MIN, maxHoldMs: 60 * MIN }, logger);
  const line = (lineNo: number): LogLine => ({ text: '', origin: '/var/log/mail.log', lineNo, readAt: NOW, live: true });
  const ev = (event: 'login' | 'logout', ip: string, user: string, session: string | null = null): AuthEvent => ({
    event,
    ip,
    user,
    server: 'dovecot',
    protocol: 'imap',
    time: NOW,
    session,
    rule: 'r',
  });
  const apply = (e: AuthEvent, n: number) => granter.apply({ event: e, line: line(n) }, NOW, null);
  return { store, messages, apply, ev, logger };
}

describe('audit trail', () => {
  it('records grants, logouts and refusals with server, protocol, log line and reason', () => {
    const { store, apply, ev } = rig();
    apply(ev('login', '198.51.100.1', 'alice', 's1'), 11);
    apply(ev('logout', '198.51.100.1', 'alice', 's1'), 12);
    apply(ev('login', '10.1.2.3', 'bob'), 13);
    const rows = store.history({ limit: 10 });
    assert.deepEqual(
      rows.map((r) => [r.action, r.ip, r.user, r.server, r.protocol, r.origin, r.detail]),
      [
        ['grant', '198.51.100.1', 'alice', 'dovecot', 'imap', '/var/log/mail.log:11', null],
        ['logout', '198.51.100.1', 'alice', 'dovecot', 'imap', '/var/log/mail.log:12', null],
        ['refuse', '10.1.2.3', 'bob', 'dovecot', 'imap', '/var/log/mail.log:13', 'in excluded network 10.0.0.0/8'],
      ],
    );
  });

  it('behind the brake records one refusal in 100, with the count', () => {
    const { store, apply, ev } = rig();
    applyBrake(store, NOW, 'cli:root', 'test');
    for (let i = 0; i < 250; i++) apply(ev('login', `198.51.100.${i % 200}`, 'storm'), 100 + i);
    const refusals = store.history({ actions: ['refuse'], limit: 1000 });
    assert.equal(refusals.length, 3);
    assert.match(refusals[2]!.detail!, /^emergency brake on \(201 login\(s\) refused so far\)$/);
    assert.equal(store.history({ limit: 1000 }).filter((r) => r.action === 'flush' && r.detail?.startsWith('brake (cli:root)')).length, 1);
  });

  it('history filters by address, user, time and action; newest rows, oldest first', () => {
    const { store } = rig();
    const ctx = (user: string) => ({ user, server: 'dovecot', protocol: 'pop3' as const, origin: 'f:1' });
    for (let i = 0; i < 10; i++) store.note(NOW + i * MIN, 'refuse', `198.51.100.${i % 2}`, 'why', ctx(i % 2 ? 'bob' : 'alice'));
    assert.deepEqual(
      store.history({ ip: '198.51.100.1', limit: 2 }).map((r) => r.at),
      [NOW + 7 * MIN, NOW + 9 * MIN],
    );
    assert.equal(store.history({ user: 'alice', limit: 100 }).length, 5);
    assert.equal(store.history({ since: NOW + 8 * MIN, limit: 100 }).length, 2);
    assert.equal(store.history({ actions: ['grant'], limit: 100 }).length, 0);
  });

  it('migration 4 moves the log line of old login rows into origin', () => {
    const db = new Database(':memory:');
    for (let v = 0; v < 3; v++) db.exec(MIGRATIONS[v]!);
    db.pragma('user_version = 3');
    const ins = db.prepare('INSERT INTO audit (at, action, ip, user, server, protocol, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    ins.run(NOW, 'grant', '198.51.100.1', 'alice', 'dovecot', 'pop3', '/var/log/mail.log:7');
    ins.run(NOW, 'grant', '198.51.100.2', null, null, null, 'cli:root');
    migrate(db);
    assert.deepEqual(db.prepare('SELECT origin, detail FROM audit ORDER BY id').all(), [
      { origin: '/var/log/mail.log:7', detail: null },
      { origin: null, detail: 'cli:root' },
    ]);
  });

  it('retention deletes rows older than audit_keep in batches, keeps the rest', async () => {
    const { store, logger } = rig();
    for (let i = 0; i < 2 * PRUNE_BATCH + 500; i++) store.note(NOW - 100 * 86_400_000 + i, 'refuse', '198.51.100.1', 'old', undefined);
    store.note(NOW - 86_400_000, 'refuse', '198.51.100.1', 'young', undefined);
    let transactions = 0;
    const counting = { pruneAudit: store.pruneAudit.bind(store), transaction: <T>(fn: () => T) => (transactions++, store.transaction(fn)) };
    const r = new AuditRetention(counting, () => 90 * 86_400_000, logger);
    assert.equal(await r.prune(NOW), 2 * PRUNE_BATCH + 500);
    assert.equal(transactions, 3, 'one short transaction per batch');
    assert.deepEqual(
      store.history({ limit: 10 }).map((e) => e.detail),
      ['young'],
    );
    assert.equal(await new AuditRetention(store, () => 0, logger).prune(NOW + 1e12), 0, 'audit_keep = forever');
  });
});
