// Policy request framing without sockets: the same requests however the bytes are cut,
// duplicates reported, limits on bytes and attributes, junk lines refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Frame } from '../../src/wire/decoder.js';
import { PolicyRequestParser, type PolicyRequest } from '../../src/wire/policy-request.js';

const LIMITS = { maxRequestBytes: 200, maxAttributes: 5 };

function run(chunks: Buffer[], limits = LIMITS) {
  const p = new PolicyRequestParser(limits);
  const requests: { attrs: Record<string, string>; duplicates: string[] }[] = [];
  for (const c of chunks) {
    p.push(c);
    for (let f: Frame<PolicyRequest>; (f = p.next()).kind !== 'more'; ) {
      if (f.kind === 'error') return { requests, error: f.why, idle: p.idle };
      requests.push({ attrs: Object.fromEntries(f.value.attrs), duplicates: f.value.duplicates });
    }
  }
  return { requests, error: null, idle: p.idle };
}

describe('policy request parser', () => {
  const wire = Buffer.from('request=smtpd_access_policy\r\nclient_address=192.0.2.1\nsender=a=b@example.org\n\nrequest=x\nclient_address=1\nclient_address=2\n\n\n');
  const want = [
    { attrs: { request: 'smtpd_access_policy', client_address: '192.0.2.1', sender: 'a=b@example.org' }, duplicates: [] },
    { attrs: { request: 'x', client_address: '1' }, duplicates: ['client_address'] },
    { attrs: {}, duplicates: [] },
  ];

  it('gives the same requests for every cut into two chunks, and byte by byte', () => {
    assert.deepEqual(run([wire]).requests, want);
    for (let i = 0; i <= wire.length; i++) {
      const r = run([wire.subarray(0, i), wire.subarray(i)]);
      assert.deepEqual(r.requests, want, `cut at ${i}`);
      assert.ok(r.idle && r.error === null);
    }
    assert.deepEqual(run([...wire].map((b) => Buffer.from([b]))).requests, want);
  });

  it('is idle only between requests', () => {
    const p = new PolicyRequestParser(LIMITS);
    assert.ok(p.idle);
    p.push(Buffer.from('request=smtpd_access_policy\n'));
    assert.equal(p.next().kind, 'more');
    assert.ok(!p.idle);
    p.push(Buffer.from('\n'));
    assert.equal(p.next().kind, 'frame');
    assert.ok(p.idle);
  });

  it('counts the bytes of one request, however it comes, and the attributes', () => {
    const big = `sender=${'x'.repeat(200)}\n\n`;
    assert.match(run([Buffer.from(big)]).error!, /longer than 200 bytes/);
    assert.match(run([...Buffer.from(big)].map((b) => Buffer.from([b]))).error!, /longer than 200 bytes/, 'also byte by byte: the unfinished line is bounded');
    assert.match(run([Buffer.from(`sender=${'x'.repeat(300)}`)]).error!, /longer than 200/, 'no newline at all');
    const exact = `a=${'x'.repeat(196)}\n\n`; // 200 bytes
    assert.equal(run([Buffer.from(exact)]).requests.length, 1);
    // Each request has its own budget.
    assert.equal(run([Buffer.from(exact.repeat(5))]).requests.length, 5);
    const six = Array.from({ length: 6 }, (_, i) => `a${i}=1\n`).join('') + '\n';
    assert.match(run([Buffer.from(six)]).error!, /more than 5 attributes/);
  });

  it('refuses a line that is not name=value, and stays refused', () => {
    for (const junk of ['request smtpd_access_policy\n\n', '=value\n\n', 'GET / HTTP/1.1\r\n\r\n']) {
      const p = new PolicyRequestParser(LIMITS);
      p.push(Buffer.from(junk));
      assert.equal(p.next().kind, 'error', JSON.stringify(junk));
      p.push(Buffer.from('request=smtpd_access_policy\n\n'));
      assert.equal(p.next().kind, 'error');
    }
  });
});
