// popgate.cf(5), written from the config SCHEMA the daemon validates with: every setting, its
// default and meaning.
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import { SCHEMA, type KeyDoc } from '../config/schema.js';
import { entry, header, text } from './roff.js';

/** Whether SIGHUP applies a key, once the schema says so (`reload: 'live' | 'restart'`). */
function reloadNote(k: KeyDoc): string {
  const reload = (k as KeyDoc & { reload?: string }).reload;
  if (reload === 'live') return '\n.br\nA reload (SIGHUP) applies it.';
  if (reload === 'restart') return '\n.br\nTakes effect at the next restart.';
  return '';
}

function setting(k: KeyDoc): string {
  const dflt = k.default === '' ? 'empty' : `\\fB${text(k.default)}\\fR`;
  return entry(`\\fB${text(k.key)}\\fR`, `${text(k.meaning)}\n.br\nDefault: ${dflt}${reloadNote(k)}`);
}

export function popgateCf5(version: string): string {
  return [
    header('POPGATE.CF', 5, version, 'File Formats Manual'),
    '.SH NAME\npopgate.cf \\- popgate configuration file\n',
    `.SH SYNOPSIS\n${text(DEFAULT_CONFIG_PATH)}\n`,
    '.SH DESCRIPTION\n',
    "The settings of \\fBpopgate\\fR(8), in the syntax of Postfix's main.cf: one ",
    '\\fIname\\fR = \\fIvalue\\fR per line, starting in column 1. Lines that start with ',
    'whitespace continue the setting above; empty lines and lines that start with # are ignored. ',
    'A setting left out keeps its default.\n',
    '.PP\n',
    'Every value is checked when popgate starts: an unknown name gets a warning, a bad value ',
    'stops the verb with exit code 78 and names the file, line and setting. ',
    '\\fBpopgate config\\fR prints the settings the file makes; \\fBpopgate config \\-d\\fR prints ',
    'every default with its meaning. Flags of \\fBpopgate run\\fR override the file.\n',
    '.PP\n',
    'Durations are written like \\fB90s\\fR, \\fB30m\\fR, \\fB2h\\fR or \\fB1d\\fR (a bare number is seconds). ',
    'Lists are separated by commas or spaces. Rates are \\fIN\\fR/\\fIDURATION\\fR, e.g. \\fB300/1m\\fR.\n',
    '.SH PARAMETERS\n',
    SCHEMA.map(setting).join(''),
    '.SH EXAMPLE\n',
    '.nf\nlog = /var/log/mail.log\nmap = hash:/var/lib/popgate/map/popgate\ngrace = 30m\n',
    'exclude = 127.0.0.0/8, ::1/128, 192.0.2.80\n.fi\n',
    '.SH FILES\n',
    entry(text(DEFAULT_CONFIG_PATH), 'The file described here.'),
    '.SH SEE ALSO\n',
    '\\fBpopgate\\fR(8), \\fBpostconf\\fR(5), \\fBaccess\\fR(5)\n',
  ].join('');
}
