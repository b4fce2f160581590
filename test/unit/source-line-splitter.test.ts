// The one line splitter: the same lines however the bytes are cut, overlong lines dropped whole
// (never a tail taken for a line of its own), the limit counted exactly in bytes, memory bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter, MAX_LINE_BYTES } from '../../src/sources/line-splitter.js';

function splitAll(chunks: Buffer[], max = MAX_LINE_BYTES) {
  const drops: [number, number][] = [];
  const s = new LineSplitter(max, 0, (n, b) => drops.push([n, b]));
  const lines: [string, number][] = [];
  for (const c of chunks) s.push(c, (t, n) => lines.push([t, n]));
  const pending = s.pendingBytes;
  s.finish((t, n) => lines.push([t, n]));
  return { lines, drops, pending, dropped: s.dropped };
}

const FORGED = 'dovecot: pop3-login: Login: user=<x>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1';

describe('line splitter', () => {
  it('gives the same lines for every cut of the input into two chunks', () => {
    const text = Buffer.from('alpha\r\nbeta\n\ngamma δέλτα\nlast');
    const want = splitAll([text]).lines;
    assert.deepEqual(want, [
      ['alpha', 1],
      ['beta', 2],
      ['', 3],
      ['gamma δέλτα', 4],
      ['last', 5],
    ]);
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(splitAll([text.subarray(0, i), text.subarray(i)]).lines, want, `cut at ${i}`);
    }
    assert.deepEqual(splitAll([...text].map((b) => Buffer.from([b]))).lines, want, 'byte by byte');
  });

  it('drops an overlong line whole when a forged line starts exactly where a read ends', () => {
    const CHUNK = 256 * 1024;
    for (const k of [0, 1, 5, 100]) {
      // "other program" line of CHUNK - k bytes, then the forged text with no newline before it.
      const data = Buffer.from(`before\n${'x'.repeat(CHUNK - k - 7)}${FORGED}\nafter\n`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += CHUNK - k) chunks.push(data.subarray(i, i + CHUNK - k));
      const r = splitAll(chunks);
      assert.ok(!r.lines.some(([t]) => t.includes('pop3-login')), `k=${k}: a tail was taken for a line`);
      assert.deepEqual(
        r.lines,
        [
          ['before', 1],
          ['after', 3],
        ],
        `k=${k}`,
      );
      assert.equal(r.dropped, 1);
      assert.equal(r.drops[0]![0], 2);
      assert.equal(r.drops[0]![1], CHUNK - k - 7 + FORGED.length);
    }
  });

  it('counts the limit in bytes, exactly, also for multi-byte text and inside one chunk', () => {
    const max = 30;
    const atLimit = 'é'.repeat(15); // 30 bytes, 15 UTF-16 units
    const over = 'é'.repeat(14) + 'ab'; // 30 bytes
    const over1 = 'é'.repeat(15) + 'a'; // 31 bytes
    const r = splitAll([Buffer.from(`${atLimit}\n${over}\n${over1}\n${'z'.repeat(31)}\nok\n`)], max);
    assert.deepEqual(
      r.lines.map(([t]) => t),
      [atLimit, over, 'ok'],
    );
    assert.deepEqual(r.drops, [
      [3, 31],
      [4, 31],
    ]);
    // The same cut byte by byte goes through the carry path.
    const bytes = [...Buffer.from(`${atLimit}\n${over1}\nok`)].map((b) => Buffer.from([b]));
    assert.deepEqual(splitAll(bytes, max).lines, [
      [atLimit, 1],
      ['ok', 3],
    ]);
  });

  it('holds at most the limit for an unfinished line, however long it gets, and says how much is pending', () => {
    const s = new LineSplitter(100);
    const got: string[] = [];
    s.push(Buffer.from('done\nstart'), (t) => got.push(t));
    assert.equal(s.pendingBytes, 5);
    for (let i = 0; i < 1000; i++) s.push(Buffer.alloc(1000, 0x78), (t) => got.push(t));
    assert.equal(s.pendingBytes, 1_000_005, 'counted, so a stored position can point before it');
    s.push(Buffer.from('tail\nnext\n'), (t) => got.push(t));
    assert.deepEqual(got, ['done', 'next']);
    assert.equal(s.pendingBytes, 0);
    assert.equal(s.lineNo, 3);
    // The unfinished overlong last line is dropped at the end too.
    s.push(Buffer.alloc(200, 0x79), () => assert.fail('no line'));
    s.finish(() => assert.fail('no line'));
    assert.equal(s.dropped, 2);
  });

  it('reset forgets the unfinished line and numbers from the given line', () => {
    const s = new LineSplitter();
    const got: [string, number][] = [];
    s.push(Buffer.from('a\npartial'), (t, n) => got.push([t, n]));
    s.reset(10);
    s.push(Buffer.from('b\n'), (t, n) => got.push([t, n]));
    assert.deepEqual(got, [
      ['a', 1],
      ['b', 11],
    ]);
  });
});
