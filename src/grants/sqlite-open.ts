// Opening the SQLite database: created private, WAL, migrated; a damaged file is said to be one.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, EXIT, StoreError } from '../core/errors.js';
import { migrate } from './schema.js';

export interface OpenOptions {
  readonly?: boolean;
  /**
   * How long a write waits for another process's lock. The wait blocks the thread, so the
   * daemon keeps it short (its batches are retried) and live answers never stall behind it.
   */
  busyMs?: number;
  /** The daemon checkpoints on its own timer, not inside whichever commit crosses the threshold. */
  manualCheckpoint?: boolean;
}

export function openDatabase(path: string, options: OpenOptions): Database.Database {
  try {
    if (path !== ':memory:' && !options.readonly) createPrivate(path);
    const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma(`busy_timeout = ${options.busyMs ?? 5000}`);
    // 4 MB of page cache, not better-sqlite3's 16: with 100k grants a full scan (the map, a
    // restart) filled all 16, ~11 MB of RSS, for no measurable speed (the OS caches the file too).
    db.pragma('cache_size = -4000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // A commit that crossed the threshold fsynced inside the batch, delaying the live answers.
      if (options.manualCheckpoint) db.pragma('wal_autocheckpoint = 0');
      migrate(db);
    }
    return db;
  } catch (err) {
    throw openError(path, err);
  }
}

/** A new database is created 0640 (it holds user names); SQLite gives its -wal and -shm the same mode. */
function createPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  try {
    closeSync(openSync(path, 'wx', 0o640));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Why a database cannot be opened, and what to do: a damaged file is not a passing problem. */
function openError(path: string, err: unknown): StoreError {
  const why = describe(err);
  if (/SQLITE_(CORRUPT|NOTADB)|malformed|not a database/i.test(why)) {
    return new StoreError(
      path,
      `the grant database is damaged (${why})`,
      `move it aside (mv ${path} ${path}.damaged) and start popgate: it makes a new one, reads the logs again and grants only logins younger than the grace; the audit trail stays in the old file`,
      err,
      EXIT.DATAERR,
    );
  }
  return new StoreError(path, `cannot open the grant database (${why})`, 'check that the directory exists and is writable by the user popgate runs as, and that the disk is not full', err);
}
