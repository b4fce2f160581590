// popgate(8), written from the very program the CLI runs: every verb, its arguments and flags,
// then the exit codes, signals and files.
import type { Argument, Command, Option } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import { SCHEMA } from '../config/schema.js';
import { EXIT } from '../core/errors.js';
import { EXIT_BROKEN_PIPE } from '../cli/program.js';
import { entry, flags, header, sentence, text } from './roff.js';

/** What each exit code means; a code added to EXIT without a line here fails the build of the page. */
const EXIT_MEANING: Record<number, string> = {
  0: 'Success.',
  1: 'A check found trouble: brake --status with the brake on, relay-test when the server relayed a probe.',
  64: 'Usage error: no verb, an unknown verb or flag, a missing or malformed argument.',
  65: 'Bad input data: a log file that cannot be read or parsed.',
  66: 'Missing input: the database or another file to read does not exist.',
  69: 'A service is unavailable: Postfix tools missing, or a grant refused while the emergency brake is on.',
  75: 'Temporary failure: the database is busy or the map could not be built; try again.',
  78: 'Configuration error: a bad setting in the config file, or doctor found errors.',
  [EXIT_BROKEN_PIPE]: 'The reader of the output went away (popgate … | head); nothing is printed.',
};

function argName(a: Argument): string {
  const name = a.name() + (a.variadic ? '...' : '');
  return a.required ? `\\fI${text(name)}\\fR` : `[\\fI${text(name)}\\fR]`;
}

function optionBody(o: Option): string {
  const dflt = o.defaultValue === undefined || (Array.isArray(o.defaultValue) && o.defaultValue.length === 0) || o.defaultValue === false ? '' : ` (default: ${String(o.defaultValue)})`;
  return sentence(`${o.description}${dflt}`);
}

function synopsis(c: Command): string {
  const args = c.registeredArguments.map(argName).join(' ');
  return `\\fBpopgate ${text(c.name())}\\fR${c.options.length ? ' [\\fIoptions\\fR]' : ''}${args ? ' ' + args : ''}`;
}

function verb(c: Command): string {
  let out = `.SS "${synopsis(c).replace(/"/g, '')}"\n${sentence(c.description())}\n`;
  // An argument without a description is shown by the synopsis alone.
  for (const a of c.registeredArguments) if (a.description) out += entry(argName(a), sentence(a.description));
  for (const o of c.options) if (!o.hidden) out += entry(flags(o.flags), optionBody(o));
  return out;
}

function defaultOf(key: string): string {
  return SCHEMA.find((k) => k.key === key)?.default ?? '';
}

/** ` (db, map, …)` from the schema's reload field, or nothing while the schema has none. */
function restartKeys(): string {
  const keys = SCHEMA.filter((k) => (k as { reload?: string }).reload === 'restart').map((k) => k.key);
  return keys.length ? ` (${keys.join(', ')})` : '';
}

export function popgate8(program: Command, version: string): string {
  const verbs = program.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const codes = [...new Set([...Object.values(EXIT), ...Object.keys(EXIT_MEANING).map(Number)])].sort((a, b) => a - b);
  for (const c of codes) if (!EXIT_MEANING[c]) throw new Error(`popgate(8): exit code ${c} has no meaning in EXIT_MEANING`);
  const map = defaultOf('map').replace(/^[a-z]+:/, '');
  return [
    header('POPGATE', 8, version, "System Manager's Manual"),
    `.SH NAME\npopgate \\- ${text(program.description())}\n`,
    `.SH SYNOPSIS\n.nf\n${verbs.map(synopsis).join('\n')}\n\\fBpopgate\\fR \\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR\n.fi\n`,
    '.SH DESCRIPTION\n',
    'popgate follows the logs of POP3 and IMAP servers and lets Postfix relay mail for the address ',
    'of every client that has just logged in, for a grace period. It publishes the grants as a ',
    'Postfix access map, a policy service or a socketmap server, from an SQLite database that ',
    'survives restarts. The daemon is \\fBpopgate run\\fR; the other verbs inspect or change ',
    'the same database. Every verb accepts \\fB\\-h\\fR, \\fB\\-\\-help\\fR. Flags of ',
    '\\fBrun\\fR override the settings of the config file, described in \\fBpopgate.cf\\fR(5).\n',
    '.SH COMMANDS\n',
    verbs.map(verb).join(''),
    '.SH EXIT STATUS\n',
    codes.map((c) => entry(`\\fB${c}\\fR`, text(EXIT_MEANING[c]!))).join(''),
    '.SH SIGNALS\n',
    entry(
      '\\fBSIGHUP\\fR',
      text(
        'The daemon reads its config file again, applies what can change while running, ' +
          `and reopens its log files (after a rotation). Settings that need a restart${restartKeys()} keep their running ` +
          'value and are logged as such; a config file with errors is refused and the running settings stay.',
      ),
    ),
    entry('\\fBSIGTERM\\fR, \\fBSIGINT\\fR', 'The daemon stops cleanly: log positions and grants stay in the database, ' + 'and the next start resumes where it stopped.'),
    '.SH FILES\n',
    entry(text(DEFAULT_CONFIG_PATH), 'The config file, read when it exists (\\fB\\-\\-config\\fR names another).'),
    entry(text(defaultOf('db')), 'The database: grants, open sessions, log positions and the audit trail.'),
    map ? entry(text(map), 'The access map Postfix reads, and the built table beside it.') : '',
    entry(text('/var/log/popgate.log'), "The daemon's log when it runs without systemd; under systemd it logs to the journal."),
    '.SH ENVIRONMENT\n',
    entry('\\fBSUDO_USER\\fR, \\fBUSER\\fR', 'Who is recorded in the audit trail for grant, revoke, flush, brake and release.'),
    entry('\\fBJOURNAL_STREAM\\fR', 'Set by systemd; the daemon then leaves timestamps to the journal.'),
    '.SH SEE ALSO\n',
    '\\fBpopgate.cf\\fR(5), \\fBpostconf\\fR(5), \\fBpostmap\\fR(1), \\fBaccess\\fR(5), \\fBlogrotate\\fR(8)\n',
  ].join('');
}
