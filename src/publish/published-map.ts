// What the published map holds right now, read back from its text file (written beside the built
// map at every publish): for `list` and `doctor` when the daemon is not running, since Postfix
// goes on relaying for whatever the map holds.
import { existsSync, readFileSync } from 'node:fs';
import type { MapSpec } from '../postfix/map-spec.js';
import type { Store } from '../grants/store.js';

export interface MapContents {
  /** Addresses in the map. */
  held: string[];
  /** Of those, the ones the store no longer grants (expired, revoked): relayed for wrongly. */
  stale: string[];
}

/** The map's addresses, or null when it has no text file (never published). */
export function publishedAddresses(map: MapSpec): string[] | null {
  if (!existsSync(map.path)) return null;
  return readFileSync(map.path, 'utf8')
    .split('\n')
    .map((l) => l.split('\t')[0]!)
    .filter(Boolean);
}

/** The map's addresses, with those the store (when given) no longer grants. */
export function mapContents(map: MapSpec, store: Pick<Store, 'isGranted'> | null, now = Date.now()): MapContents | null {
  const held = publishedAddresses(map);
  if (held === null) return null;
  return { held, stale: store ? held.filter((ip) => !store.isGranted(ip, now)) : held };
}

/** One line for an admin when popgate is down, or null when the map holds nothing. */
export function downNotice(name: string, c: MapContents | null): string | null {
  if (!c || c.held.length === 0) return null;
  const stale = c.stale.length ? `, ${c.stale.length} of them no longer granted` : '';
  return `popgate is not running and ${name} still holds ${c.held.length} address(es)${stale}: Postfix relays for them until popgate runs again or "popgate withdraw" empties it`;
}
