// The Prometheus metrics: names, labels and values copied from the daemon's counters at scrape
// time, the latency histogram fed by live answers, and the endpoint (loopback only, /metrics only).
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import type { Found } from '../../src/core/types.js';
import { Problems } from '../../src/core/logger.js';
import { popgateRegistry } from '../../src/metrics/registry.js';
import { MetricsServer } from '../../src/metrics/server.js';
import { DaemonStats } from '../../src/stats/counters.js';
import type { LiveCounters } from '../../src/stats/live.js';
import { freePort } from '../helpers/ports.js';

const found = (event: 'login' | 'logout'): Found => ({
  event: { event, ip: '198.51.100.1', user: 'u', server: 'dovecot', protocol: 'pop3', time: null, session: null, rule: 'r' },
  line: { text: '', origin: '/l', lineNo: 1, readAt: 0, live: true },
});

function inputs(brake: boolean) {
  const stats = new DaemonStats();
  stats.started('/var/log/mail.log', null);
  stats.batch(
    '/var/log/mail.log',
    [
      { text: 'a', readAt: Date.now() },
      { text: 'b', readAt: Date.now() },
    ],
    null,
  );
  stats.outcome(
    '/var/log/mail.log',
    [found('login'), found('login'), found('logout')],
    [
      { action: 'grant', ip: '198.51.100.1', before: null, after: 1 },
      { action: 'refused', why: 'emergency brake on' },
      { action: 'logout', ip: '198.51.100.1', before: 1, after: 2 },
    ],
  );
  const live = { kind: 'policy', name: 'policy inet:127.0.0.1:1', answers: { found: 4, notfound: 2, tempfail: 1, error: 0 }, observe: null } as unknown as LiveCounters;
  const store = { counts: () => ({ grants: 7, sessions: 3 }) };
  return { stats, store, brake: () => (brake ? { since: 1, by: 'auto', reason: 'r' } : null), publishers: [], live: [live], problems: new Problems() };
}

function fetchText(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    }).on('error', reject);
  });
}

describe('metrics', () => {
  it('exposes the counters under Prometheus names', async () => {
    const i = inputs(false);
    const text = await popgateRegistry(i).metrics();
    for (const line of [
      'popgate_lines_read_total{log="/var/log/mail.log"} 2',
      'popgate_events_total{server="dovecot",kind="login"} 2',
      'popgate_events_total{server="dovecot",kind="logout"} 1',
      'popgate_grants_total{kind="new"} 1',
      'popgate_grants_total{kind="renewed"} 0',
      'popgate_refusals_total{reason="brake"} 1',
      'popgate_live_requests_total{server="policy",answer="found"} 4',
      'popgate_live_requests_total{server="policy",answer="tempfail"} 1',
      'popgate_active_grants 7',
      'popgate_open_sessions 3',
      'popgate_brake 0',
      '# TYPE popgate_grants_total counter',
      '# TYPE popgate_live_request_seconds histogram',
    ]) {
      assert.ok(text.includes(`${line}\n`), `missing: ${line}`);
    }
    assert.doesNotMatch(text, /popgate_map_build_seconds \d/, 'no map, no map gauges');
    assert.match(text, /^process_resident_memory_bytes \d+/m);
  });

  it('the brake zeroes the active grants; live answers feed the histogram as they come', async () => {
    const i = inputs(true);
    const reg = popgateRegistry(i);
    i.live[0]!.observe!('found', 0.0002);
    i.live[0]!.observe!('notfound', 0.02);
    const text = await reg.metrics();
    assert.ok(text.includes('popgate_brake 1\n'));
    assert.ok(text.includes('popgate_active_grants 0\n'));
    assert.ok(text.includes('popgate_live_request_seconds_bucket{le="0.00025",server="policy"} 1\n'), text);
    assert.ok(text.includes('popgate_live_request_seconds_count{server="policy"} 2\n'));
  });

  it('serves /metrics on loopback only, and nothing else', async () => {
    const reg = popgateRegistry(inputs(false));
    await assert.rejects(new MetricsServer({ kind: 'inet', host: '192.0.2.1', port: 9187 }, reg).start(), /metrics inet:192\.0\.2\.1:9187: 192\.0\.2\.1 is not a loopback address; hint: /);
    const port = await freePort();
    const m = new MetricsServer({ kind: 'inet', host: '127.0.0.1', port }, reg);
    await m.start();
    try {
      const ok = await fetchText(`http://127.0.0.1:${port}/metrics`);
      assert.equal(ok.status, 200);
      assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
      assert.match(ok.body, /^popgate_active_grants 7$/m);
      assert.equal((await fetchText(`http://127.0.0.1:${port}/`)).status, 404);
      await assert.rejects(new MetricsServer({ kind: 'inet', host: '127.0.0.1', port }, reg).start(), /cannot listen .*; hint: pick a free port/);
    } finally {
      await m.stop();
    }
  });
});
