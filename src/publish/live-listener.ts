// A listening socket for a live server (policy service, socketmap), with the safety rules
// they share: UNIX socket connectable by Postfix's user, or loopback only unless allowed;
// a stale socket file replaced, a live one never stolen; bounded connections and idle time.
//
// Connection exhaustion: when the table is full, the connection idle longest
// is closed to make room, so a new one (Postfix's) is always answered; Postfix reconnects when
// its idle connection was closed. Over inet a peer is its address, capped at maxPerPeer — but
// every local user shares loopback with Postfix and may bind any 127.x.y.z, so the cap only
// bounds a careless client; room-making is what keeps Postfix served. A UNIX socket (mode 0660,
// Postfix's group) shuts other users out altogether, which is why it is the recommended default.
// Node offers no SO_PEERCRED, so connections on a UNIX socket cannot be told apart by user.
import { chmodSync, chownSync, lstatSync, unlinkSync, type Stats } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { ConfigError, describe, PublishError } from '../core/errors.js';
import { canonicalIp } from '../net/ip.js';
import { Throttle } from '../wire/throttle.js';
import { formatListenAddress, isLoopback, type ListenAddress } from './listen-address.js';
import { postfixAccount, type Account } from './postfix-user.js';

export interface ListenerLimits {
  /** Most connections at once (every smtpd process keeps one open). */
  maxConnections: number;
  /** Most connections from one inet address (all of loopback's users are one address or can pick another). */
  maxPerPeer: number;
  /** A connection with no traffic for this long is closed (Postfix's own max_idle is 300 s). */
  idleMs: number;
  /** Answers a client has not read yet: past this, reading from it stops until it reads (flood). */
  maxPendingOutput: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = { maxConnections: 512, maxPerPeer: 256, idleMs: 330_000, maxPendingOutput: 16_384 };

/** One client connection, as the listener weighs it when room must be made. */
export interface Connection {
  readonly socket: Socket;
  /** Canonical remote address over inet; `unix` on a UNIX socket (no way to tell users apart). */
  readonly peer: string;
  /** When its last request was answered, or when it connected. */
  lastDone: number;
  /** A request has begun and is not answered yet. */
  busy: boolean;
}

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
  onConnection(connection: Connection): void;
}

export class LiveListener {
  private server: Server | null = null;
  private readonly connections = new Map<Socket, Connection>();
  private created: Stats | null = null;
  private readonly throttles = new Map<string, Throttle>();
  readonly limits: ListenerLimits;
  readonly name: string;

  constructor(private readonly o: ListenerOptions) {
    this.limits = { ...DEFAULT_LISTENER_LIMITS, ...o.limits };
    this.name = formatListenAddress(o.address);
  }

  /** Logs `text`, at most once a minute per `kind`, with the count of the ones held back: a flood never floods the log. */
  report(level: 'warn' | 'error', kind: string, text: string): void {
    let t = this.throttles.get(kind);
    if (!t) this.throttles.set(kind, (t = new Throttle()));
    const n = t.hit(Date.now());
    if (n) this.o.logger[level](`${this.o.what} ${this.name}: ${text}${n > 1 ? ` (${n} times since the last such message)` : ''}`);
  }

  /** Open connections and the answers they hold unread (for status and metrics). */
  stats(): { connections: number; pendingOutputBytes: number } {
    let pending = 0;
    for (const socket of this.connections.keys()) pending += socket.writableLength;
    return { connections: this.connections.size, pendingOutputBytes: pending };
  }

  async start(): Promise<void> {
    const a = this.o.address;
    if (a.kind === 'inet' && !isLoopback(a.host) && !this.o.allowNonLoopback) {
      throw new ConfigError(
        `${this.o.what} ${this.name}`,
        'refusing to listen on an address that is not loopback (the protocol has no authentication)',
        'use a UNIX socket or 127.0.0.1; only if a firewall protects the port, set allow_non_loopback = yes',
      );
    }
    if (a.kind === 'unix') await this.clearStale(a.path);
    const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new PublishError(
            `${this.o.what} ${this.name}`,
            `cannot listen (${describe(err)})`,
            a.kind === 'unix' ? 'check that the directory exists and is writable by popgate' : 'is another program using the port?',
            err,
          ),
        ),
      );
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
    for (const s of this.connections.keys()) s.destroy();
    await closed;
    const a = this.o.address;
    if (a.kind === 'unix' && this.created) {
      // Only our own socket: a newer popgate may already have replaced it.
      const now = statOrNull(a.path);
      if (now && now.ino === this.created.ino && now.dev === this.created.dev) unlinkSync(a.path);
    }
  }

  private accept(socket: Socket): void {
    const peer = socket.remoteAddress ? (canonicalIp(socket.remoteAddress) ?? socket.remoteAddress) : 'unix';
    this.makeRoom(peer);
    const c: Connection = { socket, peer, lastDone: Date.now(), busy: false };
    this.connections.set(socket, c);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', (err) => this.o.logger.debug(`${this.o.what} ${this.name}: connection error: ${describe(err)}`));
    socket.setTimeout(this.limits.idleMs, () => socket.destroy());
    this.o.onConnection(c);
  }

  /** At a limit, closes the connection idle longest (of the peer, or of all) rather than refuse the new one. */
  private makeRoom(peer: string): void {
    const all = [...this.connections.values()];
    const mine = peer === 'unix' ? [] : all.filter((c) => c.peer === peer);
    const pool = mine.length >= this.limits.maxPerPeer ? mine : all.length >= this.limits.maxConnections ? all : null;
    if (!pool) return;
    // Idle ones first (no request in progress), then the one whose last answer is oldest.
    const victim = pool.reduce((a, b) => (a.busy !== b.busy ? (a.busy ? b : a) : a.lastDone <= b.lastDone ? a : b));
    this.connections.delete(victim.socket);
    victim.socket.destroy();
    const why = pool === mine ? `${mine.length} connections from ${peer}` : `${all.length} connections open`;
    this.report('warn', pool === mine ? 'peer-full' : 'full', `${why}: closed the one idle longest to make room; hint: a UNIX socket keeps other local users out`);
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
          this.o.logger.warn(`${where}: cannot give the socket to ${account.name} (${describe(err)}); hint: add its user to the ${account.name} group, or Postfix gets "Permission denied" (451)`);
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
