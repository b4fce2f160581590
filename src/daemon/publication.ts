// When the publishers hear of a change: at once for lines read live, once at the end for a
// backlog (one map build after a catch-up, not hundreds), never before they have started.
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Publisher } from '../publish/publisher.js';
import { mapMoved, type Changes } from './pipeline.js';

export class Publication {
  private started = false;
  /** Logs catching up (a start, a reload that adds logs). */
  private catchingUp = 0;
  private backlogMoved = false;

  constructor(private readonly publishers: readonly Publisher[]) {}

  /** Starts every publisher (each publishes the current state); changes count from then on. */
  async start(): Promise<void> {
    for (const p of this.publishers) await p.start();
    this.started = true;
  }

  /** A batch's changes: the map moved, live → publish now; from a backlog → after it. */
  changes(c: Changes): void {
    if (!mapMoved(c)) return;
    if (c.live || this.catchingUp === 0) this.now();
    else this.backlogMoved = true;
  }

  /** Publish now (an expiry, a change the CLI made, a revoke). */
  now(): void {
    if (!this.started) return;
    this.backlogMoved = false;
    for (const p of this.publishers) p.changed();
  }

  /** Runs a catch-up; what its backlog moved is published once, when it and any other are done. */
  async catchUp(fn: () => Promise<void>): Promise<void> {
    this.catchingUp++;
    try {
      await fn();
    } finally {
      this.catchingUp--;
    }
    if (this.backlogMoved && this.catchingUp === 0) this.now();
  }

  /** Stops each publisher: the map is withdrawn, the live answerers close. */
  async stop(logger: Logger): Promise<void> {
    this.started = false;
    for (const p of this.publishers) {
      await p.stop().catch((err) => logger.error(`stop: ${describe(err)}; hint: popgate withdraw empties the map by hand`));
    }
  }

  async settled(): Promise<void> {
    for (const p of this.publishers) await p.settled();
  }
}
