// The one decision behind every live answer (policy service, socketmap): is this client
// granted right now? Canonical address first, then the store, compared with `now`.
// Anything that is not an address is "not granted"; a store failure throws (never "granted").
import { canonicalIp } from '../net/ip.js';
import { brakeState } from '../grants/brake.js';
import type { Store } from '../grants/store.js';

/** `getState` gives the emergency brake (grants/brake.ts); a lookup without it cannot see one. */
export type GrantLookup = Pick<Store, 'isGranted'> & Partial<Pick<Store, 'getState'>>;

/**
 * True when `address` (as Postfix sent it) holds a grant at `now`. Throws the store's error
 * when the store cannot answer: callers turn that into "try again later", never into OK.
 */
export function grantedNow(store: GrantLookup, address: string, now: number = Date.now()): boolean {
  const ip = canonicalIp(address);
  if (ip === null) return false;
  // The emergency brake answers "not granted" for everybody, whatever the store still holds.
  if (store.getState && brakeState(store as Pick<Store, 'getState'>)) return false;
  return store.isGranted(ip, now) === true;
}
