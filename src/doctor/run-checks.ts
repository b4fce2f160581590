// Every doctor check in order: popgate's config, Postfix's wiring, the files and sockets
// between them, the logs and the database.
import type { Config } from '../config/schema.js';
import { describe, PopgateError } from '../core/errors.js';
import { checkDaemon } from './daemon-state.js';
import { judgeDovecot, readDovecot } from './dovecot.js';
import { checkPgsqlTables } from './pgsql-table.js';
import { checkDistinct, checkMap, checkSocket } from './files.js';
import { error, type Finding } from './finding.js';
import { checkLogs } from './logs.js';
import { checkBrake, checkDb, checkGrace, checkMynetworks } from './popgate-side.js';
import { readPostfix } from './postfix-view.js';
import { checkSharedStore } from './shared-store.js';
import { targets } from './targets.js';
import { checkWiring } from './wiring.js';

export interface DoctorInput {
  /** The loaded config, or the error that stopped loading it. */
  config: Config | PopgateError;
  /** `postconf -c DIR`; null for the default configuration directory. */
  postfixDir: string | null;
}

export async function runChecks(input: DoctorInput): Promise<Finding[]> {
  if (input.config instanceof PopgateError) return [error(input.config.where, input.config.message.slice(input.config.where.length + 2).replace(/; hint: .*$/, ''), input.config.hint)];
  const config = input.config;
  let pf;
  try {
    pf = await readPostfix(config.postconf_command, input.postfixDir);
  } catch (err) {
    return [err instanceof PopgateError ? error(err.where, err.message.slice(err.where.length + 2).replace(/; hint: .*$/, ''), err.hint) : error('postconf', describe(err))];
  }
  return [
    ...checkWiring(pf, targets(config, pf.queueDirectory)),
    ...checkMap(config, pf),
    ...checkDistinct(config),
    ...(await checkSocket('policy', config.policy, config, pf)),
    ...(await checkSocket('socketmap', config.socketmap, config, pf)),
    ...checkMynetworks(pf),
    ...checkPgsqlTables(pf),
    ...checkLogs(config),
    ...(await dovecotChecks(config)),
    ...checkDb(config),
    ...checkBrake(config),
    ...(await checkSharedStore(config)),
    ...(await checkDaemon(config)),
    ...checkGrace(config),
  ];
}

/** Dovecot's own settings, when this host has Dovecot. */
async function dovecotChecks(config: Config): Promise<Finding[]> {
  const d = await readDovecot();
  return d ? judgeDovecot(d, config.log) : [];
}
