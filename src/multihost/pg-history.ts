// The shared audit trail in PostgreSQL (popgate_history): what writers and actions by hand did to
// the shared grants, written in the transaction that did it, read by `popgate history` on any
// host whose role may read it. Times are the database's clock, like every expiry there.
import type pg from 'pg';
import type { HistoryEntry } from '../grants/store.js';

const MS = "* interval '1 millisecond'";

/** One event to record; the writer is given once per batch. */
export interface SharedEvent {
  /** How long before now it happened, measured on the clock of the host that saw it. */
  ageMs: number;
  action: 'grant' | 'renew' | 'refuse' | 'revoke' | 'flush' | 'release';
  ip: string | null;
  user?: string | null;
  server?: string | null;
  protocol?: string | null;
  detail: string | null;
}

export interface SharedHistoryEntry extends HistoryEntry {
  /** Who made the change: a writer (host/tag) or the host a CLI action ran on. */
  writer: string;
}

/** Which rows to read: as the SQLite history's query, with `--since` on the database's clock when it is a duration. */
export interface SharedHistoryQuery {
  ip?: string;
  user?: string;
  since?: { at: number } | { agoMs: number };
  limit: number;
}

/** Records `events` in order, in the caller's transaction, in one statement whatever their number. */
export async function recordHistory(c: pg.Client, writer: string, events: readonly SharedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const col = <T>(f: (e: SharedEvent) => T) => events.map(f);
  await c.query(
    `INSERT INTO popgate_history (at, writer, action, ip, username, server, protocol, detail)
     SELECT now() - t.age ${MS}, $1, t.action, t.ip, t.u, t.s, t.p, t.d
     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS t(age, action, ip, u, s, p, d, n)
     ORDER BY t.n`,
    [
      writer,
      col((e) => Math.max(0, Math.round(e.ageMs))),
      col((e) => e.action),
      col((e) => e.ip),
      col((e) => e.user ?? null),
      col((e) => e.server ?? null),
      col((e) => e.protocol ?? null),
      col((e) => (e.detail === null ? null : e.detail.slice(0, 500))),
    ],
  );
}

/** The newest `limit` rows that match, oldest first (as the SQLite history). */
export async function sharedHistory(c: pg.Client, q: SharedHistoryQuery): Promise<SharedHistoryEntry[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (q.ip !== undefined) where.push(`ip = ${arg(q.ip)}`);
  if (q.user !== undefined) where.push(`username = ${arg(q.user)}`);
  if (q.since && 'at' in q.since) where.push(`at >= to_timestamp(${arg(q.since.at)}::float8 / 1000)`);
  else if (q.since) where.push(`at >= now() - ${arg(Math.round(q.since.agoMs))}::bigint ${MS}`);
  const r = await c.query<{ id: string; at: Date; action: string; ip: string | null; username: string | null; server: string | null; protocol: string | null; detail: string | null; writer: string }>(
    `SELECT id, at, action, ip, username, server, protocol, detail, writer FROM popgate_history
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(q.limit)}`,
    args,
  );
  return r.rows.reverse().map((h) => ({
    id: Number(h.id),
    at: h.at.getTime(),
    action: h.action,
    ip: h.ip,
    user: h.username,
    server: h.server,
    protocol: h.protocol,
    origin: null,
    detail: h.detail,
    writer: h.writer,
  }));
}
