// Expiry at the next expires_at, not on a fixed poll; a failed expiry (store locked, disk full)
// is retried with backoff until it succeeds, since the map must not keep an address past its time.
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Store } from '../grants/store.js';

const MAX_TIMER = 2 ** 31 - 1;
const RETRY_MS = [250, 500, 1000, 2000, 5000];

export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;
  private dueAt: number | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly store: Store,
    /** Called after grants expired (the map must drop them). */
    private readonly expired: (ips: string[]) => void,
    private readonly logger: Logger,
  ) {}

  /** Expires what is due now, then waits for the next expiry. */
  run(): void {
    if (this.stopped) return;
    this.clear();
    const now = Date.now();
    let next: number | null;
    try {
      const ips = this.store.expire(now);
      for (const ip of ips) this.logger.info(`expire ${ip}: grace ended`);
      if (ips.length) this.expired(ips);
      next = this.store.nextExpiry(now);
      this.failures = 0;
    } catch (err) {
      const wait = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)]!;
      this.logger.error(`expiry failed, retrying in ${wait} ms: ${describe(err)}`);
      next = now + wait;
    }
    if (next !== null) this.arm(next, now);
  }

  /** A grant now expires at `at`: make sure the timer fires by then. */
  expiresBy(at: number): void {
    if (this.stopped || (this.dueAt !== null && this.dueAt <= at)) return;
    this.clear();
    this.arm(at, Date.now());
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private arm(at: number, now: number): void {
    this.dueAt = at;
    this.timer = setTimeout(() => this.run(), Math.min(MAX_TIMER, Math.max(0, at - now + 1)));
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dueAt = null;
  }
}
