// Postfix's SMTP access policy delegation (check_policy_service): `name=value` lines ended
// by an empty line, many requests per connection. A granted client_address gets
// `action=OK` (configurable), anything else `action=DUNNO`. When the store cannot answer the
// connection is closed without a reply, so Postfix applies its default (451 4.3.5).
import type { Socket } from 'node:net';
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import { grantedNow, type GrantLookup } from './answer.js';
import { LiveServer, type ListenerLimits } from './live-listener.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';

export interface PolicyLimits extends ListenerLimits {
  /** Bytes in one request, lines and newlines included (Postfix 3.7 sends ~30 attributes). */
  maxRequestBytes: number;
  /** Attributes in one request. */
  maxAttributes: number;
  /** A request that has begun must end within this time. */
  requestMs: number;
}

export const POLICY_LIMITS: Omit<PolicyLimits, keyof ListenerLimits> = { maxRequestBytes: 16_384, maxAttributes: 100, requestMs: 10_000 };

export interface PolicyServerOptions {
  address: ListenAddress;
  allowNonLoopback: boolean;
  store: GrantLookup;
  /** The action for a granted client, `OK` by default. */
  action: string;
  logger: Logger;
  limits?: Partial<PolicyLimits>;
  now?: () => number;
}

export class PolicyServer extends LiveServer {
  readonly name: string;
  private readonly limits: Omit<PolicyLimits, keyof ListenerLimits>;

  constructor(private readonly o: PolicyServerOptions) {
    super({ address: o.address, allowNonLoopback: o.allowNonLoopback, what: 'policy service', logger: o.logger, limits: o.limits });
    this.name = `policy ${formatListenAddress(o.address)}`;
    this.limits = { ...POLICY_LIMITS, ...o.limits };
  }

  protected serve(socket: Socket): void {
    let buf = '';
    let attrs = new Map<string, string>();
    let bytes = 0;
    let timer: NodeJS.Timeout | null = null;
    const drop = (why: string) => {
      this.o.logger.warn(`${this.name}: ${why}; connection closed`);
      socket.destroy();
    };
    socket.on('close', () => timer && clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      if (!timer) timer = setTimeout(() => drop(`request not finished within ${this.limits.requestMs} ms`), this.limits.requestMs);
      bytes += chunk.length;
      if (bytes > this.limits.maxRequestBytes) return drop(`request longer than ${this.limits.maxRequestBytes} bytes`);
      buf += chunk.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        if (line !== '') {
          const eq = line.indexOf('=');
          if (eq <= 0) return drop('a request line is not name=value');
          const name = line.slice(0, eq);
          if (attrs.has(name)) attrs.set(name, '\u0000duplicate');
          else attrs.set(name, line.slice(eq + 1));
          if (attrs.size > this.limits.maxAttributes) return drop(`more than ${this.limits.maxAttributes} attributes in one request`);
          continue;
        }
        const reply = this.answer(attrs);
        if (reply === null) {
          socket.destroy();
          return;
        }
        socket.write(reply);
        attrs = new Map();
        bytes = Buffer.byteLength(buf, 'latin1');
        if (timer) clearTimeout(timer);
        timer = buf.length ? setTimeout(() => drop(`request not finished within ${this.limits.requestMs} ms`), this.limits.requestMs) : null;
      }
    });
  }

  /** The reply for one request, or null when the store failed (no answer at all). */
  private answer(attrs: Map<string, string>): string | null {
    const client = attrs.get('client_address');
    let granted = false;
    if (attrs.get('request') !== 'smtpd_access_policy') {
      this.o.logger.debug(`${this.name}: request=${attrs.get('request') ?? '(none)'} is not smtpd_access_policy: DUNNO`);
    } else if (client === undefined || client.startsWith('\u0000')) {
      this.o.logger.warn(`${this.name}: request with ${client === undefined ? 'no' : 'more than one'} client_address: DUNNO`);
    } else {
      try {
        granted = grantedNow(this.o.store, client, (this.o.now ?? Date.now)());
      } catch (err) {
        this.o.logger.error(`${this.name}: no answer for ${client}, Postfix applies its default (451): ${describe(err)}`);
        return null;
      }
    }
    this.answered++;
    const action = granted ? this.o.action : 'DUNNO';
    this.o.logger.debug(`${this.name}: ${client ?? '-'} ${attrs.get('protocol_state') ?? ''} → ${action}`);
    return `action=${action}\n\n`;
  }
}
