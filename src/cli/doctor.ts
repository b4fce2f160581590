// `popgate doctor`: checks the whole wiring (Postfix settings, map, sockets, logs, database)
// and says what to fix, with the exact lines to add. Exit 78 when anything is an error.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { EXIT, PopgateError } from '../core/errors.js';
import { formatFinding, summary } from '../doctor/finding.js';
import { runChecks } from '../doctor/run-checks.js';
import { act } from './common.js';

interface DoctorOptions {
  config?: string;
  postfixConfig?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the Postfix wiring, the map or sockets, the logs and the database; say what to fix')
    .option('-c, --config <file>', 'popgate config file (default /etc/popgate/popgate.cf when it exists)')
    .option('--postfix-config <dir>', 'Postfix configuration directory (postconf -c), default /etc/postfix')
    .option('-q, --quiet', 'print only problems')
    .action((opts: DoctorOptions) =>
      act(async () => {
        const warnings: string[] = [];
        let config;
        try {
          config = loadConfig({ file: opts.config, warn: (m) => warnings.push(m) });
        } catch (err) {
          if (!(err instanceof PopgateError)) throw err;
          config = err;
        }
        const findings = await runChecks({ config, postfixDir: opts.postfixConfig ?? null });
        for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
        for (const f of findings) if (!opts.quiet || f.level !== 'ok') process.stdout.write(formatFinding(f) + '\n');
        const s = summary(findings);
        process.stdout.write(`popgate doctor: ${s.text}\n`);
        return s.errors ? EXIT.CONFIG : EXIT.OK;
      }),
    );
}
