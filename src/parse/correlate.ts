// Correlation state, bounded: open sessions (logout ↔ login), pending client addresses of
// two-line servers (connect → login), and logins held for a possible veto. Oldest dropped first.
import type { AuthEvent, Protocol } from '../core/types.js';

export interface SessionInfo {
  ip: string;
  user: string | null;
  protocol: Protocol | null;
}

export interface Held {
  event: AuthEvent;
  /** The login line's own time, or the reference time when it had none. */
  at: number;
  /** The reference (clock) time when it was held. */
  heldAt: number;
  holdMs: number;
}

/** A Map that forgets its oldest entry past `max`; a re-set key counts as new. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  take(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  /** Entries in insertion order (oldest first). */
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

/**
 * Held logins that are due: by the current line's own time, or by the clock. Holds are kept in
 * the order they were made, so the scan stops at the first one not yet due: a busy server with
 * many logins held at once costs one check per line, not one per hold.
 */
export function dueHolds(holds: BoundedMap<Held>, lineTime: number | null, nowMs: number): AuthEvent[] {
  const out: AuthEvent[] = [];
  for (const [key, h] of holds.entries()) {
    const byLine = lineTime !== null && lineTime - h.at >= h.holdMs;
    const byClock = nowMs - h.heldAt >= h.holdMs;
    if (!byLine && !byClock) break;
    holds.delete(key);
    out.push(h.event);
  }
  return out;
}
