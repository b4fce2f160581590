// Catch-up progress lines: bytes and share read, lines/s, time left; the totals once caught up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caughtUpLine, progressLine } from '../../src/daemon/progress.js';
import { DaemonStats } from '../../src/stats/counters.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const MB = 1048576;

describe('catch-up progress', () => {
  it('says how far, how fast and how long still', () => {
    const s = new DaemonStats(T0);
    s.started('/var/log/mail.log', { dev: '1', ino: '2', fingerprint: null, offset: 10 * MB, line: 1 }, T0);
    const log = s.logs.get('/var/log/mail.log')!;
    s.batch(
      '/var/log/mail.log',
      Array.from({ length: 50_000 }, () => ({ text: 'x', readAt: T0 + 5000 })),
      { dev: '1', ino: '2', fingerprint: null, offset: 30 * MB, line: 9 },
    );
    // 20 MB in 5 s: 4 MB/s, 70 MB left → about 18 s.
    assert.equal(progressLine(log, 100 * MB, T0 + 5000), '/var/log/mail.log: catching up, 30.0 MB of 100.0 MB read (30%), 10,000 lines/s, about 18 s left');
    assert.equal(progressLine({ ...log, path: '-' }, null, T0 + 5000), null, 'standard input has no size');
    assert.equal(caughtUpLine(log, T0 + 5000), '/var/log/mail.log: caught up, 50,000 lines (20.0 MB) in 5.0 s, 10,000 lines/s, 0 login(s)');
  });
});
