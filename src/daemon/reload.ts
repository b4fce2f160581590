// SIGHUP: which part each live setting belongs to. Every setting the schema marks `live` must
// be listed here (the type below fails the build otherwise); `restart` ones are named in the log
// and keep their running value.
import type { Logger } from 'winston';
import type { Config, KeyDoc, LiveKey } from '../config/schema.js';
import { changedKeys } from '../config/schema.js';
import { describe } from '../core/errors.js';
import type { Store } from '../grants/store.js';

/** The part of the daemon a reload rebuilds for a setting. */
export type Part = 'exclusions' | 'granter' | 'dnsbl' | 'parsers' | 'logging' | 'logs' | 'audit';

export const PART_OF: Record<LiveKey, Part> = {
  log: 'logs',
  parsers: 'parsers',
  grace: 'granter',
  max_hold: 'granter',
  brake_rate: 'granter',
  brake_burst: 'granter',
  exclude: 'exclusions',
  use_mynetworks: 'exclusions',
  exclude_files: 'exclusions',
  postconf_command: 'exclusions',
  log_level: 'logging',
  dnsbl_zones: 'dnsbl',
  dnsbl_servers: 'dnsbl',
  dnsbl_timeout: 'dnsbl',
  dnsbl_fail: 'dnsbl',
  dnsbl_cache: 'dnsbl',
  audit_keep: 'audit',
};

export interface ReloadPlan {
  /** Parts to rebuild from the new config. */
  parts: Set<Part>;
  /** Settings applied. */
  live: KeyDoc[];
  /** Settings that changed but need a restart. */
  restart: KeyDoc[];
  /** The config that now runs: the new one, with the running value of every restart-only setting. */
  running: Config;
}

export function planReload(running: Config, next: Config): ReloadPlan {
  const changed = changedKeys(running, next);
  const live = changed.filter((k) => k.reload === 'live');
  const restart = changed.filter((k) => k.reload === 'restart');
  const kept = { ...next } as Record<string, unknown>;
  for (const k of restart) kept[k.key] = running[k.key];
  // Exclusions are read again on every reload: Postfix's mynetworks may have changed by itself.
  const parts = new Set<Part>(['exclusions', 'logs', ...live.map((k) => PART_OF[k.key as LiveKey])]);
  return { parts, live, restart, running: kept as Config };
}

/**
 * A shorter grace or max_hold applies to the grants that exist now, not only to new logins:
 * admins shorten them when something is wrong. True when grants were recomputed.
 */
export function shortenGrants(store: Store, was: Config, now: Config, logger: Logger): boolean {
  if (now.grace >= was.grace && now.max_hold >= was.max_hold) return false;
  try {
    const n = store.transaction(() => store.shorten(Math.max(0, was.grace - now.grace), now.max_hold, Date.now()));
    logger.info(`reload: grace ${was.grace / 1000}s → ${now.grace / 1000}s, max_hold ${was.max_hold / 1000}s → ${now.max_hold / 1000}s: ${n} active grant(s) recomputed`);
    return true;
  } catch (err) {
    logger.error(`reload: shortening the existing grants failed (${describe(err)}); hint: popgate flush ends them all`);
    return false;
  }
}
