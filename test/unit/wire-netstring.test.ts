// Netstring framing without sockets: the same frames however the bytes are cut, the limit
// enforced before the payload is buffered, junk refused and the refusal kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decoder, Frame } from '../../src/wire/decoder.js';
import { encodeNetstring, NetstringDecoder } from '../../src/wire/netstring.js';

/** Feeds the chunks, pulling every frame; ends at the first error. */
function run<T>(dec: Decoder<T>, chunks: Buffer[]): { frames: T[]; error: string | null; idle: boolean } {
  const frames: T[] = [];
  for (const c of chunks) {
    dec.push(c);
    for (let f: Frame<T>; (f = dec.next()).kind !== 'more'; ) {
      if (f.kind === 'error') return { frames, error: f.why, idle: dec.idle };
      frames.push(f.value);
    }
  }
  return { frames, error: null, idle: dec.idle };
}

const text = (r: { frames: Buffer[] }) => r.frames.map((b) => b.toString('latin1'));

describe('netstring decoder', () => {
  const wire = Buffer.from(encodeNetstring('popgate 192.0.2.1') + encodeNetstring('') + encodeNetstring('popgate ä,:') + encodeNetstring('x'));
  const want = ['popgate 192.0.2.1', '', Buffer.from('popgate ä,:').toString('latin1'), 'x'];

  it('encodes the length in bytes', () => {
    assert.equal(encodeNetstring('popgate 192.0.2.1'), '17:popgate 192.0.2.1,');
    assert.equal(encodeNetstring('ä'), '2:ä,');
    assert.equal(encodeNetstring(''), '0:,');
  });

  it('gives the same frames for every cut into two chunks, and byte by byte', () => {
    assert.deepEqual(text(run(new NetstringDecoder(64), [wire])), want);
    for (let i = 0; i <= wire.length; i++) {
      const r = run(new NetstringDecoder(64), [wire.subarray(0, i), wire.subarray(i)]);
      assert.deepEqual(text(r), want, `cut at ${i}`);
      assert.ok(r.idle);
    }
    assert.deepEqual(
      text(
        run(
          new NetstringDecoder(64),
          [...wire].map((b) => Buffer.from([b])),
        ),
      ),
      want,
    );
  });

  it('is idle only between frames', () => {
    const dec = new NetstringDecoder(64);
    assert.ok(dec.idle);
    for (const part of ['1', '7:popgate', ' 192.0.2.1']) {
      dec.push(Buffer.from(part));
      assert.equal(dec.next().kind, 'more');
      assert.ok(!dec.idle, part);
    }
    dec.push(Buffer.from(','));
    assert.equal(dec.next().kind, 'frame');
    assert.ok(dec.idle);
  });

  it('refuses what is too long from its length alone, before any payload is buffered', () => {
    assert.match(run(new NetstringDecoder(64), [Buffer.from('65:')]).error!, /65 bytes, longer than 64/);
    assert.match(run(new NetstringDecoder(64), [Buffer.from('123')]).error!, /longer than 64/, 'too many digits');
    assert.match(run(new NetstringDecoder(64), [Buffer.from('99999999999999999999')]).error!, /longer than 64/);
    assert.deepEqual(text(run(new NetstringDecoder(64), [Buffer.from(`64:${'y'.repeat(64)},`)])), ['y'.repeat(64)], 'the limit itself is fine');
  });

  it('refuses junk, and stays refused', () => {
    for (const junk of ['GET / HTTP/1.0\r\n', ':x,', '-1:x,', ' 1:x,', '1 :x,', '3:abc;', '0:x', '3:abc,x']) {
      const dec = new NetstringDecoder(64);
      const r = run(dec, [Buffer.from(junk)]);
      assert.ok(r.error, `${JSON.stringify(junk)}: ${JSON.stringify(r)}`);
      dec.push(Buffer.from('1:a,'));
      assert.equal(dec.next().kind, 'error', 'no frame after an error');
    }
  });
});
