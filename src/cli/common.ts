// What every CLI verb shares: options for config and db, loading the config, opening the store,
// exits, who acts, and publishing a change when no daemon runs.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type winston from 'winston';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EXIT, PopgateError, PublishError, StoreError, describe } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import { GrantView } from '../grants/view.js';
import { MapPublisher } from '../publish/map-publisher.js';

export interface CommonOptions {
  config?: string;
  db?: string;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (default /etc/popgate/popgate.cf when it exists)')
    .option('--db <file>', 'grant database (overrides the config)');
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

/** True when a daemon using this database is alive (it records its pid in the store). */
export function daemonRunning(store: SqliteStore): boolean {
  const pid = Number(store.getState('daemon_pid'));
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After a change from the CLI: a running daemon publishes it within a second; without one, the
 * CLI builds the map itself. A map that cannot be rebuilt is a failure (exit 75): Postfix would
 * go on relaying for what the change removed.
 */
export async function publishIfNoDaemon(store: SqliteStore, config: Config): Promise<void> {
  if (daemonRunning(store) || !config.map) return;
  const value = config.map_value;
  const view = new GrantView(store, null);
  const p = new MapPublisher({
    map: config.map,
    text: () => view.mapText(Date.now(), value),
    postmapCommand: config.postmap_command,
    postconfCommand: config.postconf_command,
    logger: createLogger('warn'),
  });
  try {
    await p.start();
  } catch (err) {
    throw new PublishError(p.name, `the change is stored, but the daemon is not running and the map could not be rebuilt: Postfix still uses the old one (${describe(err)})`,
      'fix the cause and run the command again, or start the daemon');
  }
  process.stderr.write(`popgate: the daemon is not running; ${p.name} rebuilt now\n`);
}
