// DNSBL end to end: the daemon asks a DNS server the test runs on loopback (never a real list).
// Listed → no grant, logged with zone and code; unlisted → grant; no answer → refused
// (dnsbl_fail = closed) within dnsbl_timeout, and the logins after it are not held up.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { dnsblQueryName } from '../../src/grants/dnsbl.js';
import { e2eSkip, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { loopbackAddress, pop3Login } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const ZONE = 'bl.popgate.test';
const skip = await e2eSkip();
const listed = loopbackAddress();
const silent = loopbackAddress();
let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer((name) => (name === dnsblQueryName(listed, ZONE) ? ['127.0.0.2'] : name === dnsblQueryName(silent, ZONE) ? 'drop' : 'nxdomain'));
});
after(async () => {
  await dns.close();
});
const esc = (s: string) => s.replace(/\./g, '\\.');

suiteNeeding('DNSBL against real Dovecot and Postfix, with a loopback DNS server', skip, () => {
  it('listed: no grant; unlisted: grant; timeout: refused (fail closed) without holding up the rest', async () => {
    const d = await startDaemon({ grace: '5m', dnsbl_zones: ZONE, dnsbl_servers: dns.address, dnsbl_timeout: '700ms' });
    const clean = loopbackAddress();
    const afterSilent = loopbackAddress();

    assert.ok(await pop3Login(listed, RIG.user, RIG.pass));
    assert.ok(await pop3Login(clean, RIG.user, RIG.pass));
    await waitFor('the unlisted login granted', () => mapLookup(clean) === 'OK', 3000);
    await waitFor('the listed login refused', () => new RegExp(`refused ${esc(listed)} .*listed in ${esc(ZONE)} \\(127\\.0\\.0\\.2\\)`).test(d.output()), 3000);
    assert.equal(mapLookup(listed), null);

    const t0 = Date.now();
    assert.ok(await pop3Login(silent, RIG.user, RIG.pass));
    assert.ok(await pop3Login(afterSilent, RIG.user, RIG.pass));
    await waitFor('the login after the silent one granted', () => mapLookup(afterSilent) === 'OK', 3000);
    const ms = Date.now() - t0;
    assert.match(d.output(), new RegExp(`refused ${esc(silent)} .*DNSBL ${esc(ZONE)} could not be checked \\(no answer within 700 ms\\); dnsbl_fail = closed`));
    assert.equal(mapLookup(silent), null);
    assert.ok(ms < 2500, `the pipeline waited at most about the timeout (${ms} ms)`);
    assert.ok(dns.queries.includes(dnsblQueryName(clean, ZONE)), 'the daemon asked the loopback server');
    process.stderr.write(`# dnsbl: login after an unanswered lookup granted after ${ms} ms (timeout 700 ms)\n`);
    await d.stop();
  });

  it('fail open grants when the list does not answer, and says so', async () => {
    const d = await startDaemon({ grace: '5m', dnsbl_zones: ZONE, dnsbl_servers: dns.address, dnsbl_timeout: '300ms', dnsbl_fail: 'open' });
    assert.ok(await pop3Login(silent, RIG.user, RIG.pass));
    await waitFor('granted despite no answer', () => mapLookup(silent) === 'OK', 3000);
    assert.match(d.output(), new RegExp(`warn: DNSBL ${esc(ZONE)} lookup for ${esc(silent)} failed \\(no answer within 300 ms\\); granted anyway`));
    await d.stop();
  });
});
