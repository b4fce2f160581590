// The audit trail as `popgate history` reads it: filters by address, user, time and action, the
// newest rows that match, returned oldest first. Read by the CLI only, so prepared per query.
import type Database from 'better-sqlite3';
import type { HistoryEntry, HistoryQuery } from './store.js';

export function queryHistory(db: Database.Database, q: HistoryQuery): HistoryEntry[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.ip !== undefined) where.push('ip = ?'), args.push(q.ip);
  if (q.user !== undefined) where.push('user = ?'), args.push(q.user);
  if (q.since !== undefined) where.push('at >= ?'), args.push(q.since);
  if (q.actions?.length) where.push(`action IN (${q.actions.map(() => '?').join(', ')})`), args.push(...q.actions);
  // A database the daemon has not upgraded yet (the CLI opens it read-only) has no origin column.
  const hasOrigin = (db.prepare("SELECT 1 FROM pragma_table_info('audit') WHERE name = 'origin'").get() as unknown) !== undefined;
  const sql = `SELECT id, at, action, ip, user, server, protocol, detail, ${hasOrigin ? 'origin' : 'NULL AS origin'} FROM audit
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, q.limit) as HistoryEntry[];
  return rows.reverse();
}
