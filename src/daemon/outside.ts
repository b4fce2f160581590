// What happens to the store outside the pipeline: another process commits (the CLI), the file is
// replaced or removed, exclusions change (a deny file edited, a reload) and revoke what they now
// refuse; the brake and actions taken by hand are said in the log; WAL checkpoints on a timer.
import type { Logger } from 'winston';
import { describe } from '../core/errors.js';
import type { Store } from '../grants/store.js';
import type { GrantView } from '../grants/view.js';

/** The addresses revoked, or null when the store failed (locked, full): then it must be tried again. */
export function revokeRefused(store: Store, view: GrantView, cause: string, logger: Logger): string[] | null {
  const now = Date.now();
  const revoked: { ip: string; why: string }[] = [];
  try {
    store.transaction(() => {
      for (const ip of store.activeIps(now)) {
        const why = view.refusal(ip, null);
        if (why && store.revoke(ip, now, `${cause}: ${why}`)) revoked.push({ ip, why });
      }
    });
  } catch (err) {
    logger.error(`${cause}: revoking what is now excluded failed (${describe(err)}); retrying`);
    return null;
  }
  for (const r of revoked) logger.info(`revoke ${r.ip}: ${r.why}`);
  return revoked.map((r) => r.ip);
}

/**
 * Runs `attempt` until it says it is done, waiting longer each time (250 ms → 5 s): a store held
 * by another process must not leave a grant that should have ended in the map.
 */
export function untilDone(attempt: () => boolean, stopped: () => boolean): void {
  let wait = 250;
  const again = (): void => {
    if (stopped() || attempt()) return;
    setTimeout(again, wait).unref?.();
    wait = Math.min(wait * 2, 5000);
  };
  again();
}

/** After the exclusions changed: revokes what they now refuse, retried until the store lets it. */
export function revokeUntilDone(store: Store, view: GrantView, cause: string, logger: Logger, revoked: () => void, stopped: () => boolean): void {
  untilDone(() => {
    const ips = revokeRefused(store, view, cause, logger);
    if (ips?.length) revoked();
    return ips !== null;
  }, stopped);
}

/** Says once when the emergency brake was applied or released (by the CLI, or found at start). */
export class BrakeNotice {
  private last: string | null | undefined = undefined;

  constructor(private readonly logger: Logger) {}

  notice(view: GrantView): void {
    const b = view.brake();
    const text = b ? JSON.stringify(b) : null;
    if (text === this.last) return;
    if (b) this.logger.error(`emergency brake is on (applied ${new Date(b.since).toISOString()} by ${b.by}: ${b.reason}): nothing is published or granted until "popgate release"`);
    else if (this.last !== undefined) this.logger.warn('emergency brake released: granting again');
    this.last = text;
  }
}

/** Says in the daemon's log what was done by hand (popgate grant/revoke/flush/brake/release), and by whom. */
export class ManualNotice {
  private last: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.last = store.lastAuditId();
  }

  notice(): void {
    for (const a of this.store.manualAfter(this.last)) {
      this.last = a.id;
      this.logger.info(`by hand: ${a.action}${a.ip ? ` ${a.ip}` : ''} (${a.detail})`);
    }
  }
}

/** A WAL checkpoint every this many polls (1 s at the daemon's tick), between batches, not in a commit. */
const CHECKPOINT_POLLS = 5;

export type Seen = 'changed' | 'replaced' | 'removed' | null;

/** Looked at on every daemon tick. */
export class StoreWatch {
  private readonly fileId: string | null;
  private version: number;
  private polls = 0;
  private readonly brake: BrakeNotice;
  private readonly manual: ManualNotice;

  constructor(
    private readonly store: Store,
    private readonly view: GrantView,
    private readonly logger: Logger,
  ) {
    this.fileId = store.fileId();
    this.version = store.externalVersion();
    this.brake = new BrakeNotice(logger);
    this.manual = new ManualNotice(store, logger);
    this.brake.notice(view);
  }

  /** 'changed' when another process committed (publish, look at expiry); the file's fate otherwise. */
  poll(): Seen {
    const id = this.store.fileId();
    if (id !== this.fileId) return id ? 'replaced' : 'removed';
    if (++this.polls % CHECKPOINT_POLLS === 0) this.checkpoint();
    try {
      const v = this.store.externalVersion();
      if (v === this.version) return null;
      this.version = v;
      this.manual.notice();
      this.brake.notice(this.view);
      return 'changed';
    } catch (err) {
      this.logger.error(describe(err));
      return null;
    }
  }

  private checkpoint(): void {
    try {
      this.store.checkpoint();
    } catch (err) {
      this.logger.warn(`checkpoint: ${describe(err)}`);
    }
  }
}
