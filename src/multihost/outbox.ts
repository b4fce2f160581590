// A writer's outbox on the local SQLite side: the triggers of SQLite migration 3 fill it in the
// transaction of each grant change; this reads it in order for the deliverer and drops what the
// shared store has applied. Its own connection: reading and dropping happen after the commit.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { describe, StoreError } from '../core/errors.js';

export interface OutboxRow {
  seq: number;
  kind: 'login' | 'update' | 'revoke' | 'flush' | 'brake' | 'release';
  ip: string | null;
  at: number;
  expires_at: number | null;
  user: string | null;
  server: string | null;
  protocol: string | null;
  detail: string | null;
}

/** State rows: the triggers' switch, and this database's name among the writers. */
const GATE = 'outbox';
const WRITER = 'outbox_writer';

export class Outbox {
  private readonly db: Database.Database;
  private readonly stmt;

  /** `dbPath`: the store's database, already migrated (the store opens it first). */
  constructor(readonly dbPath: string) {
    try {
      this.db = new Database(dbPath, { fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
    } catch (err) {
      throw new StoreError(dbPath, `cannot open the outbox (${describe(err)})`, 'check the db setting and the file’s permissions', err);
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      pending: p('SELECT seq, kind, ip, at, expires_at, user, server, protocol, detail FROM outbox ORDER BY seq LIMIT ?'),
      drop: p('DELETE FROM outbox WHERE seq <= ?'),
      count: p('SELECT COUNT(*) FROM outbox').pluck(),
      get: p('SELECT value FROM state WHERE key = ?').pluck(),
      set: p('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)'),
      del: p('DELETE FROM state WHERE key = ?'),
      clear: p('DELETE FROM outbox'),
    };
  }

  /**
   * Turns the triggers on and returns this database's writer name: the host name and a random
   * tag made once, so a database made anew never reuses the sequence numbers of the old one.
   */
  enable(): string {
    return this.db
      .transaction(() => {
        let name = this.stmt.get.get(WRITER) as string | undefined;
        if (!name) {
          name = `${hostname()}/${randomBytes(4).toString('hex')}`;
          this.stmt.set.run(WRITER, name);
        }
        this.stmt.set.run(GATE, '1');
        return name;
      })
      .immediate();
  }

  /** Back to a single host: triggers off, undelivered rows dropped; returns how many. */
  disable(): number {
    return this.db
      .transaction(() => {
        if (this.stmt.get.get(GATE) === undefined) return 0;
        this.stmt.del.run(GATE);
        return this.stmt.clear.run().changes;
      })
      .immediate();
  }

  pending(limit: number): OutboxRow[] {
    return this.stmt.pending.all(limit) as OutboxRow[];
  }

  /** The shared store applied every row up to `seq`. */
  drop(seq: number): void {
    this.stmt.drop.run(seq);
  }

  size(): number {
    return this.stmt.count.get() as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
