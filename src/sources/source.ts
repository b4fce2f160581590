// The Source interface: lines in batches, each batch with the position to store once it is handled.
import type { LogLine } from '../core/types.js';
import type { Position } from '../grants/store.js';

/**
 * Handles one batch. The position is stored in the same transaction as the grants the lines
 * make, so a restart neither loses nor repeats a line. Throwing makes the source retry the batch.
 */
export type BatchHandler = (lines: LogLine[], position: Position | null) => void | Promise<void>;

export interface Source {
  /** Path or `-`; the key of its stored position. */
  readonly name: string;
  start(handler: BatchHandler): Promise<void>;
  /** Finishes the batch in hand, then stops. */
  stop(): Promise<void>;
  /** SIGHUP: look at the path again (e.g. after a manual rotation). */
  reopen(): void;
}
