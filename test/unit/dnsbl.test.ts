// DNSBL: query names, listed / not listed / timeout / refused answers against a DNS server on
// loopback, fail-open and fail-closed, the per-IP cache and shared lookups.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dnsbl, dnsblQueryName } from '../../src/grants/dnsbl.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const ZONE = 'bl.popgate.test';
const LISTED = '192.0.2.99';
const LISTED6 = '2001:db8::99';
const SLOW = '192.0.2.98';
const REFUSED = '192.0.2.97';
const FAILING = '192.0.2.96';

describe('DNSBL', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer((name) => {
      if (name === dnsblQueryName(LISTED, ZONE) || name === dnsblQueryName(LISTED6, ZONE)) return ['127.0.0.2', '127.0.0.4'];
      if (name === dnsblQueryName(SLOW, ZONE)) return 'drop';
      if (name === dnsblQueryName(REFUSED, ZONE)) return ['127.255.255.254'];
      if (name === dnsblQueryName(FAILING, ZONE)) return 'servfail';
      return 'nxdomain';
    });
  });
  after(() => dns.close());
  const make = (extra: Partial<ConstructorParameters<typeof Dnsbl>[0]> = {}) => new Dnsbl({ zones: [ZONE], servers: [dns.address], timeoutMs: 300, failOpen: false, cacheMs: 60_000, ...extra });

  it('builds reversed-octet and reversed-nibble names', () => {
    assert.equal(dnsblQueryName('192.0.2.99', 'zen.spamhaus.org'), '99.2.0.192.zen.spamhaus.org');
    assert.equal(dnsblQueryName('2001:db8::1', 'zen.spamhaus.org'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org');
  });

  it('a listed address is refused with the zone and the returned codes', async () => {
    const d = make();
    const v = await d.check(LISTED);
    assert.deepEqual(v, { kind: 'listed', zone: ZONE, code: '127.0.0.2,127.0.0.4' });
    assert.equal(d.refusal(v), `listed in ${ZONE} (127.0.0.2,127.0.0.4)`);
    assert.equal((await d.check(LISTED6)).kind, 'listed', 'IPv6 by nibbles');
  });

  it('an unlisted address passes, and the answer is cached', async () => {
    const d = make();
    const v = await d.check('192.0.2.1');
    assert.deepEqual(v, { kind: 'clean' });
    assert.equal(d.refusal(v), null);
    const before = dns.queries.length;
    await d.check('192.0.2.1');
    assert.equal(dns.queries.length, before, 'the second check came from the cache');
  });

  it('a timeout never hangs: it fails within the bound, closed refuses and open grants', async () => {
    const closed = make();
    const t0 = Date.now();
    const v = await closed.check(SLOW);
    const took = Date.now() - t0;
    assert.equal(v.kind, 'failed');
    assert.ok(took < 1000, `bounded (${took} ms)`);
    assert.match(closed.refusal(v)!, /could not be checked.*dnsbl_fail = closed/);
    const open = make({ failOpen: true });
    assert.equal(open.refusal(await open.check(SLOW)), null);
  });

  it('SERVFAIL and a "query refused" code are failures, not listings, and are not cached', async () => {
    const d = make();
    const r = await d.check(REFUSED);
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.why : '', /refused the query \(127\.255\.255\.254\)/);
    assert.equal((await d.check(FAILING)).kind, 'failed');
    const n = dns.queries.length;
    await d.check(FAILING);
    assert.ok(dns.queries.length > n, 'a failure is asked again');
  });

  it('lookups of one address in flight are shared', async () => {
    const d = make();
    const n = dns.queries.length;
    await Promise.all([d.check('192.0.2.50'), d.check('192.0.2.50'), d.check('192.0.2.50')]);
    assert.equal(dns.queries.length - n, 1);
  });

  it('a resolver nobody answers on fails within the bound', async () => {
    const d = new Dnsbl({ zones: [ZONE], servers: ['127.0.0.1:9'], timeoutMs: 300, failOpen: false, cacheMs: 1000 });
    const t0 = Date.now();
    assert.equal((await d.check('192.0.2.60')).kind, 'failed');
    assert.ok(Date.now() - t0 < 1000);
  });
});
