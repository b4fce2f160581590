// The one decision "may this address relay now": exclusions (networks, deny files, mynetworks),
// the emergency brake and expiry. The granter asks it before a grant, the map text and the live
// answers (policy service, socketmap) come from it, and so does `list`. The store holds only
// grants this view allows: when the exclusions change, the daemon revokes what they now refuse.
import type { MapSink } from '../publish/map-content.js';
import { describe } from '../core/errors.js';
import type { Grant } from '../core/types.js';
import { canonicalIp } from '../net/ip.js';
import { brakeState, type BrakeState } from './brake.js';
import type { Exclusions } from './exclusions.js';
import { FOUND, NOTFOUND, type GrantLookup, type Lookup } from './lookup.js';
import type { Store } from './store.js';

/** The refusal while the emergency brake is on. */
export const BRAKE_ON = 'emergency brake on';

export class GrantView implements GrantLookup {
  constructor(
    private readonly store: Store,
    /** null where the exclusions are not needed (list, revoke): the store already obeys them. */
    private exclusions: Exclusions | null,
  ) {}

  setExclusions(exclusions: Exclusions): void {
    this.exclusions = exclusions;
  }

  brake(): BrakeState | null {
    return brakeState(this.store);
  }

  /** Why `ip` (canonical) must not relay, or null when it may; `brake` as read for a batch. */
  refusal(ip: string, brake: BrakeState | null = this.brake()): string | null {
    if (brake) return BRAKE_ON;
    return this.exclusions?.refuse(ip) ?? null;
  }

  /** Live answers: anything that is not an address is not found; a store failure is tempfail. */
  lookup(key: string, now: number): Lookup {
    const ip = canonicalIp(key);
    if (ip === null) return NOTFOUND;
    try {
      if (this.refusal(ip) !== null) return NOTFOUND;
      return this.store.isGranted(ip, now) ? FOUND : NOTFOUND;
    } catch (err) {
      return { kind: 'tempfail', why: describe(err) };
    }
  }

  /** The access map's text (`IP<TAB>value` lines, sorted) into `out`; nothing while the brake is on. */
  mapText(now: number, value: string, out: MapSink): void {
    if (!this.brake()) this.store.mapText(now, value, out);
  }

  /** Active grants, and the brake (none is active while it is on). */
  list(now: number): { grants: Grant[]; brake: BrakeState | null } {
    const brake = this.brake();
    return { grants: brake ? [] : this.store.list(now), brake };
  }
}
