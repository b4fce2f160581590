// A small SMTP client for relay probes: one connection, commands and multi-line replies, a
// bound source address, and a timeout on every wait. It never sends DATA.
import { connect, isIP, type Socket } from 'node:net';
import { PopgateError, EXIT } from '../core/errors.js';

export interface Reply {
  code: number;
  /** The reply lines joined by a space, as the server sent them (no CRLF). */
  text: string;
}

/** Why a relay test could not talk to the server; `exitCode` is 69 (unavailable) or 75 (slow, cut off). */
export class RelayTestError extends PopgateError {
  constructor(where: string, what: string, hint: string, temporary: boolean, cause?: unknown) {
    super('UNAVAILABLE', where, what, hint, { cause, exitCode: temporary ? EXIT.TEMPFAIL : EXIT.UNAVAILABLE });
  }
}

export interface SmtpTarget {
  host: string;
  port: number;
  /** Local address to bind (`--source`). */
  source?: string;
  timeoutMs: number;
}

export class SmtpClient {
  private buf = '';
  private lines: string[] = [];
  private waiter: ((r: Reply | Error) => void) | null = null;
  private failure: Error | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (d) => this.onData(d.toString('latin1')));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new RelayTestError(this.where, 'the server closed the connection', 'look at its log for why', true)));
  }

  /** Connects and reads the greeting (any code: the caller judges it). */
  static async open(t: SmtpTarget): Promise<{ client: SmtpClient; greeting: Reply }> {
    const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    const socket = connect({ host: t.host, port: t.port, ...(t.source ? { localAddress: t.source } : {}), ...(isIP(t.host) ? { family: isIP(t.host) } : {}) });
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RelayTestError(where, `no connection within ${t.timeoutMs} ms`, 'check the address, the port and any firewall in between', true));
      }, t.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const hint =
          err.code === 'ECONNREFUSED'
            ? 'nothing listens there: check the port and that the SMTP server runs'
            : err.code === 'EADDRNOTAVAIL' || err.code === 'EINVAL'
              ? `--source ${t.source ?? ''} is not an address of this host (or not of the same family as the server)`
              : 'check the host name and the network';
        reject(new RelayTestError(where, `cannot connect (${err.code ?? err.message})`, hint, false, err));
      });
    });
    await connected;
    const client = new SmtpClient(socket, where, t.timeoutMs);
    const greeting = await client.read('the greeting');
    return { client, greeting };
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '';
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<Reply> {
    if (/[\r\n]/.test(line)) throw new Error('an SMTP command cannot contain a line break');
    this.socket.write(line + '\r\n', 'latin1');
    return this.read(line.split(/[ :]/)[0]!);
  }

  /** QUIT without waiting long, then close. */
  async close(): Promise<void> {
    if (!this.failure && !this.socket.destroyed) {
      await Promise.race([this.command('QUIT').catch(() => null), new Promise((r) => setTimeout(r, 1000))]);
    }
    this.socket.destroy();
  }

  private read(what: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const done = (r: Reply | Error) => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.waiter = null;
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      this.waiter = done;
      this.deliver();
      if (this.waiter !== done) return;
      if (this.failure) return done(this.failure);
      this.timer = setTimeout(() => {
        this.fail(new RelayTestError(this.where, `no reply to ${what} within ${this.timeoutMs} ms`, 'the server is slow or stalls this client (tarpit); raise --timeout to wait longer', true));
        this.socket.destroy();
      }, this.timeoutMs);
    });
  }

  private onData(text: string): void {
    this.buf += text;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      this.lines.push(this.buf.slice(0, i).replace(/\r$/, ''));
      this.buf = this.buf.slice(i + 1);
    }
    if (this.buf.length > 64 * 1024) this.fail(new RelayTestError(this.where, 'a reply line longer than 64 KiB', 'this is not an SMTP server', false));
    this.deliver();
  }

  /** Hands over one complete reply (`250-…` lines up to `250 …`) to the waiting read. */
  private deliver(): void {
    if (!this.waiter) return;
    const end = this.lines.findIndex((l) => !/^\d{3}-/.test(l));
    if (end < 0) return;
    const got = this.lines.splice(0, end + 1);
    const last = got[got.length - 1]!;
    const m = /^(\d{3})(?: |$)/.exec(last);
    if (!m) return this.waiter(new RelayTestError(this.where, `not an SMTP reply: ${JSON.stringify(last.slice(0, 80))}`, 'is this port an SMTP server?', false));
    this.waiter({ code: Number(m[1]), text: got.join(' ') });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.waiter?.(err);
  }
}
