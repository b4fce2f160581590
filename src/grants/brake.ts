// The emergency brake: one row in the store's state table. While it is set, every grant is gone,
// nothing is published and no login grants. Kept in the database, so it survives a restart
// and every process (daemon, CLI, live answers, doctor) sees the same state.
import type { Store } from './store.js';

/** Key of the brake in the store's `state` table (doctor and other readers use it too). */
export const BRAKE_KEY = 'brake';

export interface BrakeState {
  /** When it was applied (ms since the epoch). */
  since: number;
  /** Who applied it: `cli:USER` or `auto`. */
  by: string;
  reason: string;
}

/**
 * The brake, or null when released. A value that cannot be read counts as applied:
 * on any doubt popgate does not grant.
 */
export function brakeState(store: Pick<Store, 'getState'>): BrakeState | null {
  const raw = store.getState(BRAKE_KEY);
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<BrakeState>;
    if (typeof v.since === 'number' && typeof v.by === 'string' && typeof v.reason === 'string') return v as BrakeState;
  } catch {
    // fall through
  }
  return { since: 0, by: 'unknown', reason: `unreadable brake state ${JSON.stringify(raw.slice(0, 80))}` };
}

/**
 * Applies the brake and revokes every grant, in one transaction. Returns how many grants
 * were revoked, and the brake that was already on (it is kept, not overwritten), if any.
 */
export function applyBrake(store: Store, now: number, by: string, reason: string): { revoked: number; already: BrakeState | null } {
  return store.transaction(() => {
    const already = brakeState(store);
    if (!already) store.setState(BRAKE_KEY, JSON.stringify({ since: now, by, reason } satisfies BrakeState));
    const revoked = store.flush(now, `brake (${by}): ${reason}`);
    return { revoked, already };
  });
}

/** Releases the brake (recorded in the audit trail); returns the brake that was on, or null. */
export function releaseBrake(store: Store, now: number, by: string): BrakeState | null {
  return store.transaction(() => {
    const was = brakeState(store);
    if (was) {
      store.setState(BRAKE_KEY, null);
      store.note(now, 'release', null, `${by}: brake ${describeBrake(was)}`);
    }
    return was;
  });
}

/** One line for people: `applied 2026-… by cli:root: reason`. */
export function describeBrake(b: BrakeState): string {
  return `applied ${new Date(b.since).toISOString()} by ${b.by}: ${b.reason}`;
}
