// Applies a writer's outbox rows to the shared store, in order, in one transaction. Times go as
// durations measured on the writer's own clock (time left, age) and become timestamps on the
// database's clock (now() ± duration), so no two hosts' clocks are ever compared.
import type pg from 'pg';
import type { OutboxRow } from './outbox.js';
import { CHANNEL } from './pg-schema.js';

const MS = "* interval '1 millisecond'";

/**
 * A login grants unless the brake is on, its time is already past, or a revoke (or flush) came
 * after it: a delayed outbox never undoes a revoke made meanwhile on another host.
 */
const LOGIN = `INSERT INTO popgate_grants AS g (ip, writer, expires_at, granted_at, username, server, protocol)
  SELECT $1, $2, now() + $3::bigint ${MS}, now() - $4::bigint ${MS}, $5, $6, $7
  WHERE $3::bigint > 0 AND NOT EXISTS (SELECT 1 FROM popgate_brake)
    AND now() - $4::bigint ${MS} > ALL (SELECT at FROM popgate_revocations WHERE ip IN ($1, '*'))
  ON CONFLICT (ip, writer) DO UPDATE SET expires_at = EXCLUDED.expires_at,
    granted_at = GREATEST(g.granted_at, EXCLUDED.granted_at), username = EXCLUDED.username,
    server = EXCLUDED.server, protocol = EXCLUDED.protocol`;

/** Anything else that moves an expiry (a logout, a shorter grace) changes a row, never makes one: a revoked grant stays revoked. */
const UPDATE = `UPDATE popgate_grants SET expires_at = now() + $3::bigint ${MS} WHERE ip = $1 AND writer = $2`;

export const REVOKE_AT = `INSERT INTO popgate_revocations (ip, at, by) VALUES ($1, now() - $2::bigint ${MS}, $3)
  ON CONFLICT (ip) DO UPDATE SET at = GREATEST(popgate_revocations.at, EXCLUDED.at), by = EXCLUDED.by`;
export const REVOKE_GRANTS = `DELETE FROM popgate_grants WHERE ($1 = '*' OR ip = $1) AND granted_at <= now() - $2::bigint ${MS}`;

export const BRAKE = `INSERT INTO popgate_brake (id, since, by, reason) VALUES (1, now() - $1::bigint ${MS}, $2, $3) ON CONFLICT (id) DO NOTHING`;

/** Longest NOTIFY payload (PostgreSQL's limit is 8000 bytes); past it readers read everything. */
const MAX_PAYLOAD = 7000;

export interface Applied {
  /** Rows applied now; the others had been applied before (a retried batch). */
  applied: number;
  lastSeq: number;
}

function brakeOf(detail: string | null): { by: string; reason: string } {
  try {
    const v = JSON.parse(detail ?? '') as { by?: unknown; reason?: unknown };
    return { by: String(v.by ?? 'unknown'), reason: String(v.reason ?? '') };
  } catch {
    return { by: 'unknown', reason: 'unreadable brake state' };
  }
}

/** One row; returns the address readers must read again ('*': all of them), or null. */
async function applyRow(client: pg.Client, writer: string, r: OutboxRow, now: number): Promise<string | null> {
  const age = Math.max(0, now - r.at);
  switch (r.kind) {
    case 'login':
      await client.query(LOGIN, [r.ip, writer, (r.expires_at ?? 0) - now, age, r.user, r.server, r.protocol]);
      return r.ip;
    case 'update':
      await client.query(UPDATE, [r.ip, writer, (r.expires_at ?? 0) - now]);
      return r.ip;
    case 'revoke':
    case 'flush': {
      const ip = r.kind === 'flush' ? '*' : r.ip;
      await client.query(REVOKE_AT, [ip, age, `${writer}: ${r.detail ?? ''}`.slice(0, 200)]);
      await client.query(REVOKE_GRANTS, [ip, age]);
      return ip;
    }
    case 'brake': {
      const b = brakeOf(r.detail);
      await client.query(BRAKE, [age, `${b.by} on ${writer}`, b.reason]);
      return '*';
    }
    case 'release':
      await client.query('DELETE FROM popgate_brake');
      return '*';
    default:
      return null;
  }
}

/**
 * Applies `rows` (in sequence order) for `writer` in the caller's transaction: rows at or below
 * the writer's last applied sequence are skipped, so a batch delivered twice counts once.
 */
export async function applyRows(client: pg.Client, writer: string, rows: readonly OutboxRow[], now: number): Promise<Applied> {
  const lastSeq = rows[rows.length - 1]!.seq;
  // A revoke waits for logins in flight and keeps new ones out until it commits (no login
  // that began before it can slip past); logins alone take no such lock.
  if (rows.some((r) => r.kind !== 'login' && r.kind !== 'update')) await client.query('LOCK TABLE popgate_grants IN SHARE ROW EXCLUSIVE MODE');
  await client.query('INSERT INTO popgate_writers (writer, last_seq, seen_at) VALUES ($1, 0, now()) ON CONFLICT (writer) DO NOTHING', [writer]);
  const seen = Number((await client.query<{ last_seq: string }>('SELECT last_seq FROM popgate_writers WHERE writer = $1 FOR UPDATE', [writer])).rows[0]!.last_seq);
  const touched = new Set<string>();
  let applied = 0;
  for (const r of rows) {
    if (r.seq <= seen) continue;
    const ip = await applyRow(client, writer, r, now);
    if (ip) touched.add(ip);
    applied++;
  }
  await client.query('UPDATE popgate_writers SET last_seq = GREATEST(last_seq, $2::bigint), seen_at = now() WHERE writer = $1', [writer, lastSeq]);
  await notify(client, touched);
  return { applied, lastSeq };
}

/** Tells the readers what to read again, at commit. */
export async function notify(client: pg.Client, touched: ReadonlySet<string>): Promise<void> {
  if (touched.size === 0) return;
  let payload = touched.has('*') ? '*' : [...touched].join(' ');
  if (payload.length > MAX_PAYLOAD) payload = '*';
  await client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
}
