// `popgate parse`: a dry run of the very parsing code the daemon uses, over whole files. Without
// --parser every parser is on, so the servers are detected; the summary says which were found and
// shows lines that look like logins no parser understood.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { SourceError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { AuthEvent, LogLine } from '../core/types.js';
import { loadExclusions } from '../grants/exclusions.js';
import { Engine, type Verdict } from '../parse/engine.js';
import { selectParsers } from '../parse/select.js';
import { unreadKind } from '../parse/unread-watch.js';
import { readLines } from '../sources/read-lines.js';
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

function explanation({ outcome: o }: Verdict): string {
  if (o.kind === 'none') return `no: ${o.why}`;
  const rule = `${o.match.spec.name}/${o.match.rule.id}`;
  if (o.kind === 'event') return `${rule}: ${o.event.event} ${o.event.ip}`;
  return `${rule}: ${o.why}`;
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
        const engine = new Engine(selectParsers(opts.parser.length ? opts.parser : config.parsers, opts.parser.length ? '--parser' : 'parsers'));
        const exclusions = await loadExclusions(config, createLogger('error'));
        const totals = { lines: 0, logins: 0, logouts: 0, refused: 0 };
        const servers = new Map<string, number>();
        const unknown: string[] = [];
        let unknownCount = 0;
        // One write per batch: a write per event cost more than the parsing of its line.
        let pending = '';
        const out = (s: string) => {
          pending += `${s}\n`;
        };
        const flush = () => {
          if (pending) process.stdout.write(pending);
          pending = '';
        };
        const emit = (file: string, line: number, ev: AuthEvent) => {
          const why = ev.event === 'login' ? exclusions.refuse(ev.ip) : null;
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
        // Every line's verdict: explanations, and the lines the daemon would warn of as unread
        // (a login no parser read, a login line whose time cannot be read).
        const each = (line: LogLine, v: Verdict) => {
          if (opts.explain) process.stderr.write(`${line.origin}:${line.lineNo}: ${explanation(v)}\n`);
          if (v.events.length === 0 && unreadKind(line.text, v) && ++unknownCount <= UNKNOWN_SHOWN) unknown.push(`  ${line.origin}:${line.lineNo}: ${line.text.slice(0, 200)}`);
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
          const state = engine.newSource();
          let n = 0;
          // The daemon's own loop; a held login is reported at its own line once confirmed.
          for await (const lines of readLines(file === '-' ? process.stdin : file, { origin: file, now: () => reference })) {
            for (const f of engine.readAll(lines, state, reference, each, opts.explain)) emit(file, f.line.lineNo, f.event);
            flush();
            n = lines[lines.length - 1]!.lineNo;
          }
          for (const f of engine.release(Infinity)) emit(file, f.line.lineNo, f.event);
          flush();
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
