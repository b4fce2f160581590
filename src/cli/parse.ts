// `popgate parse`: a dry run of the very parsing code the daemon uses, over whole files.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { buildPolicy, selectParsers } from '../daemon.js';
import { SourceError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { AuthEvent } from '../core/types.js';
import { Engine } from '../parse/engine.js';
import { parserNames } from '../../parsers/index.js';
import { act, configFrom, withCommon, type CommonOptions } from './common.js';

interface ParseOptions extends CommonOptions {
  parser: string[];
  json?: boolean;
  explain?: boolean;
}

function eventJson(file: string, line: number, ev: AuthEvent, why: string | null): string {
  const o: Record<string, unknown> = {
    file,
    line,
    event: ev.event,
    ip: ev.ip,
    user: ev.user,
    server: ev.server,
    protocol: ev.protocol,
    time: ev.time === null ? null : new Date(ev.time).toISOString(),
  };
  if (why) Object.assign(o, { grant: false, why });
  return JSON.stringify(o);
}

export function register(program: Command): void {
  withCommon(program.command('parse').description('print the login events found in log files (nothing is granted)'))
    .argument('<file...>', 'log files; - reads standard input')
    .option('-p, --parser <name>', `use only this parser (repeatable; known: ${parserNames().join(', ')})`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'one JSON object per event')
    .option('--explain', 'also say, for each line a parser looked at, which rule matched or why nothing did')
    .action((files: string[], opts: ParseOptions) =>
      act(async () => {
        const config = configFrom(opts);
        const engine = new Engine(selectParsers(opts.parser.length ? opts.parser : config.parsers, '--parser'));
        const policy = await buildPolicy(config, createLogger('error'));
        const totals = { lines: 0, logins: 0, logouts: 0, refused: 0 };
        const out = (s: string) => process.stdout.write(s + '\n');
        for (const file of files) {
          let reference = Date.now();
          if (file !== '-') {
            try {
              reference = statSync(file).mtimeMs;
            } catch (err) {
              throw new SourceError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`, 'check the path and permissions');
            }
          }
          const input = file === '-' ? process.stdin : createReadStream(file);
          const state = engine.newSource();
          let n = 0;
          for await (const text of createInterface({ input, crlfDelay: Infinity })) {
            n++;
            const v = engine.judge(text, state, reference);
            if (opts.explain && (v.kind !== 'none' || v.why !== 'no parser keyword')) {
              const what = v.kind === 'none' ? v.why : `${v.match.spec.name}/${v.match.rule.id}${v.kind === 'matched' ? `: ${v.why}` : ''}`;
              process.stderr.write(`${file}:${n}: ${what}\n`);
            }
            if (v.kind !== 'event') continue;
            const ev = v.event;
            const why = ev.event === 'login' ? policy.refuse(ev.ip) : null;
            if (ev.event === 'login') totals.logins++;
            else totals.logouts++;
            if (why) totals.refused++;
            if (opts.json) out(eventJson(file, n, ev, why));
            else {
              const when = ev.time === null ? '-' : new Date(ev.time).toISOString();
              out(`${file}:${n}: ${ev.event} ${ev.ip} user=${ev.user ?? '-'} ${ev.server}/${ev.protocol ?? '-'} ${when}${why ? ` (no grant: ${why})` : ''}`);
            }
          }
          totals.lines += n;
        }
        process.stderr.write(`${totals.lines} lines: ${totals.logins} logins (${totals.refused} would not be granted), ${totals.logouts} logouts\n`);
      }),
    );
}
