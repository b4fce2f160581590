// popgate's own side of the wiring: the logs it follows (present, readable, recognised),
// its database (writable), a sane grace, and a mynetworks that does not already relay for all.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { describe } from '../core/errors.js';
import { Engine } from '../parse/engine.js';
import { selectParsers } from '../parse/select.js';
import { canonicalIp } from '../net/ip.js';
import { brakeState } from '../grants/brake.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import { error, ok, warning, type Finding } from './finding.js';
import { unreadKind, type UnreadKind } from '../parse/unread-watch.js';
import { isJournal } from '../sources/journal-spec.js';
import { journalTail } from '../sources/journal-tail.js';
import type { PostfixView } from './postfix-view.js';

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
export function checkBrake(config: Config): Finding[] {
  if (config.db === ':memory:') return [];
  let store: SqliteStore;
  try {
    statSync(config.db);
    store = new SqliteStore(config.db, { readonly: true });
  } catch {
    return []; // no database yet, or checkDb reports why it cannot be opened
  }
  try {
    const brake = brakeState(store);
    if (!brake) return [ok('emergency brake', 'released: popgate grants')];
    return [
      error(
        'emergency brake',
        `on since ${new Date(brake.since).toISOString()} (by ${brake.by}: ${brake.reason}): popgate grants nothing`,
        'find why it was applied (the daemon log says), then popgate release',
      ),
    ];
  } catch (err) {
    return [warning(config.db, `cannot read the brake state (${describe(err)})`)];
  } finally {
    store.close();
  }
}

export function checkDb(config: Config): Finding[] {
  const db = config.db;
  if (db === ':memory:') return [warning('popgate config: db', ':memory: keeps no grant across a restart, and the CLI cannot see it')];
  let dir = dirname(db);
  try {
    statSync(db);
    accessSync(db, constants.R_OK | constants.W_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return [error(db, `the database is not writable (${describe(err)})`, 'run popgate as the user that owns it')];
    // popgate creates it (and missing directories) at start: the nearest existing directory must be writable.
    for (; ; dir = dirname(dir)) {
      try {
        statSync(dir);
        break;
      } catch {
        if (dir === '/') break;
      }
    }
  }
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return [error(dir, `popgate cannot write here, so SQLite cannot create ${db} or its -wal/-shm files (${describe(err)})`, 'make the directory writable for the user popgate runs as')];
  }
  return [ok(db, 'writable')];
}

export function checkGrace(config: Config): Finding[] {
  const h = config.grace / HOUR;
  const where = `popgate config: grace = ${config.grace / 1000}s`;
  if (h > 24) return [error(where, `${h.toFixed(1)} h is unreasonably long: a dynamic address passes to somebody else long before that`, 'use 30m; a client that keeps polling keeps its grant')];
  if (h > 2) return [warning(where, `${h.toFixed(1)} h is long for POP-before-SMTP`, 'use 30m to 1h')];
  return [];
}

/** Networks that make mynetworks relay for much of the Internet. */
function wide(token: string): string | null {
  const m = /^\[?([0-9A-Fa-f:.]+)\]?(?:\/(\d{1,3}))?$/.exec(token);
  const ip = m ? canonicalIp(m[1]!) : null;
  if (!m || !ip) return null;
  const v4 = !ip.includes(':');
  const bits = m[2] === undefined ? (v4 ? 32 : 128) : Number(m[2]);
  const priv = v4 ? /^(10|127)\./.test(ip) || (/^172\.(1[6-9]|2\d|3[01])\./.test(ip) && bits >= 12) || (/^192\.168\./.test(ip) && bits >= 16) : /^f[cd]/.test(ip) || /^fe[89ab]/.test(ip);
  if (v4 ? bits < 8 || (bits <= 16 && !priv) : bits < 7 || (bits < 32 && !priv)) return `${token} (/${bits})`;
  return null;
}

export function checkMynetworks(pf: PostfixView): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const s of pf.services) {
    const value = pf.value(s, 'mynetworks');
    const where = pf.source(s, 'mynetworks');
    if (seen.has(where)) continue;
    seen.add(where);
    const open = value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(wide)
      .filter((x): x is string => x !== null);
    if (open.length) {
      out.push(
        error(where, `wide open: ${open.join(', ')} relays for a large part of the Internet without any login`, 'list only your own networks, e.g. mynetworks = 127.0.0.0/8 [::1]/128 192.0.2.0/24'),
      );
    }
  }
  return out;
}

/**
 * What the parsers make of a log's recent lines: recognised or not, lines that should have granted
 * and did not (unread-watch.ts: an error, the daemon warns about the same), and whether the log
 * says who wrote each line (a plain syslog file does not).
 */
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
