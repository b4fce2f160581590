// Postfix's socketmap protocol (socketmap_table(5)): netstrings `NAME KEY` → `OK VALUE`,
// `NOTFOUND `, `TEMP reason` or `PERM reason`, many per connection (framing: wire/netstring.ts).
// Used as `check_client_access socketmap:unix:popgate/socketmap:popgate`. smtpd asks for
// the client name first, then the address; the lookup judges every key. A lookup that cannot
// answer is TEMP (Postfix: 451), never OK.
import type { Logger } from 'winston';
import type { GrantLookup } from '../grants/lookup.js';
import type { Decoder } from '../wire/decoder.js';
import { encodeNetstring, NetstringDecoder } from '../wire/netstring.js';
import type { ListenerLimits } from './live-listener.js';
import { ask, LiveServer } from './live-server.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';

export interface SocketmapLimits extends ListenerLimits {
  /** Longest request netstring payload (a map name and a host name or address). */
  maxRequestBytes: number;
  /** A request that has begun must end within this time. */
  requestMs: number;
}

export const SOCKETMAP_LIMITS: Omit<SocketmapLimits, keyof ListenerLimits> = { maxRequestBytes: 1024, requestMs: 10_000 };

export interface SocketmapServerOptions {
  address: ListenAddress;
  allowNonLoopback: boolean;
  lookup: GrantLookup;
  /** The map name Postfix asks for (the part after the last colon in its table name). */
  mapName: string;
  /** The value returned for a granted address: an access action, `OK` by default. */
  value: string;
  logger: Logger;
  limits?: Partial<SocketmapLimits>;
  now?: () => number;
}

export class SocketmapServer extends LiveServer<Buffer> {
  readonly name: string;
  private readonly limits: Omit<SocketmapLimits, keyof ListenerLimits>;

  constructor(private readonly o: SocketmapServerOptions) {
    const limits = { ...SOCKETMAP_LIMITS, ...o.limits };
    super({ address: o.address, allowNonLoopback: o.allowNonLoopback, what: 'socketmap', logger: o.logger, limits: o.limits }, limits.requestMs);
    this.name = `socketmap ${formatListenAddress(o.address)}:${o.mapName}`;
    this.limits = limits;
  }

  protected decoder(): Decoder<Buffer> {
    return new NetstringDecoder(this.limits.maxRequestBytes);
  }

  protected answer(payload: Buffer): string {
    const request = payload.toString('latin1');
    const sp = request.indexOf(' ');
    const name = sp < 0 ? request : request.slice(0, sp);
    const key = sp < 0 ? '' : request.slice(sp + 1);
    if (name !== this.o.mapName) {
      this.listener.report('warn', 'map-name', `asked for map "${printable(name, 64)}"; hint: Postfix's table name must end in :${this.o.mapName}`);
      return encodeNetstring(`PERM unknown map name; this server answers ${this.o.mapName}`);
    }
    const r = ask(this.o.lookup, key, (this.o.now ?? Date.now)());
    if (r.kind === 'tempfail') {
      this.listener.report('error', 'tempfail', `TEMP for ${printable(key, 64)}: ${r.why}`);
      return encodeNetstring(`TEMP popgate cannot answer now: ${printable(r.why, 200)}`);
    }
    if (this.o.logger.isDebugEnabled()) this.o.logger.debug(`${this.name}: ${printable(key, 64)} → ${r.kind === 'found' ? 'OK' : 'NOTFOUND'}`);
    return encodeNetstring(r.kind === 'found' ? `OK ${this.o.value}` : 'NOTFOUND ');
  }
}

/** Client text fit for a log line or a reply: printable ASCII, bounded. */
function printable(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}
