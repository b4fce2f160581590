// Sends a writer's outbox to the shared store: in order, in batches, one transaction each; a
// batch leaves the outbox only after PostgreSQL committed it. While the store is unreachable the
// rows wait (the outbox is on disk: a restart keeps them) and delivery retries with backoff.
// Between deliveries, on the same connection, it prunes the shared history and revocations.
import type pg from 'pg';
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Outbox } from './outbox.js';
import { applyRows } from './pg-apply.js';
import { connectPg, DEFAULT_TIMEOUTS, drop, inTransaction, shown, type Timeouts } from './pg-connect.js';
import { PRUNE_BATCH, pruneShared } from './pg-retention.js';
import { migratePg } from './pg-schema.js';

const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** Pruning as the SQLite audit's (daemon/audit-retention.ts): a minute after start, then hourly. */
const PRUNE_TIMING = { firstMs: 60_000, everyMs: 3600_000 };

export interface DelivererOptions {
  outbox: Outbox;
  url: string;
  writer: string;
  logger: Logger;
  timeouts?: Timeouts;
  /** Rows per transaction. */
  batch?: number;
  /** How often an empty outbox is looked at again (the CLI writes it from other processes too). */
  idleMs?: number;
  /** audit_keep: shared history rows older than this are deleted (0: kept forever). */
  historyKeepMs?: number;
  prune?: { firstMs: number; everyMs: number };
}

export class Deliverer {
  private client: pg.Client | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private failures = 0;
  private pruneAt: number;
  /** Rows applied since start, and the last failure (status, tests). */
  delivered = 0;
  lastError: string | null = null;

  /** Rows deleted by pruning since start (tests). */
  pruned = { history: 0, revocations: 0 };

  constructor(private readonly o: DelivererOptions) {
    this.pruneAt = Date.now() + (o.prune ?? PRUNE_TIMING).firstMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something was committed: look at the outbox now. */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
    drop(this.client);
    this.client = null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      try {
        more = await this.once();
        if (this.failures) this.o.logger.warn(`store ${shown(this.o.url)}: reachable again after ${this.failures} failed attempt(s); outbox delivered in order`);
        this.failures = 0;
        this.lastError = null;
      } catch (err) {
        drop(this.client);
        this.client = null;
        this.lastError = describe(err);
        const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)]!;
        // One error when it starts failing, then one line per 20 attempts: an outage must not flood the log.
        if (this.failures++ % 20 === 0) {
          this.o.logger.error(`store ${shown(this.o.url)}: delivery failed, ${this.o.outbox.size()} change(s) kept in the outbox and retried every ≤${RETRY_MS.at(-1)! / 1000}s (${this.lastError})`);
        }
        await this.sleep(wait);
        continue;
      }
      if (more) continue;
      // Only a host that delivers prunes (it has a connection): a reader's role may not delete.
      if (this.client && Date.now() >= this.pruneAt) await this.prune(this.client);
      await this.sleep(this.o.idleMs ?? 100);
    }
  }

  /** One bounded pass; a full batch comes back at the next idle moment, the outbox first. */
  private async prune(client: pg.Client): Promise<void> {
    const every = (this.o.prune ?? PRUNE_TIMING).everyMs;
    try {
      const n = await pruneShared(client, this.o.historyKeepMs ?? 0);
      this.pruned.history += n.history;
      this.pruned.revocations += n.revocations;
      this.pruneAt = Date.now() + (n.history === PRUNE_BATCH || n.revocations === PRUNE_BATCH ? 0 : every);
      if (n.history || n.revocations) this.o.logger.debug(`store ${shown(this.o.url)}: pruned ${n.history} history row(s) older than audit_keep, ${n.revocations} revocation(s) no login can meet`);
    } catch (err) {
      this.pruneAt = Date.now() + every;
      this.o.logger.warn(`store ${shown(this.o.url)}: pruning the shared history and revocations failed (${describe(err)}); tried again in ${Math.round(every / 60_000)} min`);
      // The connection may be what failed: the next delivery opens a new one.
      drop(this.client);
      this.client = null;
    }
  }

  /** Delivers one batch; true when more may be waiting. */
  private async once(): Promise<boolean> {
    const rows = this.o.outbox.pending(this.o.batch ?? 500);
    if (rows.length === 0) return false;
    const client = await this.connect();
    const done = await inTransaction(client, () => applyRows(client, this.o.writer, rows, Date.now()));
    // Committed: a crash before this line delivers the batch again, and the store skips it.
    this.o.outbox.drop(done.lastSeq);
    this.delivered += done.applied;
    return rows.length === (this.o.batch ?? 500);
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = await connectPg(this.o.url, this.o.timeouts ?? DEFAULT_TIMEOUTS, 'writer');
    try {
      const m = await migratePg(client, this.o.url);
      if (m.from !== m.to) this.o.logger.info(`store ${shown(this.o.url)}: schema migrated ${m.from} → ${m.to}`);
    } catch (err) {
      drop(client);
      throw err;
    }
    this.client = client;
    return client;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
    });
  }
}
