// Turns byte chunks into numbered lines (UTF-8, `\n` or `\r\n`), the one splitter every reader
// uses. A line longer than the limit is dropped whole, up to its newline, however the chunks
// fall: its tail is never taken for a line of its own (a forged Dovecot line
// hidden after 256 KiB of another program's line). Memory held is at most the limit.
import { isAscii } from 'node:buffer';

/** Longest line kept, in bytes (the engine never parses longer: no server logs a login that long). */
export const MAX_LINE_BYTES = 8192;

/** Receives each kept line with its 1-based number (dropped lines are counted, never handed over). */
export type LineSink = (text: string, lineNo: number) => void;

/** Told of each dropped line once its end is seen: its number and length in bytes. */
export type DropSink = (lineNo: number, bytes: number) => void;

export class LineSplitter {
  /** Lines completed so far, kept or dropped. */
  lineNo: number;
  /** Overlong lines dropped so far. */
  dropped = 0;
  /** Start of an unfinished line (a copy, never a slice of the caller's buffer). */
  private carry: Buffer | null = null;
  /** Bytes of an overlong unfinished line seen so far; > 0 while dropping one. */
  private skipping = 0;

  constructor(
    readonly maxBytes: number = MAX_LINE_BYTES,
    lineNo = 0,
    private readonly onDrop?: DropSink,
  ) {
    this.lineNo = lineNo;
  }

  /** Bytes of the unfinished last line, held or skipped: a stored position points before them. */
  get pendingBytes(): number {
    return this.skipping || (this.carry?.length ?? 0);
  }

  /** Forgets the unfinished line (the input starts over, or a batch is read again). */
  reset(lineNo: number): void {
    this.carry = null;
    this.skipping = 0;
    this.lineNo = lineNo;
  }

  push(chunk: Buffer, sink: LineSink, start = 0, end = chunk.length): void {
    let pos = start;
    if (this.skipping > 0 || this.carry) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0 || nl >= end) return this.hold(chunk, pos, end);
      const len = this.pendingBytes + (nl - pos);
      if (this.skipping > 0 || len > this.maxBytes) this.drop(len);
      else this.emit(Buffer.concat([this.carry!, chunk.subarray(pos, nl)]).toString('utf8'), sink);
      this.carry = null;
      this.skipping = 0;
      pos = nl + 1;
    }
    const last = end > pos ? chunk.lastIndexOf(10, end - 1) : -1;
    if (last >= pos) {
      this.whole(chunk, pos, last, sink);
      pos = last + 1;
    }
    if (pos < end) this.hold(chunk, pos, end);
  }

  /** End of input: the unfinished last line, unless it is overlong. */
  finish(sink: LineSink): void {
    if (this.skipping > 0) this.drop(this.skipping);
    else if (this.carry?.length) this.emit(this.carry.toString('utf8'), sink);
    this.carry = null;
    this.skipping = 0;
  }

  /** Keeps the start of an unfinished line, or only counts it once it is too long. */
  private hold(chunk: Buffer, from: number, to: number): void {
    const len = this.pendingBytes + (to - from);
    if (this.skipping > 0 || len > this.maxBytes) {
      this.skipping = len;
      this.carry = null;
    } else {
      this.carry = this.carry ? Buffer.concat([this.carry, chunk.subarray(from, to)]) : Buffer.from(chunk.subarray(from, to));
    }
  }

  /** Lines from `from` to the newline at `to`, all complete. */
  private whole(chunk: Buffer, from: number, to: number, sink: LineSink): void {
    // One decode and one split. A UTF-16 unit comes from at most 3 bytes, so a part of up to
    // max/3 units is surely within the limit; only a longer one is measured. Re-encoding counts
    // each invalid byte as 3 (U+FFFD): such a line may be dropped a little early, never kept long.
    // Logs are mostly ASCII: checked (SIMD) and copied as Latin-1, three times faster than decoding UTF-8.
    const ascii = isAscii(chunk.subarray(from, to));
    const parts = chunk.toString(ascii ? 'latin1' : 'utf8', from, to).split('\n');
    const safe = Math.floor(this.maxBytes / 3);
    for (const p of parts) {
      if (p.length <= safe) this.emit(p, sink);
      else {
        const bytes = Buffer.byteLength(p);
        if (bytes > this.maxBytes) this.drop(bytes);
        else this.emit(p, sink);
      }
    }
  }

  private emit(text: string, sink: LineSink): void {
    sink(text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text, ++this.lineNo);
  }

  private drop(bytes: number): void {
    this.dropped++;
    this.lineNo++; // not inside `onDrop?.(…)`: an absent callback would skip the count
    this.onDrop?.(this.lineNo, bytes);
  }
}
