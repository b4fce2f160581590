// One conformance test for every live answerer (policy service, socketmap server): the same
// store and clock must give the same verdicts through either protocol, and no failure of the
// store, the brake or the input ever comes out as a grant.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import { applyBrake, releaseBrake } from '../../src/grants/brake.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import type { GrantLookup } from '../../src/publish/answer.js';
import { PolicyServer } from '../../src/publish/policy-server.js';
import type { Publisher } from '../../src/publish/publisher.js';
import { netstring, SocketmapServer } from '../../src/publish/socketmap-server.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

type Verdict = 'granted' | 'refused' | 'no answer' | 'try later';

interface Driver {
  name: string;
  make(store: GrantLookup, now: () => number): Publisher & { bound(): string };
  request(ip: string): string;
  verdict(reply: string): Verdict;
}

const DRIVERS: Driver[] = [
  {
    name: 'policy service',
    make: (store, now) => new PolicyServer({ address: { kind: 'inet', host: '127.0.0.1', port: 0 }, allowNonLoopback: false, store, action: 'OK', logger: memoryLogger().logger, now }),
    request: (ip) => `request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=${ip}\n\n`,
    verdict: (r) => (r === '' ? 'no answer' : r === 'action=OK\n\n' ? 'granted' : r === 'action=DUNNO\n\n' ? 'refused' : (assert.fail(`unexpected ${JSON.stringify(r)}`) as never)),
  },
  {
    name: 'socketmap',
    make: (store, now) => new SocketmapServer({ address: { kind: 'inet', host: '127.0.0.1', port: 0 }, allowNonLoopback: false, store, mapName: 'popgate', value: 'OK', logger: memoryLogger().logger, now }),
    request: (ip) => netstring(`popgate ${ip}`),
    verdict: (r) => (r === '' ? 'no answer' : r === '5:OK OK,' ? 'granted' : r === '9:NOTFOUND ,' ? 'refused' : /^\d+:TEMP /.test(r) ? 'try later' : (assert.fail(`unexpected ${JSON.stringify(r)}`) as never)),
  },
];

const T = 1_700_000_000_000;
const started: Publisher[] = [];
after(async () => {
  for (const p of started) await p.stop();
});

/** One request on a fresh connection; the reply, or '' when the server closed without one. */
function ask(d: Driver, addr: string, ip: string): Promise<Verdict> {
  const s = connect({ host: '127.0.0.1', port: Number(addr.split(':').pop()) });
  let got = '';
  return new Promise((resolve) => {
    const done = () => (s.destroy(), resolve(d.verdict(got)));
    s.on('data', (c) => {
      got += c.toString('latin1');
      if (got.endsWith('\n\n') || got.endsWith(',')) done();
    });
    s.on('error', () => {});
    s.on('close', done);
    s.on('connect', () => s.write(d.request(ip)));
  });
}

for (const d of DRIVERS) {
  describe(`live answers conformance: ${d.name}`, () => {
    it('granted, refused, canonical forms, not-an-address, expiry at the instant, revoke, brake', async () => {
      const store = new SqliteStore(':memory:');
      let now = T;
      const p = d.make(store, () => now);
      started.push(p);
      await p.start();
      const addr = p.bound();
      store.grantManual('192.0.2.10', T + 1000, T, 'test');
      store.grantManual('2001:db8::5', T + 1000, T, 'test');
      assert.equal(await ask(d, addr, '192.0.2.10'), 'granted');
      assert.equal(await ask(d, addr, '192.0.2.11'), 'refused');
      assert.equal(await ask(d, addr, '2001:DB8:0:0:0:0:0:5'), 'granted');
      assert.equal(await ask(d, addr, '::ffff:192.0.2.10'), 'granted');
      for (const junk of ['unknown', '192.0.2', '192.0.2.010', '[192.0.2.10]', '192.0.2.10 ', 'fe80::1%eth0']) assert.equal(await ask(d, addr, junk), 'refused', junk);
      now = T + 999;
      assert.equal(await ask(d, addr, '192.0.2.10'), 'granted');
      now = T + 1000;
      assert.equal(await ask(d, addr, '192.0.2.10'), 'refused', 'refused at expires_at');
      now = T;
      store.revoke('2001:db8::5', T, 'test');
      assert.equal(await ask(d, addr, '2001:db8::5'), 'refused', 'refused on the request after the revoke');
      applyBrake(store, T, 'test', 'conformance');
      store.grantManual('192.0.2.20', T + 1000, T, 'test');
      assert.equal(await ask(d, addr, '192.0.2.20'), 'refused', 'the brake refuses whatever the store holds');
      releaseBrake(store);
      assert.equal(await ask(d, addr, '192.0.2.20'), 'granted');
    });

    it('a store that fails never yields a grant', async () => {
      const broken: GrantLookup = { isGranted(): boolean { throw new StoreError('db', 'disk I/O error'); } };
      const p = d.make(broken, () => T);
      started.push(p);
      await p.start();
      assert.ok(['no answer', 'try later'].includes(await ask(d, p.bound(), '192.0.2.10')));
    });
  });
}
