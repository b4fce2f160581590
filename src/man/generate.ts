// Writes the man pages from the program and the schema, for the installer or a package build:
//   node dist/src/man/generate.js OUTDIR      → OUTDIR/man8/popgate.8, OUTDIR/man5/popgate.cf.5
//   node dist/src/man/generate.js --completion → the bash completion script, on stdout
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, VERSION } from '../cli/program.js';
import { bashCompletion } from './completion.js';
import { popgate8 } from './popgate-8.js';
import { popgateCf5 } from './popgate-cf-5.js';

const arg = process.argv[2];
if (!arg || arg === '-h' || arg === '--help') {
  process.stderr.write('usage: generate.js OUTDIR | --completion\n');
  process.exit(64);
}
if (arg === '--completion') {
  process.stdout.write(bashCompletion(buildProgram()));
} else {
  for (const [dir, name, page] of [
    ['man8', 'popgate.8', popgate8(buildProgram(), VERSION)],
    ['man5', 'popgate.cf.5', popgateCf5(VERSION)],
  ] as const) {
    mkdirSync(join(arg, dir), { recursive: true });
    writeFileSync(join(arg, dir, name), page, { mode: 0o644 });
    process.stdout.write(`${join(arg, dir, name)}\n`);
  }
}
