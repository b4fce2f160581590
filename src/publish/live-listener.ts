// A listening socket for a live server (policy service, socketmap), with the safety rules
// they share: UNIX socket connectable by Postfix's user, or loopback only unless allowed;
// a stale socket file replaced, a live one never stolen; bounded connections and idle time.
import { chmodSync, chownSync, lstatSync, unlinkSync, type Stats } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { ConfigError, describe, PublishError } from '../core/errors.js';
import { formatListenAddress, isLoopback, type ListenAddress } from './listen-address.js';
import { postfixAccount, type Account } from './postfix-user.js';
import type { Publisher } from './publisher.js';

export interface ListenerLimits {
  /** Most connections at once (every smtpd process keeps one open). */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (Postfix's own max_idle is 300 s). */
  idleMs: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = { maxConnections: 512, idleMs: 330_000 };

export interface ListenerOptions {
  address: ListenAddress;
  /** Explicit opt-in to listen on an address that is not loopback. */
  allowNonLoopback: boolean;
  /** For messages: `policy service`, `socketmap`. */
  what: string;
  logger: Logger;
  limits?: Partial<ListenerLimits>;
  /** Who must be able to connect to a UNIX socket; defaults to the `postfix` account. */
  account?: Account | null;
  onConnection(socket: Socket): void;
}

export class LiveListener {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private created: Stats | null = null;
  private readonly limits: ListenerLimits;
  readonly name: string;

  constructor(private readonly o: ListenerOptions) {
    this.limits = { ...DEFAULT_LISTENER_LIMITS, ...o.limits };
    this.name = formatListenAddress(o.address);
  }

  async start(): Promise<void> {
    const a = this.o.address;
    if (a.kind === 'inet' && !isLoopback(a.host) && !this.o.allowNonLoopback) {
      throw new ConfigError(`${this.o.what} ${this.name}`, 'refusing to listen on an address that is not loopback (the protocol has no authentication)',
        'use a UNIX socket or 127.0.0.1; only if a firewall protects the port, set allow_non_loopback = yes');
    }
    if (a.kind === 'unix') await this.clearStale(a.path);
    const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', () => this.o.logger.warn(`${this.o.what} ${this.name}: ${this.limits.maxConnections} connections open, one more refused`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new PublishError(`${this.o.what} ${this.name}`, `cannot listen (${describe(err)})`,
        a.kind === 'unix' ? 'check that the directory exists and is writable by popgate' : 'is another program using the port?', err)));
      if (a.kind === 'unix') server.listen(a.path, () => resolve());
      else server.listen({ host: a.host, port: a.port, exclusive: true }, () => resolve());
    });
    server.on('error', (err) => this.o.logger.error(`${this.o.what} ${this.name}: ${describe(err)}`));
    this.server = server;
    if (a.kind === 'unix') this.permit(a.path);
  }

  /** The bound address, e.g. `inet:127.0.0.1:40123` when the port was 0 (tests). */
  bound(): string {
    const info = this.server?.address();
    if (info && typeof info === 'object') return formatListenAddress({ kind: 'inet', host: (info as AddressInfo).address, port: (info as AddressInfo).port });
    return this.name;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    const a = this.o.address;
    if (a.kind === 'unix' && this.created) {
      // Only our own socket: a newer popgate may already have replaced it.
      const now = statOrNull(a.path);
      if (now && now.ino === this.created.ino && now.dev === this.created.dev) unlinkSync(a.path);
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.o.logger.debug(`${this.o.what} ${this.name}: connection error: ${describe(err)}`));
    socket.setTimeout(this.limits.idleMs, () => socket.destroy());
    this.o.onConnection(socket);
  }

  /** A socket file nobody answers on is left over from a crash: remove it. Anything else stays. */
  private async clearStale(path: string): Promise<void> {
    const st = statOrNull(path);
    if (!st) return;
    const where = `${this.o.what} ${this.name}`;
    if (!st.isSocket()) throw new ConfigError(where, `${path} exists and is not a socket`, 'choose another path, or remove the file if it is yours');
    const alive = await new Promise<boolean>((resolve) => {
      const c = connect(path);
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (alive) throw new PublishError(where, 'another process is listening on this socket', 'stop the other popgate first, or choose another path');
    unlinkSync(path);
  }

  /** Owner `postfix` (as root) or group `postfix`; mode 0660, never world-writable. */
  private permit(path: string): void {
    const account = this.o.account === undefined ? postfixAccount() : this.o.account;
    const where = `${this.o.what} ${this.name}`;
    try {
      chmodSync(path, 0o660);
      if (account) {
        try {
          chownSync(path, process.getuid?.() === 0 ? account.uid : -1, account.gid);
        } catch (err) {
          this.o.logger.warn(`${where}: cannot give the socket to ${account.name} (${describe(err)}); hint: run popgate as root, or add its user to the ${account.name} group, or Postfix gets "Permission denied" (451)`);
        }
      }
      this.created = lstatSync(path);
    } catch (err) {
      throw new PublishError(where, `cannot set the socket permissions (${describe(err)})`, 'check the directory', err);
    }
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * A live answerer (policy service, socketmap) as a Publisher: its answers come from the store at
 * request time, so there is nothing to publish; only the listener starts and stops.
 */
export abstract class LiveServer implements Publisher {
  abstract readonly name: string;
  protected readonly listener: LiveListener;
  /** Requests answered (tests and benchmarks). */
  answered = 0;

  constructor(options: Omit<ListenerOptions, 'onConnection'>) {
    this.listener = new LiveListener({ ...options, onConnection: (s) => this.serve(s) });
  }

  protected abstract serve(socket: Socket): void;

  start(): Promise<void> {
    return this.listener.start();
  }

  changed(): void {}

  async settled(): Promise<void> {}

  stop(): Promise<void> {
    return this.listener.stop();
  }

  bound(): string {
    return this.listener.bound();
  }
}
