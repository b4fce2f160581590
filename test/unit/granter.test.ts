import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthEvent, LogLine } from '../../src/core/types.js';
import { Granter } from '../../src/grants/granter.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { GrantView } from '../../src/grants/view.js';
import { parseNetwork } from '../../src/net/ip.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function rig() {
  const store = new SqliteStore(':memory:');
  const { logger, messages } = memoryLogger();
  const view = new GrantView(store, new Exclusions([parseNetwork('127.0.0.0/8')!], [parseNetwork('192.0.2.0/24')!]));
  const granter = new Granter(store, view, { graceMs: 30 * MIN, maxHoldMs: 60 * MIN }, logger);
  return { store, messages, granter, apply: (e: AuthEvent, l: LogLine, now: number) => granter.apply({ event: e, line: l }, now, null) };
}
const ev = (ip: string, time: number | null, extra: Partial<AuthEvent> = {}): AuthEvent => ({
  event: 'login',
  ip,
  user: 'alice',
  server: 'dovecot',
  protocol: 'pop3',
  time,
  session: null,
  rule: 'login',
  ...extra,
});
const line = (live: boolean, readAt = NOW): LogLine => ({ text: '', origin: '/var/log/mail.log', lineNo: 7, readAt, live });

describe('Granter', () => {
  it('counts a live line at the time it was read', () => {
    const { store, apply } = rig();
    assert.equal(apply(ev('198.51.100.1', NOW - 40 * MIN), line(true), NOW).action, 'grant');
    assert.equal(store.list(NOW)[0]!.expiresAt, NOW + 30 * MIN);
  });

  it('counts a backlog line at its own timestamp, and grants nothing older than the grace', () => {
    const { store, apply } = rig();
    assert.equal(apply(ev('198.51.100.2', NOW - 10 * MIN), line(false), NOW).action, 'grant');
    assert.equal(store.list(NOW)[0]!.expiresAt, NOW + 20 * MIN);
    assert.equal(apply(ev('198.51.100.3', NOW - 31 * MIN), line(false), NOW).action, 'stale');
    assert.equal(apply(ev('198.51.100.4', null), line(false), NOW).action, 'ignored');
    assert.deepEqual(store.activeIps(NOW), ['198.51.100.2']);
  });

  it('never trusts a timestamp in the future beyond now', () => {
    const { store, apply } = rig();
    apply(ev('198.51.100.5', NOW + 10 * 24 * 60 * MIN), line(false), NOW);
    assert.equal(store.list(NOW)[0]!.expiresAt, NOW + 30 * MIN);
  });

  it('refuses excluded networks, mynetworks and non-client addresses, and says why', () => {
    const { store, apply, messages } = rig();
    for (const ip of ['127.0.0.9', '192.0.2.44', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::']) {
      const out = apply(ev(ip, NOW), line(true), NOW);
      assert.equal(out.action, 'refused', ip);
    }
    assert.deepEqual(store.activeIps(NOW), []);
    assert.ok(messages.some((m) => /refused 192\.0\.2\.44 .*mynetworks/.test(m)));
    assert.ok(messages.some((m) => /refused 127\.0\.0\.9 .*excluded network 127\.0\.0\.0\/8/.test(m)));
  });

  it('logs one line per grant and renewal, naming the log line', () => {
    const { apply, messages } = rig();
    apply(ev('198.51.100.6', NOW), line(true), NOW);
    apply(ev('198.51.100.6', NOW), line(true, NOW + 1000), NOW + 1000);
    assert.deepEqual(
      messages.filter((m) => m.startsWith('info:')).map((m) => m.split(' ').slice(0, 3).join(' ')),
      ['info: grant 198.51.100.6', 'info: renew 198.51.100.6'],
    );
    assert.ok(messages[0]!.includes('/var/log/mail.log:7'));
  });

  it('starts the grace at the logout of an open session', () => {
    const { store, apply } = rig();
    apply(ev('198.51.100.7', NOW, { protocol: 'imap', session: 'dovecot:S' }), line(true), NOW);
    assert.equal(store.list(NOW)[0]!.expiresAt, NOW + 60 * MIN, 'held to max_hold while open');
    const out = apply(ev('198.51.100.7', NOW + 45 * MIN, { event: 'logout', session: 'dovecot:S' }), line(true, NOW + 45 * MIN), NOW + 45 * MIN);
    assert.equal(out.action, 'logout');
    assert.equal(store.list(NOW + 45 * MIN)[0]!.expiresAt, NOW + 75 * MIN);
  });

  it('with DNSBL verdicts, a login with none (exclusions changed during the lookup) is refused', () => {
    const { store, granter } = rig();
    const found = (ip: string) => ({ event: ev(ip, NOW), line: line(true) });
    const verdicts = new Map<string, string | null>([
      ['198.51.100.8', null],
      ['198.51.100.9', 'listed in zen.example (127.0.0.2)'],
    ]);
    assert.equal(granter.apply(found('198.51.100.8'), NOW, verdicts).action, 'grant');
    assert.deepEqual(granter.apply(found('198.51.100.9'), NOW, verdicts), { action: 'refused', why: 'listed in zen.example (127.0.0.2)' });
    assert.deepEqual(granter.apply(found('198.51.100.10'), NOW, verdicts), { action: 'refused', why: 'DNSBL not checked' });
    assert.deepEqual(store.activeIps(NOW), ['198.51.100.8']);
  });

  it('says what changed: before and after of the expiry, for the map and the expiry timer', () => {
    const { apply } = rig();
    const first = apply(ev('198.51.100.11', NOW), line(true), NOW);
    assert.deepEqual(first, { action: 'grant', ip: '198.51.100.11', before: null, after: NOW + 30 * MIN });
    const again = apply(ev('198.51.100.11', NOW), line(true, NOW + MIN), NOW + MIN);
    assert.deepEqual(again, { action: 'renew', ip: '198.51.100.11', before: NOW + 30 * MIN, after: NOW + 31 * MIN });
  });
});
