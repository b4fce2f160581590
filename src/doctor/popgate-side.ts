// popgate's own side of the wiring: its database (writable), the brake, a sane grace, and a
// mynetworks that does not already relay for all. The logs it follows: logs.ts.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { describe } from '../core/errors.js';
import { canonicalIp } from '../net/ip.js';
import { brakeState } from '../grants/brake.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import { error, ok, warning, type Finding } from './finding.js';
import type { PostfixView } from './postfix-view.js';

const HOUR = 3_600_000;

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
