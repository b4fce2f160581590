// `popgate parse`: a dry run of the very parsing code the daemon uses, over whole files. Without
// --parser every parser is on, so the servers are detected; the summary says which were found and
// shows lines that look like logins no parser understood.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { buildPolicy, selectParsers } from '../daemon.js';
import { SourceError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { AuthEvent } from '../core/types.js';
import { Engine, type Verdict } from '../parse/engine.js';
import { looksLikeLogin } from '../parse/unknown.js';
import { parserNames } from '../../parsers/index.js';
import { act, configFrom, withCommon, type CommonOptions } from './common.js';

interface ParseOptions extends CommonOptions {
  parser: string[];
  json?: boolean;
  explain?: boolean;
}

/** Unrecognised login-looking lines shown in the summary. */
const UNKNOWN_SHOWN = 10;

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

function explanation(v: Verdict): string {
  if (v.kind === 'none') return `no: ${v.why}`;
  const rule = `${v.match.spec.name}/${v.match.rule.id}`;
  if (v.kind === 'event') return `${rule}: ${v.event.event} ${v.event.ip}`;
  return `${rule}: ${v.why}`;
}

export function register(program: Command): void {
  withCommon(program.command('parse').description('print the login events found in log files (nothing is granted)'))
    .argument('<file...>', 'log files; - reads standard input')
    .option('-p, --parser <name>', `use only this parser (repeatable; default: all, detected; known: ${parserNames().join(', ')})`, (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'one JSON object per event')
    .option('--explain', 'also say, for each line, which parser and rule matched it or why none did (on stderr)')
    .action((files: string[], opts: ParseOptions) =>
      act(async () => {
        const config = configFrom(opts);
        const engine = new Engine(selectParsers(opts.parser.length ? opts.parser : config.parsers, '--parser'));
        const policy = await buildPolicy(config, createLogger('error'));
        const totals = { lines: 0, logins: 0, logouts: 0, refused: 0 };
        const servers = new Map<string, number>();
        const unknown: string[] = [];
        let unknownCount = 0;
        const out = (s: string) => process.stdout.write(s + '\n');
        const emit = (file: string, line: number, ev: AuthEvent) => {
          const why = ev.event === 'login' ? policy.refuse(ev.ip) : null;
          if (ev.event === 'login') totals.logins++;
          else totals.logouts++;
          if (why) totals.refused++;
          servers.set(ev.server, (servers.get(ev.server) ?? 0) + 1);
          if (opts.json) out(eventJson(file, line, ev, why));
          else {
            const when = ev.time === null ? '-' : new Date(ev.time).toISOString();
            out(`${file}:${line}: ${ev.event} ${ev.ip} user=${ev.user ?? '-'} ${ev.server}/${ev.protocol ?? '-'} ${when}${why ? ` (no grant: ${why})` : ''}`);
          }
        };
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
          // Logins held for a possible refusal are reported at their own line once confirmed.
          const origin = new Map<AuthEvent, number>();
          const settle = (events: readonly AuthEvent[]) => {
            for (const ev of events) emit(file, origin.get(ev) ?? 0, ev);
          };
          let n = 0;
          for await (const text of createInterface({ input, crlfDelay: Infinity })) {
            n++;
            const v = engine.judge(text, state, reference);
            if (opts.explain) process.stderr.write(`${file}:${n}: ${explanation(v)}\n`);
            settle(v.released);
            if (v.kind === 'held') origin.set(v.event, n);
            else if (v.kind === 'event') emit(file, n, v.event);
            else if (v.kind === 'none') {
              const ip = looksLikeLogin(text);
              if (ip && ++unknownCount <= UNKNOWN_SHOWN) unknown.push(`  ${file}:${n}: ${text.slice(0, 200)}`);
            }
          }
          settle(engine.drain(Infinity));
          totals.lines += n;
        }
        const found = [...servers].map(([s, c]) => `${s} (${c})`).join(', ') || 'none';
        process.stderr.write(`${totals.lines} lines: ${totals.logins} logins (${totals.refused} would not be granted), ${totals.logouts} logouts; servers found: ${found}\n`);
        if (unknownCount) {
          process.stderr.write(`${unknownCount} line(s) look like logins (an address near a login word) but no parser understood them:\n${unknown.join('\n')}\n`);
          if (unknownCount > UNKNOWN_SHOWN) process.stderr.write(`  … and ${unknownCount - UNKNOWN_SHOWN} more\n`);
          process.stderr.write('hint: run with --explain to see why, and see parsers/ for the formats popgate reads\n');
        }
      }),
    );
}
