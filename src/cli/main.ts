#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// popgate's command line: runs the program of program.ts and maps its outcome to sysexits codes.
// The shebang caps V8's young generation (2 × 2 MB) and its worker threads (one: each held its own
// malloc arena, ~10 MB in all, for no speed a daemon on a small server notices): peak RSS with 100k
// grants stays under 100 MB with no flag for the admin to set (bench/memory.ts reads them from here).
import { CommanderError } from 'commander';
import { EXIT } from '../core/errors.js';
import { buildProgram, EXIT_BROKEN_PIPE } from './program.js';

// `popgate … | head`: the reader is gone, so there is nobody left to tell; stop quietly, with the
// status of a tool killed by SIGPIPE (not 0: a daemon whose journal stream broke is then restarted).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(EXIT_BROKEN_PIPE);
  });
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // Help and version asked for exit 0; everything else commander refuses (no verb, an unknown
  // verb or option, a missing argument) is a usage error.
  process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
}
