// What every CLI verb shares: options for config and db, loading the config, opening the store,
// exits, who acts, and publishing a change when no daemon runs.
import type { MapSink } from '../publish/map-content.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type winston from 'winston';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EXIT, PopgateError, PublishError, StoreError, describe } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { lockHolder } from '../core/instance-lock.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import type { Store } from '../grants/store.js';
import { GrantView } from '../grants/view.js';
import { MapPublisher } from '../publish/map-publisher.js';

export interface CommonOptions {
  config?: string;
  db?: string;
}

export function withCommon(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (default /etc/popgate/popgate.cf when it exists)').option('--db <file>', 'grant database (overrides the config)');
}

export function configFrom(opts: CommonOptions, overrides: Partial<Record<keyof Config, string>> = {}, logger?: winston.Logger): Config {
  const warn = (m: string) => (logger ? logger.warn(m) : process.stderr.write(`popgate: warning: ${m}\n`));
  return loadConfig({ file: opts.config, overrides: { ...(opts.db ? { db: opts.db } : {}), ...overrides }, warn });
}

/**
 * The store of an existing database. The CLI never creates one: a typo in --db must not look
 * like "nobody has relay", and a database the daemon does not use must not take changes.
 * `read` opens it read-only (list, doctor, brake --status write nothing).
 */
export function openStore(config: Config, mode: 'read' | 'write'): SqliteStore {
  if (config.db !== ':memory:' && !existsSync(config.db)) {
    throw new StoreError(config.db, 'no grant database here', 'check --db and the db setting; popgate run creates the database at its first start', undefined, EXIT.NOINPUT);
  }
  return new SqliteStore(config.db, { readonly: mode === 'read' });
}

/** Who acts, for the audit trail and the daemon's log: `cli:alice` (through sudo: the sudo user). */
export function who(): string {
  let name = process.env.SUDO_USER;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? '?'}`;
    }
  }
  return `cli:${name}`;
}

/** Runs a verb and turns errors into a message and a sysexits code. */
export async function act(fn: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code ?? EXIT.OK;
  } catch (err) {
    if (err instanceof PopgateError) {
      process.stderr.write(`popgate: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`popgate: ${describe(err)}\n`);
      process.exitCode = EXIT.TEMPFAIL;
    }
  }
}

/** True when a daemon holds this database's lock (see core/instance-lock.ts). */
export async function daemonRunning(config: Config): Promise<boolean> {
  return (await lockHolder(config.db)) !== null;
}

/** A one-shot map publisher for the CLI (no resident postmap shell left behind). */
export function cliMapPublisher(config: Config, text: (out: MapSink) => void): MapPublisher | null {
  if (!config.map) return null;
  return new MapPublisher({ map: config.map, text, postmapCommand: config.postmap_command, postconfCommand: config.postconf_command, logger: createLogger('warn') });
}

/**
 * After a change from the CLI: a running daemon publishes it within a second; without one, the
 * CLI builds the map itself. A map that cannot be rebuilt is a failure (exit 75): Postfix would
 * go on relaying for what the change removed.
 */
export async function publishIfNoDaemon(store: Store, config: Config): Promise<void> {
  const view = new GrantView(store, null);
  const p = cliMapPublisher(config, (out) => view.mapText(Date.now(), config.map_value, out));
  if (!p || (await daemonRunning(config))) return;
  // A daemon of another database publishes this map: rebuilding it from ours would overwrite it.
  const owner = await lockHolder(config.map!.path, 'map');
  if (owner) {
    throw new PopgateError(
      'PUBLISH',
      p.name,
      `the change is stored in ${config.db}, but this map is published by another popgate daemon (pid ${owner.pid}) from another database`,
      'give each database its own map, or act on the database that daemon uses (--db)',
      { exitCode: EXIT.TEMPFAIL },
    );
  }
  try {
    await p.start();
  } catch (err) {
    throw new PublishError(
      p.name,
      `the change is stored, but the daemon is not running and the map could not be rebuilt: Postfix still uses the old one (${describe(err)})`,
      'fix the cause and run the command again, or start the daemon',
    );
  }
  process.stderr.write(`popgate: the daemon is not running; ${p.name} rebuilt now\n`);
}
