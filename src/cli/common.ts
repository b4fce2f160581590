// What every CLI verb shares: options for config and db, loading the config, exits, daemon presence.
import type { Command } from 'commander';
import type winston from 'winston';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EXIT, PopgateError, describe } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { SqliteStore } from '../grants/sqlite-store.js';
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
 * After a change from the CLI: a running daemon publishes it within a second; without one,
 * the CLI builds the map itself so Postfix is not left with the old grants.
 */
export async function publishIfNoDaemon(store: SqliteStore, config: Config): Promise<void> {
  if (daemonRunning(store) || !config.map) return;
  const logger: winston.Logger = createLogger('warn');
  const p = new MapPublisher({
    map: config.map,
    value: config.map_value,
    addresses: () => store.activeIps(Date.now()),
    postmapCommand: config.postmap_command,
    postconfCommand: config.postconf_command,
    logger,
  });
  try {
    await p.start();
    process.stderr.write(`popgate: the daemon is not running; ${p.name} rebuilt now\n`);
  } catch (err) {
    process.stderr.write(`popgate: warning: stored, but the daemon is not running and ${p.name} could not be rebuilt: ${describe(err)}\n`);
  }
}
