// `popgate config`: the effective settings (like postconf -n), or every default with its meaning (-d).
import type { Command } from 'commander';
import { readConfigFile, DEFAULT_CONFIG_PATH } from '../config/load.js';
import { SCHEMA } from '../config/schema.js';
import { act } from './common.js';

export function register(program: Command): void {
  program
    .command('config')
    .description('show settings: those set in the config file, or with -d every default and its meaning')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_PATH)
    .option('-d, --defaults', 'every setting with its default and meaning')
    .action((opts: { config: string; defaults?: boolean }) =>
      act(() => {
        if (opts.defaults) {
          for (const k of SCHEMA) process.stdout.write(`# ${k.meaning}\n${k.key} = ${k.default}\n\n`);
          return;
        }
        const entries = readConfigFile(opts.config, opts.config !== DEFAULT_CONFIG_PATH);
        for (const k of SCHEMA) {
          const e = entries.get(k.key);
          if (e) process.stdout.write(`${k.key} = ${e.value}\n`);
        }
      }),
    );
}
