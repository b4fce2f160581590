// The access map's text as bytes, in a buffer kept from one build to the next. A build used to
// make one string of the whole map (2 MB for 100k grants): too big for V8's young generation, so
// each was old-generation garbage, and under live logins ~40 MB of them piled up before a full GC.
// The store hands the text over in pieces small enough to die young.

/** Where the store writes the map's text, a few thousand lines at a time. */
export interface MapSink {
  append(text: string): void;
}

export class MapContent implements MapSink {
  private buf: Buffer;
  /** Bytes used. */
  length = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initial);
  }

  static of(text: string): MapContent {
    const c = new MapContent(Math.max(1024, text.length * 3));
    c.append(text);
    return c;
  }

  reset(): this {
    this.length = 0;
    return this;
  }

  append(text: string): void {
    const need = this.length + text.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += this.buf.write(text, this.length);
  }

  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  equals(other: MapContent): boolean {
    return this.length === other.length && this.bytes.equals(other.bytes);
  }

  /** Lines held (one per address). */
  lines(): number {
    let n = 0;
    for (let i = this.bytes.indexOf(10); i >= 0; i = this.bytes.indexOf(10, i + 1)) n++;
    return n;
  }

  toString(): string {
    return this.bytes.toString('utf8');
  }
}
