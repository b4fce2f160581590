// Netstrings (`LENGTH:PAYLOAD,`, the framing of Postfix's socketmap_table(5)): an incremental
// decoder with a limit on the payload, and the encoder. Pure: bytes in, frames or an error out;
// the caller pulls one frame at a time, so it can stop while its answers are not drained.
import { MORE, type Decoder, type Frame } from './decoder.js';

export function encodeNetstring(text: string): string {
  return `${Buffer.byteLength(text)}:${text},`;
}

export class NetstringDecoder implements Decoder<Buffer> {
  /** Input not looked at yet (a chunk, or what is left of it). */
  private input: Buffer | null = null;
  private length = -1; // -1 while reading the digits
  private digits = '';
  private payload: Buffer | null = null;
  private filled = 0;
  private failed: Frame<never> | null = null;
  private readonly maxDigits: number;

  constructor(readonly maxBytes: number) {
    this.maxDigits = String(maxBytes).length;
  }

  get idle(): boolean {
    return this.length < 0 && this.digits === '' && !this.input?.length;
  }

  push(chunk: Buffer): void {
    // Normally the last chunk is used up before the next one comes; if not, keep both.
    this.input = this.input?.length ? Buffer.concat([this.input, chunk]) : chunk;
  }

  next(): Frame<Buffer> {
    if (this.failed) return this.failed;
    const buf = this.input;
    let pos = 0;
    while (buf && pos < buf.length) {
      if (this.length < 0) {
        const c = buf[pos++]!;
        if (c === 0x3a && this.digits !== '') {
          this.length = Number(this.digits);
          if (this.length > this.maxBytes) return this.fail(`netstring of ${this.length} bytes, longer than ${this.maxBytes}`);
          this.payload = Buffer.allocUnsafe(this.length);
          this.filled = 0;
        } else if (c >= 0x30 && c <= 0x39 && this.digits.length < this.maxDigits) {
          this.digits += String.fromCharCode(c);
        } else {
          return this.fail(c >= 0x30 && c <= 0x39 ? `netstring longer than ${this.maxBytes} bytes` : 'not a netstring');
        }
      } else if (this.filled < this.length) {
        const n = Math.min(this.length - this.filled, buf.length - pos);
        buf.copy(this.payload!, this.filled, pos, pos + n);
        this.filled += n;
        pos += n;
      } else {
        if (buf[pos++] !== 0x2c) return this.fail('netstring without its final comma');
        const value = this.payload!;
        this.length = -1;
        this.digits = '';
        this.payload = null;
        this.input = pos < buf.length ? buf.subarray(pos) : null;
        return { kind: 'frame', value };
      }
    }
    this.input = null;
    return MORE;
  }

  private fail(why: string): Frame<never> {
    this.input = null;
    this.payload = null;
    this.failed = { kind: 'error', why };
    return this.failed;
  }
}
