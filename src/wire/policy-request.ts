// Postfix's policy delegation requests (SMTPD_POLICY_README): `name=value` lines ended by an
// empty line, many requests per connection. An incremental parser with limits on the bytes and
// attributes of one request; an attribute sent twice is reported, never silently chosen. Pure.
import { MORE, type Decoder, type Frame } from './decoder.js';

export interface PolicyRequestLimits {
  /** Bytes in one request, lines and newlines included (Postfix 3.7 sends ~30 attributes). */
  maxRequestBytes: number;
  /** Attributes in one request. */
  maxAttributes: number;
}

export interface PolicyRequest {
  /** Each attribute's first value. */
  attrs: Map<string, string>;
  /** Names that came more than once (their value cannot be trusted). */
  duplicates: string[];
}

export class PolicyRequestParser implements Decoder<PolicyRequest> {
  private input: Buffer | null = null;
  /** Bytes of the line being read, when it began in an earlier chunk. */
  private partial: Buffer | null = null;
  private bytes = 0;
  private attrs = new Map<string, string>();
  private duplicates: string[] = [];
  private failed: Frame<never> | null = null;

  constructor(private readonly limits: PolicyRequestLimits) {}

  get idle(): boolean {
    return this.bytes === 0 && !this.input?.length;
  }

  push(chunk: Buffer): void {
    this.input = this.input?.length ? Buffer.concat([this.input, chunk]) : chunk;
  }

  next(): Frame<PolicyRequest> {
    if (this.failed) return this.failed;
    const buf = this.input;
    if (!buf) return MORE;
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const end = nl < 0 ? buf.length : nl + 1;
      this.bytes += end - pos;
      if (this.bytes > this.limits.maxRequestBytes) return this.fail(`request longer than ${this.limits.maxRequestBytes} bytes`);
      if (nl < 0) {
        // The size check above bounds what is kept of an unfinished line.
        this.partial = this.partial ? Buffer.concat([this.partial, buf.subarray(pos)]) : Buffer.from(buf.subarray(pos));
        break;
      }
      const raw = this.partial ? Buffer.concat([this.partial, buf.subarray(pos, nl)]) : buf.subarray(pos, nl);
      this.partial = null;
      pos = end;
      const line = raw.toString('latin1').replace(/\r$/, '');
      if (line === '') {
        const request: PolicyRequest = { attrs: this.attrs, duplicates: this.duplicates };
        this.attrs = new Map();
        this.duplicates = [];
        this.bytes = 0;
        this.input = pos < buf.length ? buf.subarray(pos) : null;
        return { kind: 'frame', value: request };
      }
      const eq = line.indexOf('=');
      if (eq <= 0) return this.fail('a request line is not name=value');
      const name = line.slice(0, eq);
      if (this.attrs.has(name)) {
        if (!this.duplicates.includes(name)) this.duplicates.push(name);
      } else {
        this.attrs.set(name, line.slice(eq + 1));
        if (this.attrs.size > this.limits.maxAttributes) return this.fail(`more than ${this.limits.maxAttributes} attributes in one request`);
      }
    }
    this.input = null;
    return MORE;
  }

  private fail(why: string): Frame<never> {
    this.input = null;
    this.partial = null;
    this.failed = { kind: 'error', why };
    return this.failed;
  }
}
