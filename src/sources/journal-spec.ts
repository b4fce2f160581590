// `log = journal:…` entries: which journal to follow and which entries, as journalctl arguments.
//   journal:                                   the system journal, every entry
//   journal:_SYSTEMD_UNIT=dovecot.service      only Dovecot's (matches joined by `+`; journalctl's
//                                              meaning: the same field twice is either, different
//                                              fields are both)
//   journal:/var/tmp/x.journal+MATCH…          one journal file (tests, copies)
//   journal:/var/log/journal/remote/+MATCH…    a directory of journal files
// Also how a journal's position is kept in the store's Position (see positionOf).
import type { Position } from '../grants/store.js';

export const JOURNAL_PREFIX = 'journal:';

export interface JournalSpec {
  /** The whole `journal:…` entry: the source's name and the key of its stored position. */
  name: string;
  file: string | null;
  directory: string | null;
  matches: string[];
}

/** journald field names are upper-case letters, digits and `_`; values here have no spaces. */
const MATCH = /^[A-Z0-9_]{1,64}=[^\s]{0,512}$/;

export function isJournal(entry: string): boolean {
  return entry.startsWith(JOURNAL_PREFIX);
}

/** Parses a `journal:` entry; throws a message saying what is wrong. */
export function parseJournalSpec(entry: string): JournalSpec {
  const rest = entry.slice(JOURNAL_PREFIX.length);
  const parts = rest === '' ? [] : rest.split('+');
  const spec: JournalSpec = { name: entry, file: null, directory: null, matches: [] };
  parts.forEach((p, i) => {
    if (i === 0 && p.startsWith('/')) {
      if (p.includes('/../') || p.endsWith('/..')) throw `"${entry}": no .. in a journal path`;
      if (p.endsWith('.journal') || p.endsWith('.journal~')) spec.file = p;
      else spec.directory = p;
    } else if (MATCH.test(p)) spec.matches.push(p);
    else throw `"${entry}": "${p}" is not a journal match such as _SYSTEMD_UNIT=dovecot.service (nor, first, an absolute path)`;
  });
  return spec;
}

/** The fields popgate reads: the rest of each entry is left in the journal (less to parse). */
const FIELDS = ['MESSAGE', 'SYSLOG_IDENTIFIER', 'SYSLOG_PID', '_PID', '_UID', '_EXE', '_SYSTEMD_UNIT', '_COMM', '_HOSTNAME'];

/** journalctl's arguments: JSON lines (cursor and time are always in them) after `cursor`, or from the start. */
/**
 * `sinceSec`: with no cursor yet, read the system journal from this time (epoch seconds) on, not
 * from its beginning: older logins grant nothing, and a busy server keeps months of journal.
 */
export function journalctlArgs(spec: JournalSpec, cursor: string | null, follow: boolean, sinceSec: number | null = null): string[] {
  const args = ['--no-pager', '--quiet', '-o', 'json', `--output-fields=${FIELDS.join(',')}`];
  if (spec.file) args.push(`--file=${spec.file}`);
  if (spec.directory) args.push(`--directory=${spec.directory}`);
  if (cursor) args.push(`--after-cursor=${cursor}`);
  else if (sinceSec !== null && !spec.file && !spec.directory) args.push(`--since=@${sinceSec}`);
  // Following with nothing read yet: everything there is (-f alone would show only the last 10).
  if (!cursor && follow) args.push('--lines=all');
  if (follow) args.push('--follow');
  return [...args, ...spec.matches];
}

/**
 * A journal position in the store's Position, so it is kept like a file's, in the transaction of
 * the grants its entries made: `dev` is `journal` (no file has that device), `ino` the entry's text
 * after `journal:` (a changed selection never resumes another's cursor), `fingerprint` journald's
 * cursor of the last entry handled, `offset` and `line` the entries handled so far (for logs).
 */
export function positionOf(spec: JournalSpec, cursor: string, entries: number): Position {
  return { dev: 'journal', ino: spec.name.slice(JOURNAL_PREFIX.length), fingerprint: cursor, offset: entries, line: entries };
}

/** The cursor a stored position holds for this journal entry, or null. */
export function cursorOf(spec: JournalSpec, pos: Position | null): { cursor: string; entries: number } | null {
  if (pos?.dev !== 'journal' || pos.ino !== spec.name.slice(JOURNAL_PREFIX.length) || !pos.fingerprint) return null;
  return { cursor: pos.fingerprint, entries: pos.line };
}

/**
 * The entry's cursor (`"__CURSOR":"s=…;i=…;…"`, in any place of the object). Inside a string
 * value every quote is escaped, so the key with its bare quotes is only ever the real field.
 */
export function cursorIn(line: string): string | null {
  const key = '"__CURSOR":"';
  const at = line.indexOf(key);
  if (at < 0) return null;
  const end = line.indexOf('"', at + key.length);
  return end < 0 ? null : line.slice(at + key.length, end);
}
