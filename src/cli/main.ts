#!/usr/bin/env node
// popgate's command line: one verb per file, errors mapped to sysexits codes.
import { Command, CommanderError } from 'commander';
import { EXIT } from '../core/errors.js';
import { register as registerBrake } from './brake.js';
import { register as registerConfig } from './config.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerGrants } from './grants.js';
import { register as registerParse } from './parse.js';
import { register as registerRelayTest } from './relay-test.js';
import { register as registerRun } from './run.js';

const program = new Command('popgate')
  .description('POP-before-SMTP for Postfix: relay for clients that just logged in over POP3/IMAP')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

registerRun(program);
registerParse(program);
registerGrants(program);
registerConfig(program);
registerDoctor(program);
registerBrake(program);
registerRelayTest(program);
for (const c of program.commands) c.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
    process.exitCode = ok ? EXIT.OK : EXIT.USAGE;
  } else throw err;
}
