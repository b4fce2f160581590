// The daemon's counters: rates over time slots, outcomes per batch, and the refusal reasons read
// from the very texts the exclusions, deny files, DNSBL and brake write (a reworded reason fails here).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Found } from '../../src/core/types.js';
import { DenyFiles } from '../../src/grants/deny-files.js';
import { Dnsbl } from '../../src/grants/dnsbl.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import type { Outcome } from '../../src/grants/granter.js';
import { BRAKE_ON } from '../../src/grants/view.js';
import { parseNetwork } from '../../src/net/ip.js';
import { DaemonStats, Rate, refusalKind } from '../../src/stats/counters.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('stats counters', () => {
  it('Rate: per second over whole slots, old slots forgotten', () => {
    const r = new Rate();
    r.add(T0, 600); // 600 lines in the first 10 s slot
    // At a slot's start the window's newest slot has just begun: it covers the 10 s before.
    assert.equal(r.perSecond(T0 + 10_000, 20_000), 60);
    assert.equal(r.perSecond(T0 + 15_000, 20_000), 600 / 15, 'half of the current slot counts as 5 s');
    r.add(T0 + 10_000, 300);
    assert.equal(r.perSecond(T0 + 20_000, 30_000), 900 / 20);
    assert.equal(r.perSecond(T0 + 400_000, 60_000), 0, 'five minutes later nothing is left');
    r.add(T0 + 400_000, 50);
    assert.equal(r.perSecond(T0 + 410_000, 20_000), 50 / 10, 'a reused slot starts from zero');
  });

  it('refusal kinds match the reasons the grant policy gives', () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-stats-'));
    const deny = join(dir, 'deny');
    writeFileSync(deny, '# bad\n203.0.113.0/24\n');
    const ex = new Exclusions([parseNetwork('10.0.0.0/8')!], [parseNetwork('192.0.2.0/24')!], new DenyFiles([deny]));
    const dnsbl = new Dnsbl({ zones: ['zen.example'], servers: [], timeoutMs: 100, failOpen: false, cacheMs: 0 });
    assert.equal(refusalKind(ex.refuse('10.1.2.3')!), 'excluded');
    assert.equal(refusalKind(ex.refuse('203.0.113.7')!), 'deny_file');
    assert.equal(refusalKind(ex.refuse('192.0.2.9')!), 'mynetworks');
    assert.equal(refusalKind(ex.refuse('0.0.0.0')!), 'never_client');
    assert.equal(refusalKind(ex.refuse('224.0.0.1')!), 'never_client');
    assert.equal(refusalKind(dnsbl.refusal({ kind: 'listed', zone: 'zen.example', code: '127.0.0.2' })!), 'dnsbl');
    assert.equal(refusalKind(dnsbl.refusal({ kind: 'failed', zone: 'zen.example', why: 'timeout' })!), 'dnsbl');
    assert.equal(refusalKind('DNSBL not checked'), 'dnsbl');
    assert.equal(refusalKind(BRAKE_ON), 'brake');
    assert.equal(refusalKind('something new'), 'other');
  });

  it('counts lines, the last line and the position per batch; events and outcomes per committed batch', () => {
    const s = new DaemonStats(T0);
    s.started('/var/log/mail.log', { dev: '1', ino: '2', fingerprint: null, offset: 100, line: 3 }, T0);
    const big = 'x'.repeat(1000);
    s.batch(
      '/var/log/mail.log',
      [
        { text: 'a', readAt: T0 + 1 },
        { text: big, readAt: T0 + 2 },
      ],
      { dev: '1', ino: '2', fingerprint: null, offset: 1200, line: 5 },
    );
    const log = s.logs.get('/var/log/mail.log')!;
    assert.deepEqual([log.lines, log.offset, log.startOffset, log.lastAt, log.lastLine!.length], [2, 1200, 100, T0 + 2, 300]);
    const found = (ip: string, event: 'login' | 'logout'): Found => ({
      event: { event, ip, user: 'alice', server: 'dovecot', protocol: 'imap', time: null, session: null, rule: 'r' },
      line: { text: '', origin: '/var/log/mail.log', lineNo: 1, readAt: T0, live: true },
    });
    const outs: Outcome[] = [
      { action: 'grant', ip: '198.51.100.1', before: null, after: T0 + 1 },
      { action: 'refused', why: 'in Postfix mynetworks (192.0.2.0/24), which relays already' },
      { action: 'logout', ip: '198.51.100.1', before: T0 + 1, after: T0 + 2 },
      { action: 'grant', ip: '198.51.100.3', before: null, after: T0 + 1, tripped: true },
    ];
    s.outcome('/var/log/mail.log', [found('198.51.100.1', 'login'), found('192.0.2.5', 'login'), found('198.51.100.1', 'logout'), found('198.51.100.3', 'login')], outs, T0);
    assert.deepEqual(s.events.get('dovecot'), { login: 3, logout: 1 });
    assert.equal(s.outcomes.grant, 2);
    assert.equal(s.outcomes.refused, 1);
    assert.equal(s.refusals.mynetworks, 1);
    assert.equal(s.trips, 1);
    assert.equal(log.logins, 3);
    let told = 0;
    s.onCaughtUp = () => told++;
    s.caughtUp('/var/log/mail.log', T0 + 5);
    s.caughtUp('/var/log/mail.log', T0 + 9);
    assert.deepEqual([told, log.caughtUpAt], [1, T0 + 5], 'caught up once');
  });
});
