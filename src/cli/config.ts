// `popgate config`: the settings set in the config file (like postconf -n), each checked with the
// daemon's own loader (a bad value is exit 78 with file, line and hint); -d gives every default
// and its meaning.
import type { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig, readConfigFile } from '../config/load.js';
import { SCHEMA } from '../config/schema.js';
import { act } from './common.js';

export function register(program: Command): void {
  program
    .command('config')
    .description('check and show settings: those set in the config file, or with -d every default and its meaning')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_PATH)
    .option('-d, --defaults', 'every setting with its default and meaning')
    .action((opts: { config: string; defaults?: boolean }) =>
      act(() => {
        if (opts.defaults) {
          for (const k of SCHEMA) process.stdout.write(`# ${k.meaning}\n${k.key} = ${k.default}\n\n`);
          return;
        }
        const explicit = opts.config !== DEFAULT_CONFIG_PATH;
        // The same validation `popgate run` applies: what passes here, the daemon accepts.
        loadConfig({ file: explicit ? opts.config : undefined, warn: (m) => process.stderr.write(`popgate: warning: ${m}\n`) });
        const entries = readConfigFile(opts.config, explicit);
        for (const k of SCHEMA) {
          const e = entries.get(k.key);
          if (e) process.stdout.write(`${k.key} = ${e.value}\n`);
        }
      }),
    );
}
