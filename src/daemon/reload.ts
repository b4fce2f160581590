// SIGHUP: which part each live setting belongs to. Every setting the schema marks `live` must
// be listed here (the type below fails the build otherwise); `restart` ones are named in the log
// and keep their running value.
import type { Logger } from 'winston';
import type { Config, KeyDoc, LiveKey } from '../config/schema.js';
import { changedKeys } from '../config/schema.js';
import { describe } from '../core/errors.js';
import { loadExclusions } from '../grants/exclusions.js';
import type { Store } from '../grants/store.js';
import { dnsblFrom, engineFor, granterOptions, type Parts } from './assemble.js';
import { untilDone } from './outside.js';
import type { Pipeline } from './pipeline.js';

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
 * admins shorten them when something is wrong. `failed` (the store was locked): try again.
 */
export function shortenGrants(store: Store, was: Config, now: Config, logger: Logger): 'done' | 'none' | 'failed' {
  if (now.grace >= was.grace && now.max_hold >= was.max_hold) return 'none';
  try {
    const n = store.transaction(() => store.shorten(Math.max(0, was.grace - now.grace), now.max_hold, Date.now()));
    logger.info(`reload: grace ${was.grace / 1000}s → ${now.grace / 1000}s, max_hold ${was.max_hold / 1000}s → ${now.max_hold / 1000}s: ${n} active grant(s) recomputed`);
    return 'done';
  } catch (err) {
    logger.error(`reload: shortening the existing grants failed (${describe(err)}); retrying`);
    return 'failed';
  }
}

/** What a reload changes in a running daemon. */
export interface Running {
  config: Config;
  parts: Parts;
  pipeline: Pipeline;
  logger: Logger;
  /** Deny files watched again (their set may have changed). */
  watchDeny(): void;
  /** Grants the new exclusions refuse are revoked. */
  revokeRefused(cause: string): void;
  /** Grants were shortened: expire what is due, publish. */
  shortened(): void;
  /** The daemon is stopping: retries end. */
  stopped(): boolean;
  /** Follow exactly these logs (the ones kept are reopened). */
  follow(paths: readonly string[]): Promise<void>;
}

/** SIGHUP: every live setting applied, every restart-only one named. Returns the config that now runs. */
export async function applyReload(r: Running, next: Config): Promise<Config> {
  const plan = planReload(r.config, next);
  const c = plan.running;
  if (plan.parts.has('exclusions')) {
    const old = r.parts.exclusions.deny;
    r.parts.exclusions = await loadExclusions(c, r.logger);
    r.parts.view.setExclusions(r.parts.exclusions);
    await old?.close();
    r.watchDeny();
    r.revokeRefused('reload');
  }
  if (plan.parts.has('granter')) {
    r.parts.granter.reconfigure(granterOptions(c));
    const was = r.config;
    // Retried until the store lets it: a grace shortened must not leave longer grants in the map.
    untilDone(() => {
      const done = shortenGrants(r.parts.store, was, c, r.logger);
      if (done === 'done') r.shortened();
      return done !== 'failed';
    }, r.stopped);
  }
  if (plan.parts.has('dnsbl')) r.pipeline.dnsbl = dnsblFrom(c);
  if (plan.parts.has('parsers')) r.pipeline.engine = engineFor(c, r.pipeline.engine);
  if (plan.parts.has('logging')) r.logger.level = c.log_level;
  await r.follow(c.log);
  if (plan.restart.length) {
    r.logger.warn(`reload: ${plan.restart.map((k) => k.key).join(', ')} changed; that takes effect at the next restart (the running value stays)`);
  }
  r.logger.info(`configuration reloaded${plan.live.length ? ` (${plan.live.map((k) => k.key).join(', ')})` : ''}, logs reopened`);
  return c;
}
