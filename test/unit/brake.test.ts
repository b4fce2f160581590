// Emergency brake: state in the store, revoking and refusing while on, release; the automatic
// brake's rate guard (over all logs and per log, by event time) and its loud log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration } from '../../src/config/schema.js';
import type { AuthEvent, LogLine } from '../../src/core/types.js';
import { applyBrake, BRAKE_KEY, brakeState, releaseBrake } from '../../src/grants/brake.js';
import { Granter } from '../../src/grants/granter.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import { parseRate, RateGuard } from '../../src/grants/rate-guard.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { MapContent } from '../../src/publish/map-content.js';
import { GrantView } from '../../src/grants/view.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const ev = (ip: string, time: number | null = null): AuthEvent => ({ event: 'login', ip, user: 'alice', server: 'dovecot', protocol: 'pop3', time, session: null, rule: 'login' });
const line = (n: number, readAt = NOW, origin = '/var/log/mail.log', live = true): LogLine => ({ text: `login line ${n}`, origin, lineNo: n, readAt, live });
const rate = (t: string) => parseRate(t, duration);

function rig(guard: RateGuard | null = null) {
  const store = new SqliteStore(':memory:');
  const { logger, messages } = memoryLogger();
  const view = new GrantView(store, new Exclusions([], []));
  const g = new Granter(store, view, { graceMs: 30 * MIN, maxHoldMs: 60 * MIN, guard }, logger);
  const granter = { apply: (e: AuthEvent, l: LogLine, now: number) => g.apply({ event: e, line: l }, now, null) };
  return { store, granter, messages, view };
}

describe('emergency brake', () => {
  it('revokes every grant, refuses logins while on, and release resumes', () => {
    const { store, granter, messages } = rig();
    granter.apply(ev('198.51.100.1'), line(1), NOW);
    store.grantManual('198.51.100.2', NOW + MIN, NOW, 'cli:test');
    assert.equal(store.activeIps(NOW).length, 2);
    const r = applyBrake(store, NOW, 'cli:test', 'testing');
    assert.deepEqual(r, { revoked: 2, already: null });
    assert.deepEqual(store.activeIps(NOW), []);
    assert.deepEqual(brakeState(store), { since: NOW, by: 'cli:test', reason: 'testing' });
    const out = granter.apply(ev('198.51.100.3'), line(2), NOW);
    assert.deepEqual(out, { action: 'refused', why: 'emergency brake on' });
    assert.deepEqual(store.activeIps(NOW), []);
    assert.ok(messages.some((m) => /^warn: refused 198\.51\.100\.3 .*emergency brake on/.test(m)));
    assert.equal(applyBrake(store, NOW + 5, 'auto', 'again').already?.reason, 'testing', 'a second brake keeps the first');
    assert.equal(releaseBrake(store, NOW, 'cli:test')?.by, 'cli:test');
    assert.equal(brakeState(store), null);
    assert.equal(releaseBrake(store, NOW, 'cli:test'), null);
    assert.equal(granter.apply(ev('198.51.100.3'), line(3), NOW).action, 'grant');
  });

  it('live answers say "not granted" while the brake is on, even for a grant still stored', () => {
    const { store, view } = rig();
    store.grantManual('198.51.100.7', NOW + MIN, NOW, 'cli:test');
    assert.deepEqual(view.lookup('198.51.100.7', NOW), { kind: 'found' });
    store.setState(BRAKE_KEY, JSON.stringify({ since: NOW, by: 'test', reason: 'x' }));
    assert.equal(store.isGranted('198.51.100.7', NOW), true, 'the row is there');
    assert.deepEqual(view.lookup('198.51.100.7', NOW), { kind: 'notfound' });
    const map = new MapContent();
    view.mapText(NOW, 'OK', map);
    assert.equal(map.toString(), '', 'the map is empty too');
    releaseBrake(store, NOW, 'cli:test');
    assert.deepEqual(view.lookup('198.51.100.7', NOW), { kind: 'found' });
    assert.ok(
      store.audit(null, 5).some((a) => a.action === 'release' && a.detail?.startsWith('cli:test')),
      'the release is in the audit trail',
    );
  });

  it('an unreadable brake state counts as on', () => {
    const { store } = rig();
    store.setState(BRAKE_KEY, 'garbage{');
    assert.match(brakeState(store)!.reason, /unreadable/);
  });

  it('survives closing and reopening the database', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = `${mkdtempSync(`${tmpdir()}/popgate-brake-`)}/db.sqlite`;
    const a = new SqliteStore(path);
    applyBrake(a, NOW, 'cli:test', 'persist');
    a.close();
    const b = new SqliteStore(path);
    assert.equal(brakeState(b)?.reason, 'persist');
    b.close();
  });
});

describe('automatic brake', () => {
  it('parses N/DURATION and none', () => {
    assert.deepEqual(rate('300/1m'), { count: 300, perMs: 60_000, text: '300/1m' });
    assert.equal(rate('none'), null);
    assert.throws(() => rate('300'), /not a rate/);
    assert.throws(() => rate('0/1m'), /at least 1/);
  });

  it('trips over all logs when the total passes the limit within the window, not below', () => {
    const g = new RateGuard({ total: rate('5/1m'), perSource: null });
    for (let i = 0; i < 5; i++) assert.equal(g.record(NOW + i * 10_000, 'a', `a:${i}`, `l${i}`), null);
    // The sixth comes 61 s after the first: the window holds only five.
    assert.equal(g.record(NOW + 61_000, 'b', 'b:1', 'x'), null);
    const trip = g.record(NOW + 62_000, 'b', 'b:2', 'y');
    assert.ok(trip);
    assert.match(trip.reason, /^6 new grants within \d+ s over all logs, limit 5\/1m$/);
    assert.ok(trip.lines.some((l) => l === 'b:2: y'));
  });

  it('trips for one log on its own, and other logs keep their own count', () => {
    const g = new RateGuard({ total: null, perSource: rate('3/5s') });
    for (let i = 0; i < 3; i++) assert.equal(g.record(NOW + i, 'a (dovecot)', `a:${i}`, 'x'), null);
    for (let i = 0; i < 3; i++) assert.equal(g.record(NOW + i, 'b (courier)', `b:${i}`, 'x'), null);
    assert.match(g.record(NOW + 10, 'a (dovecot)', 'a:9', 'x')!.reason, /^4 new grants within 10 ms from a \(dovecot\), limit 3\/5s per log and parser$/);
  });

  it('counts by event time: a backlog read at once does not trip when it was logged slowly', () => {
    const g = new RateGuard({ total: rate('10/1m'), perSource: rate('5/5s') });
    for (let i = 0; i < 100; i++) assert.equal(g.record(NOW + i * 10_000, 'a', `a:${i}`, 'x'), null);
  });

  it('the granter applies it: every grant revoked in the same batch, logged at error with the lines', () => {
    const { store, granter, messages } = rig(new RateGuard({ total: null, perSource: rate('3/10s') }));
    const outs = [];
    for (let i = 1; i <= 6; i++) outs.push(store.transaction(() => granter.apply(ev(`198.51.100.${i}`), line(i, NOW + i), NOW + i)).action);
    assert.deepEqual(outs, ['grant', 'grant', 'grant', 'grant', 'refused', 'refused']);
    assert.deepEqual(store.activeIps(NOW + 10), []);
    assert.equal(brakeState(store)?.by, 'auto');
    const errors = messages.filter((m) => m.startsWith('error:'));
    assert.match(errors[0]!, /EMERGENCY BRAKE applied automatically: 4 new grants within 3 ms from \/var\/log\/mail\.log \(dovecot\).*4 grant\(s\) revoked/);
    assert.ok(
      errors.some((m) => m.includes('/var/log/mail.log:4: login line 4')),
      'the tripping line is shown',
    );
  });

  it('a cold start reads a busy backlog without tripping; a live storm of strangers still trips', () => {
    const { store, granter } = rig(new RateGuard({ total: rate('300/1m'), perSource: rate('100/5s') }));
    // 400 addresses within 50 s of log time, read as a backlog at start.
    for (let i = 0; i < 400; i++) granter.apply(ev(`198.18.${i >> 8}.${i & 255}`, NOW - 50_000 + i * 125), line(i, NOW, 'mail.log', false), NOW);
    assert.equal(brakeState(store), null, 'a backlog never trips the automatic brake');
    assert.equal(store.activeIps(NOW).length, 400);
    store.flush(NOW, 'cli:test');
    // The same users come back live after the flush: known addresses, not a storm.
    for (let i = 0; i < 400; i++) granter.apply(ev(`198.18.${i >> 8}.${i & 255}`), line(i, NOW + 1000 + i), NOW + 1000 + i);
    assert.equal(brakeState(store), null, 'addresses granted within 30 days do not count');
    // Strangers, live, 150 within 5 s: that is the storm the brake is for.
    const outs = [];
    for (let i = 0; i < 150; i++) outs.push(granter.apply(ev(`198.19.0.${i}`), line(i, NOW + 2000 + i), NOW + 2000 + i).action);
    assert.equal(brakeState(store)?.by, 'auto');
    assert.ok(outs.includes('refused'));
  });

  it('renewals do not count', () => {
    const { store, granter } = rig(new RateGuard({ total: null, perSource: rate('2/10s') }));
    for (let i = 0; i < 10; i++) granter.apply(ev('198.51.100.1'), line(i, NOW + i), NOW + i);
    assert.equal(brakeState(store), null);
  });
});
