// audit_keep: the daemon deletes audit rows older than that, hourly, in batches of 1,000 rows,
// each its own short transaction with the event loop free in between, so a first prune of
// millions of rows never holds up a login's grant or a live answer for long.
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Store } from '../grants/store.js';

export const PRUNE_BATCH = 1000;
const EVERY_MS = 3600_000;
/** The first prune waits a little: the start (catch-up, first build) goes first. */
const FIRST_MS = 60_000;

export class AuditRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly store: Pick<Store, 'pruneAudit' | 'transaction'>,
    /** audit_keep as configured now (a reload changes it); 0 keeps everything. */
    private readonly keepMs: () => number,
    private readonly logger: Logger,
    private readonly timing = { firstMs: FIRST_MS, everyMs: EVERY_MS },
  ) {}

  start(): void {
    this.schedule(this.timing.firstMs);
  }

  stop(): Promise<number | void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }

  /** Deletes what is older than audit_keep; resolves with how many rows went. */
  prune(now = Date.now()): Promise<number> {
    this.running ??= this.batches(now).finally(() => (this.running = null));
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.prune().finally(() => this.schedule(this.timing.everyMs)), ms);
    this.timer.unref();
  }

  private async batches(now: number): Promise<number> {
    const keep = this.keepMs();
    if (keep <= 0) return 0;
    let total = 0;
    try {
      for (;;) {
        const n = this.store.transaction(() => this.store.pruneAudit(now - keep, PRUNE_BATCH));
        total += n;
        if (n < PRUNE_BATCH || this.stopped) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.logger.warn(`audit trail: deleting entries older than audit_keep failed (${describe(err)}); the next hourly run tries again`);
    }
    if (total) this.logger.info(`audit trail: ${total} entr${total === 1 ? 'y' : 'ies'} older than ${Math.round(keep / 86_400_000)} day(s) deleted (audit_keep)`);
    return total;
  }
}
