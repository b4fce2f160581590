// The command-line program in one place: the CLI runs it, and the man page and the bash completion
// are generated from it, so none of them can drift. A new verb is one line in VERBS.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { register as registerBrake } from './brake.js';
import { register as registerConfig } from './config.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerGrants } from './grants.js';
import { register as registerHistory } from './history.js';
import { register as registerParse } from './parse.js';
import { register as registerPgsqlMap } from './pgsql-map.js';
import { register as registerRelayTest } from './relay-test.js';
import { register as registerRun } from './run.js';
import { register as registerStore } from './store.js';
import { register as registerStatus } from './status.js';
import { register as registerWithdraw } from './withdraw.js';

/** From package.json (two levels above dist/src/cli), so a release bumps one place. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;

/** Exit status when the output's reader went away (128 + SIGPIPE, as the shell reports it). */
export const EXIT_BROKEN_PIPE = 141;

/** Each adds its verbs to the program, in the order help and the man page list them. */
const VERBS: ReadonlyArray<(program: Command) => void> = [
  registerRun,
  registerParse,
  registerGrants,
  registerConfig,
  registerDoctor,
  registerBrake,
  registerRelayTest,
  registerWithdraw,
  registerStatus,
  registerHistory,
  registerStore,
  registerPgsqlMap,
];

export function buildProgram(): Command {
  const program = new Command('popgate').description('POP-before-SMTP for Postfix: relay for clients that just logged in over POP3/IMAP').version(VERSION).showHelpAfterError();
  for (const register of VERBS) register(program);
  // Every level throws instead of exiting, so main maps the outcome to a sysexits code.
  const throwing = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(throwing);
  };
  throwing(program);
  return program;
}
