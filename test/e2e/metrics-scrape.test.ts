// Metrics scraped over HTTP from a daemon on the real rig: a POP3 login and a relay check through
// the policy service move the counters Prometheus would alert on.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { it } from 'node:test';
import { e2eSkip, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress, pop3Login, smtpRcpt } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/ports.js';

const skip = await e2eSkip();
const POLICY_PORT = 2526;

/** Scrapes /metrics and returns each sample by its name and labels, as written. */
function scrape(port: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/metrics`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        const samples = new Map<string, number>();
        for (const line of body.split('\n')) {
          const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
          if (m) samples.set(m[1]!, Number(m[2]));
        }
        resolve(samples);
      });
    }).on('error', reject);
  });
}

suiteNeeding('metrics against real Dovecot and Postfix', skip, () => {
  it('a login and a policy check move their counters', async () => {
    const port = await freePort();
    const d = await startDaemon({ grace: '5m', metrics: `inet:127.0.0.1:${port}`, policy: 'unix:/var/spool/postfix/private/popgate-policy' });
    const before = await scrape(port);
    const src = loopbackAddress();
    assert.ok(await pop3Login(src, RIG.user, RIG.pass));
    await waitFor('granted', () => mapLookup(src) === 'OK', 3000);
    assert.match(await smtpRcpt(src, POLICY_PORT), /^250/);
    const after = await scrape(port);
    const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.ok(moved(`popgate_lines_read_total{log="${RIG.dovecotLog}"}`) >= 1);
    assert.ok(moved('popgate_events_total{server="dovecot",kind="login"}') >= 1);
    assert.equal(moved('popgate_grants_total{kind="new"}'), 1);
    assert.ok(moved('popgate_map_builds_total') >= 1);
    assert.ok(moved('popgate_live_requests_total{server="policy",answer="found"}') >= 1);
    assert.ok(moved('popgate_live_request_seconds_count{server="policy"}') >= 1);
    assert.ok((after.get('popgate_active_grants') ?? 0) >= 1);
    assert.equal(after.get('popgate_brake'), 0);
    assert.equal(after.get(`popgate_log_bytes_behind{log="${RIG.dovecotLog}"}`), 0);
    assert.ok((after.get('popgate_map_age_seconds') ?? Infinity) < 60);
    await d.stop();
  });
});
