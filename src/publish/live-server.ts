// A live answerer (policy service, socketmap) as a Publisher: its answers come from the grant
// lookup at request time, so there is nothing to publish; only the listener starts and stops.
// Subclasses give the framing and the answer; the request loop, its clock and its backpressure
// are here, once.
import { describe } from '../core/errors.js';
import type { GrantLookup, Lookup } from '../grants/lookup.js';
import type { Decoder } from '../wire/decoder.js';
import { LiveListener, type Connection, type ListenerOptions } from './live-listener.js';
import type { Publisher } from './publisher.js';

export abstract class LiveServer<T> implements Publisher {
  abstract readonly name: string;
  protected readonly listener: LiveListener;
  /** Requests answered (tests and benchmarks). */
  answered = 0;

  /** `requestMs`: a request that has begun must end within this time. */
  constructor(
    options: Omit<ListenerOptions, 'onConnection'>,
    private readonly requestMs: number,
  ) {
    this.listener = new LiveListener({ ...options, onConnection: (c) => this.serve(c) });
  }

  /** A fresh decoder for one connection. */
  protected abstract decoder(): Decoder<T>;

  /** The reply to one request, or null to close without one (Postfix then applies its default: 4xx). */
  protected abstract answer(request: T): string | null;

  /**
   * Reads requests and answers them in order. While the client leaves more than maxPendingOutput
   * of answers unread, reading stops (a flood took 1.3 GB): the kernel's buffers
   * then push back on the client, and memory per connection stays bounded.
   */
  private serve(c: Connection): void {
    const { socket } = c;
    const dec = this.decoder();
    const limit = this.listener.limits.maxPendingOutput;
    let timer: NodeJS.Timeout | null = null;
    let paused = false;
    const cut = (kind: string, why: string) => {
      this.listener.report('warn', kind, `${why}; connection closed`);
      socket.destroy();
    };
    const pump = (): void => {
      while (!socket.destroyed && socket.writableLength <= limit) {
        const f = dec.next();
        if (f.kind === 'more') break;
        if (f.kind === 'error') return cut('framing', f.why);
        const reply = this.answer(f.value);
        if (reply === null) return void socket.destroy();
        this.answered++;
        c.lastDone = Date.now();
        // The clock runs from the first byte of a request to its answer.
        if (timer) clearTimeout(timer);
        timer = null;
        socket.write(reply);
      }
      c.busy = !dec.idle;
      if (!c.busy && timer) clearTimeout(timer), (timer = null);
      if (c.busy && !timer) timer = setTimeout(() => cut('slow', `request not finished within ${this.requestMs} ms`), this.requestMs);
      if (!paused && socket.writableLength > limit) {
        paused = true;
        socket.pause();
        socket.once('drain', () => {
          paused = false;
          pump();
          if (!paused) socket.resume();
        });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      dec.push(chunk);
      pump();
    });
    socket.on('close', () => timer && clearTimeout(timer));
  }

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

  stats(): { connections: number; pendingOutputBytes: number } {
    return this.listener.stats();
  }
}

/** Asks the lookup; it promises not to throw, and should it, that is a temporary failure, never a grant. */
export function ask(lookup: GrantLookup, key: string, now: number): Lookup {
  try {
    return lookup.lookup(key, now);
  } catch (err) {
    return { kind: 'tempfail', why: describe(err) };
  }
}
