import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIp, isNeverClient, parseNetwork } from '../../src/net/ip.js';

describe('canonicalIp', () => {
  const cases: [string, string | null][] = [
    ['192.0.2.10', '192.0.2.10'],
    ['::ffff:192.0.2.10', '192.0.2.10'],
    ['::FFFF:192.0.2.10', '192.0.2.10'],
    ['2001:0DB8:0001:0002:0000:0000:0000:0005', '2001:db8:1:2::5'],
    ['2001:db8:0:0:1::5', '2001:db8::1:0:0:5'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::1', '::1'],
    ['fe80::1%eth0', null],
    ['192.0.2', null],
    ['01.2.3.4', null],
    ['256.1.1.1', null],
    ['0x7f.0.0.1', null],
    [' 192.0.2.10', null],
    ['[2001:db8::1]', null],
    ['unknown', null],
    ['', null],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want}`, () => assert.equal(canonicalIp(input), want));
  }
});

describe('parseNetwork', () => {
  it('matches IPv4 and IPv6 networks, Postfix bracket syntax included', () => {
    assert.ok(parseNetwork('127.0.0.0/8')!.contains('127.9.9.9'));
    assert.ok(!parseNetwork('127.0.0.1/32')!.contains('127.0.0.2'));
    assert.ok(parseNetwork('[::1]/128')!.contains('::1'));
    assert.ok(parseNetwork('2001:db8::/32')!.contains('2001:db8:ffff::1'));
    assert.ok(!parseNetwork('2001:db8::/32')!.contains('192.0.2.1'));
    assert.ok(parseNetwork('192.0.2.7')!.contains('192.0.2.7'));
  });
  it('turns an IPv4-mapped network into its IPv4 network', () => {
    const n = parseNetwork('[::ffff:127.0.0.0]/104')!;
    assert.ok(n.contains('127.1.2.3'));
    assert.ok(!n.contains('128.0.0.1'));
  });
  it('rejects what is not a network', () => {
    for (const bad of ['host.example', '10.0.0.0/33', '::/129', '1.2.3/24', '[::ffff:1.2.3.4]/64']) assert.equal(parseNetwork(bad), null, bad);
  });
});

describe('isNeverClient', () => {
  it('names unspecified, broadcast and multicast addresses', () => {
    for (const ip of ['0.0.0.0', '::', '255.255.255.255', '224.0.0.1', 'ff02::1']) assert.ok(isNeverClient(ip), ip);
    for (const ip of ['192.0.2.1', '2001:db8::1']) assert.equal(isNeverClient(ip), null, ip);
  });
});
