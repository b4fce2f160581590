// The logs popgate follows, as doctor sees them: present, readable, recognised by a parser (the
// end of each), no login line left unread, and whether their writer is authenticated.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { describe } from '../core/errors.js';
import { Engine } from '../parse/engine.js';
import { selectParsers } from '../parse/select.js';
import { unreadKind, type UnreadKind } from '../parse/unread-watch.js';
import { isJournal } from '../sources/journal-spec.js';
import { journalTail } from '../sources/journal-tail.js';
import { error, ok, warning, type Finding } from './finding.js';

/** How much of the end of each log is read to see whether a parser recognises it. */
const TAIL_BYTES = 1 << 20;
const HOUR = 3_600_000;

function tail(path: string, size: number): string[] {
  const fd = openSync(path, 'r');
  try {
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (len < size) lines.shift(); // a partial first line
    return lines.filter((l) => l !== '');
  } finally {
    closeSync(fd);
  }
}

export function checkLogs(config: Config): Finding[] {
  const out: Finding[] = [];
  for (const path of config.log) {
    if (path === '-') continue;
    if (isJournal(path)) {
      out.push(...checkJournal(config, path));
      continue;
    }
    let size: number;
    let mtime: number;
    try {
      const st = statSync(path);
      size = st.size;
      mtime = st.mtimeMs;
      accessSync(path, constants.R_OK);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      out.push(
        error(
          path,
          missing ? 'the watched log does not exist' : `the watched log is not readable (${describe(err)})`,
          missing ? 'check the log setting and where the POP/IMAP server logs' : 'run popgate as a user that can read it (e.g. in group adm)',
        ),
      );
      continue;
    }
    const lines = size ? tail(path, size) : [];
    if (lines.length === 0) {
      out.push(warning(path, 'the watched log is empty', 'check that the POP/IMAP server writes there'));
      continue;
    }
    const judged = judgeTail(config, path, lines, mtime);
    out.push(...judged);
    if (judged.some((f) => f.where === 'popgate config: parsers')) return out;
    if (Date.now() - mtime > 7 * 24 * HOUR) out.push(warning(path, `not written for ${Math.round((Date.now() - mtime) / (24 * HOUR))} days`, 'is this the file the server writes now?'));
  }
  return out;
}

/** The emergency brake stops all granting until released: an admin must know it is on. */
function judgeTail(config: Config, path: string, lines: string[], ref: number): Finding[] {
  let engine: Engine;
  try {
    engine = new Engine(selectParsers(config.parsers, 'parsers'));
  } catch (err) {
    return [error('popgate config: parsers', describe(err))];
  }
  let recognised = 0;
  let json = 0;
  const unread: { kind: UnreadKind; text: string }[] = [];
  const state = engine.newSource();
  const logLines = lines.map((text, i) => ({ text, origin: path, lineNo: i + 1, readAt: ref, live: false }));
  const events = engine.readAll(logLines, state, ref, (line, v) => {
    if (v.outcome.kind === 'none') {
      const kind = unreadKind(line.text, v);
      if (kind) unread.push({ kind, text: line.text });
      return;
    }
    recognised++;
    if (line.text.charCodeAt(0) === 123) json++;
  }).length;
  const out: Finding[] = [];
  if (recognised === 0) {
    out.push(
      warning(
        path,
        `no parser recognised any of its last ${lines.length} lines: popgate would grant nothing from it`,
        `check the parsers setting and the log format; popgate parse --explain ${path} says why each line was skipped`,
      ),
    );
  } else {
    out.push(ok(path, `${recognised} of the last ${lines.length} lines recognised, ${events} login/logout event(s)`));
  }
  for (const kind of ['login', 'stamp'] as const) {
    const of = unread.filter((u) => u.kind === kind);
    if (!of.length) continue;
    const what = kind === 'login' ? 'look like logins that no parser read' : 'are login lines whose timestamp popgate cannot read';
    out.push(
      error(
        path,
        `${of.length} of its last ${lines.length} lines ${what}: popgate grants nothing for them (e.g. ${JSON.stringify(of[0]!.text.slice(0, 200))})`,
        `popgate parse --explain ${isJournal(path) ? 'FILE (journalctl -o json output)' : path} says why; set the server's log format to one popgate reads (parsers/README.md)`,
      ),
    );
  }
  if (recognised > 0 && json === 0 && state.syslog === true) {
    out.push(
      warning(
        path,
        "a plain syslog file: any local user can write a line into it that reads like the server's (logger -t dovecot …), and popgate cannot tell the two apart",
        "follow a log that names its writer: Dovecot's own log_path, journal:_SYSTEMD_UNIT=dovecot.service, or the file contrib/rsyslog/popgate.conf makes rsyslog write",
      ),
    );
  } else if (recognised > 0 && json === 0) {
    const open = writableByOthers(path);
    if (open) out.push(warning(path, `${open}: whoever can write there can write a login line`, 'only root and the server may write the log and its directory'));
  }
  return out;
}

/** Why users other than the owner can write a server's own log, or null. */
function writableByOthers(path: string): string | null {
  try {
    if (statSync(path).mode & 0o022) return 'the log is writable by its group or by everyone';
    const dir = statSync(dirname(path));
    if (dir.mode & 0o002 && !(dir.mode & 0o1000)) return 'its directory is writable by everyone';
  } catch {
    return null;
  }
  return null;
}

/** A `journal:` log: its recent entries through journalctl, judged like a file's. */
function checkJournal(config: Config, entry: string): Finding[] {
  const tail = journalTail(entry, 2000);
  if ('error' in tail) return [error(entry, tail.error, "popgate reads the journal with journalctl: it must be installed and popgate's user in group systemd-journal (or adm)")];
  if (tail.lines.length === 0) return [warning(entry, 'the journal holds no entries for this selection', 'check the matches (journalctl ' + entry.slice(8).split('+').join(' ') + ')')];
  return judgeTail(config, entry, tail.lines, Date.now());
}
