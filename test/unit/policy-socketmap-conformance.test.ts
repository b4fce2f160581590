// One conformance test for every live answerer (policy service, socketmap server): the same
// grant lookup must give the same verdicts through either protocol, the key reaches the lookup
// exactly as Postfix sent it, and a lookup that cannot answer never comes out as a grant.
// Canonical forms, expiry and the brake are the lookup's job (grants/lookup.ts), tested there.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import { FOUND, NOTFOUND, type GrantLookup, type Lookup } from '../../src/grants/lookup.js';
import { PolicyServer } from '../../src/publish/policy-server.js';
import type { Publisher } from '../../src/publish/publisher.js';
import { SocketmapServer } from '../../src/publish/socketmap-server.js';
import { encodeNetstring } from '../../src/wire/netstring.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

type Verdict = 'granted' | 'refused' | 'no answer' | 'try later';

interface Driver {
  name: string;
  make(lookup: GrantLookup, now: () => number): Publisher & { bound(): string };
  request(key: string): string;
  verdict(reply: string): Verdict;
}

const INET = { kind: 'inet', host: '127.0.0.1', port: 0 } as const;
const DRIVERS: Driver[] = [
  {
    name: 'policy service',
    make: (lookup, now) => new PolicyServer({ address: INET, allowNonLoopback: false, lookup, action: 'OK', logger: memoryLogger().logger, now }),
    request: (key) => `request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=${key}\n\n`,
    verdict: (r) => (r === '' ? 'no answer' : r === 'action=OK\n\n' ? 'granted' : r === 'action=DUNNO\n\n' ? 'refused' : (assert.fail(`unexpected ${JSON.stringify(r)}`) as never)),
  },
  {
    name: 'socketmap',
    make: (lookup, now) => new SocketmapServer({ address: INET, allowNonLoopback: false, lookup, mapName: 'popgate', value: 'OK', logger: memoryLogger().logger, now }),
    request: (key) => encodeNetstring(`popgate ${key}`),
    verdict: (r) =>
      r === '' ? 'no answer' : r === '5:OK OK,' ? 'granted' : r === '9:NOTFOUND ,' ? 'refused' : /^\d+:TEMP /.test(r) ? 'try later' : (assert.fail(`unexpected ${JSON.stringify(r)}`) as never),
  },
];

/** A lookup over exact keys with their expiry, recording what it was asked. */
function table(grants: Record<string, number>, outcome?: (key: string) => Lookup) {
  const asked: [string, number][] = [];
  const lookup: GrantLookup = {
    lookup(key, now) {
      asked.push([key, now]);
      if (outcome) return outcome(key);
      return Object.hasOwn(grants, key) && now < grants[key]! ? FOUND : NOTFOUND;
    },
  };
  return { lookup, asked };
}

const T = 1_700_000_000_000;
const started: Publisher[] = [];
after(async () => {
  for (const p of started) await p.stop();
});

/** One request on a fresh connection; the reply, or '' when the server closed without one. */
function ask(d: Driver, addr: string, key: string): Promise<Verdict> {
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
    s.on('connect', () => s.write(d.request(key)));
  });
}

async function serve(d: Driver, lookup: GrantLookup, now: () => number = () => T) {
  const p = d.make(lookup, now);
  started.push(p);
  await p.start();
  return p.bound();
}

for (const d of DRIVERS) {
  describe(`live answers conformance: ${d.name}`, () => {
    it('found is granted, not found refused; the key and the clock reach the lookup unchanged', async () => {
      let now = T;
      const t = table({ '192.0.2.10': T + 1000, '2001:DB8::5': T + 1000 });
      const addr = await serve(d, t.lookup, () => now);
      assert.equal(await ask(d, addr, '192.0.2.10'), 'granted');
      assert.equal(await ask(d, addr, '192.0.2.11'), 'refused');
      assert.equal(await ask(d, addr, '2001:DB8::5'), 'granted');
      now = T + 1000;
      assert.equal(await ask(d, addr, '192.0.2.10'), 'refused', 'the lookup is asked at the time of the request');
      assert.deepEqual(t.asked, [
        ['192.0.2.10', T],
        ['192.0.2.11', T],
        ['2001:DB8::5', T],
        ['192.0.2.10', T + 1000],
      ]);
    });

    it('junk keys are refused and never trimmed or rewritten into a granted one', async () => {
      const t = table({ '192.0.2.10': Infinity });
      const addr = await serve(d, t.lookup);
      const junk = ['unknown', '', ' 192.0.2.10', '192.0.2.10 ', '[192.0.2.10]', '192.0.2.10,', '192.0.2.10=1', `192.0.2.10${'0'.repeat(200)}`, 'ä192.0.2.10'];
      for (const key of junk) assert.equal(await ask(d, addr, key), 'refused', JSON.stringify(key));
      assert.ok(
        t.asked.every(([k]) => k !== '192.0.2.10'),
        `asked ${JSON.stringify(t.asked.map(([k]) => k))}`,
      );
    });

    it('a lookup that cannot answer, or throws, never yields a grant', async () => {
      const temp = await serve(d, table({}, () => ({ kind: 'tempfail', why: 'database is locked' })).lookup);
      assert.ok(['no answer', 'try later'].includes(await ask(d, temp, '192.0.2.10')));
      const broken: GrantLookup = {
        lookup: () => {
          throw new StoreError('db', 'disk I/O error');
        },
      };
      const thrown = await serve(d, broken);
      assert.ok(['no answer', 'try later'].includes(await ask(d, thrown, '192.0.2.10')));
    });
  });
}
