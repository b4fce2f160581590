// Postfix's socketmap protocol (socketmap_table(5)): netstrings `NAME KEY` → `OK VALUE`,
// `NOTFOUND `, `TEMP reason` or `PERM reason`, many per connection. Used as
// `check_client_access socketmap:unix:private/popgate-socketmap:popgate`. smtpd asks for
// the client name first (never an address here), then the address. A store failure is TEMP.
import type { Socket } from 'node:net';
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import { grantedNow, type GrantLookup } from './answer.js';
import { LiveServer, type ListenerLimits } from './live-listener.js';
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
  store: GrantLookup;
  /** The map name Postfix asks for (the part after the last colon in its table name). */
  mapName: string;
  /** The value returned for a granted address: an access action, `OK` by default. */
  value: string;
  logger: Logger;
  limits?: Partial<SocketmapLimits>;
  now?: () => number;
}

export function netstring(text: string): string {
  return `${Buffer.byteLength(text)}:${text},`;
}

export class SocketmapServer extends LiveServer {
  readonly name: string;
  private readonly limits: Omit<SocketmapLimits, keyof ListenerLimits>;

  constructor(private readonly o: SocketmapServerOptions) {
    super({ address: o.address, allowNonLoopback: o.allowNonLoopback, what: 'socketmap', logger: o.logger, limits: o.limits });
    this.name = `socketmap ${formatListenAddress(o.address)}:${o.mapName}`;
    this.limits = { ...SOCKETMAP_LIMITS, ...o.limits };
  }

  protected serve(socket: Socket): void {
    let buf = Buffer.alloc(0);
    let timer: NodeJS.Timeout | null = null;
    const drop = (why: string) => {
      this.o.logger.warn(`${this.name}: ${why}; connection closed`);
      socket.destroy();
    };
    /** The clock runs from the first byte of a request to its end, not from the last byte seen. */
    const arm = (progress: boolean) => {
      if (timer && (progress || buf.length === 0)) {
        clearTimeout(timer);
        timer = null;
      }
      if (!timer && buf.length) timer = setTimeout(() => drop(`request not finished within ${this.limits.requestMs} ms`), this.limits.requestMs);
    };
    socket.on('close', () => timer && clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      buf = Buffer.concat([buf, chunk]);
      const digits = String(this.limits.maxRequestBytes).length;
      let progress = false;
      for (;;) {
        const colon = buf.indexOf(0x3a);
        const head = buf.subarray(0, colon < 0 ? buf.length : colon).toString('latin1');
        if (!/^\d*$/.test(head) || head.length > digits) return drop('not a netstring');
        if (colon < 0) break;
        const len = Number(head);
        if (head === '' || len > this.limits.maxRequestBytes) return drop(head === '' ? 'not a netstring' : `request longer than ${this.limits.maxRequestBytes} bytes`);
        if (buf.length < colon + 1 + len + 1) break;
        if (buf[colon + 1 + len] !== 0x2c) return drop('netstring without its final comma');
        const request = buf.subarray(colon + 1, colon + 1 + len).toString('latin1');
        buf = buf.subarray(colon + 2 + len);
        socket.write(netstring(this.answer(request)));
        progress = true;
      }
      arm(progress);
    });
  }

  private answer(request: string): string {
    this.answered++;
    const sp = request.indexOf(' ');
    const name = sp < 0 ? request : request.slice(0, sp);
    const key = sp < 0 ? '' : request.slice(sp + 1);
    if (name !== this.o.mapName) {
      this.o.logger.warn(`${this.name}: asked for map "${name.slice(0, 64)}"; hint: Postfix's table name must end in :${this.o.mapName}`);
      return `PERM unknown map name; this server answers ${this.o.mapName}`;
    }
    let granted: boolean;
    try {
      granted = grantedNow(this.o.store, key, (this.o.now ?? Date.now)());
    } catch (err) {
      this.o.logger.error(`${this.name}: TEMP for ${key}: ${describe(err)}`);
      return 'TEMP popgate cannot read its grant store';
    }
    this.o.logger.debug(`${this.name}: ${key} → ${granted ? 'OK' : 'NOTFOUND'}`);
    return granted ? `OK ${this.o.value}` : 'NOTFOUND ';
  }
}
