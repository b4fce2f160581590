// Actions by hand on the shared store, from any host (popgate store …): each is one transaction
// that also tells the readers (NOTIFY at commit), so it holds on every MTA within a second.
import { hostname } from 'node:os';
import type pg from 'pg';
import { BRAKE, notify, REVOKE_AT, REVOKE_GRANTS } from './pg-apply.js';
import { inTransaction } from './pg-connect.js';
import { recordHistory, type SharedEvent } from './pg-history.js';

export interface SharedGrant {
  ip: string;
  expiresAt: Date;
  writers: string[];
  user: string | null;
  server: string | null;
}

export interface SharedBrake {
  since: Date;
  by: string;
  reason: string;
}

/** An action by hand in the shared history, under this host's name (`who` says who, in its detail). */
function record(c: pg.Client, e: Omit<SharedEvent, 'ageMs'>): Promise<void> {
  return recordHistory(c, hostname(), [{ ageMs: 0, ...e }]);
}

/** A revoke or flush: whatever was granted before now ends, on every writer's row. */
async function revokeAt(c: pg.Client, ip: string, who: string): Promise<number> {
  await c.query('LOCK TABLE popgate_grants IN SHARE ROW EXCLUSIVE MODE');
  await c.query(REVOKE_AT, [ip, 0, who]);
  const r = await c.query(`${REVOKE_GRANTS} AND expires_at > now() RETURNING 1`, [ip, 0]);
  await c.query(REVOKE_GRANTS, [ip, 0]);
  await notify(c, new Set([ip]));
  return r.rowCount ?? 0;
}

/** Recorded even when nothing was granted: it still keeps older logins from granting. */
export function revokeShared(c: pg.Client, ip: string, who: string): Promise<boolean> {
  return inTransaction(c, async () => {
    const n = await revokeAt(c, ip, who);
    await record(c, { action: 'revoke', ip, detail: who });
    return n > 0;
  });
}

/** Returns how many addresses lost their grant. */
export function flushShared(c: pg.Client, who: string): Promise<number> {
  return inTransaction(c, async () => {
    const n = Number((await c.query<{ n: string }>('SELECT count(DISTINCT ip) AS n FROM popgate_grants WHERE expires_at > now()')).rows[0]!.n);
    await revokeAt(c, '*', who);
    await record(c, { action: 'flush', ip: null, detail: `${who}: ${n} grants` });
    return n;
  });
}

/** A grant by hand under the writer name `who`; refused (false) while the brake is on. */
export function grantShared(c: pg.Client, ip: string, ms: number, who: string): Promise<boolean> {
  return inTransaction(c, async () => {
    const live = await c.query('SELECT 1 FROM popgate_grants WHERE ip = $1 AND expires_at > now() LIMIT 1', [ip]);
    const r = await c.query(
      `INSERT INTO popgate_grants AS g (ip, writer, expires_at, granted_at) SELECT $1, $2, now() + $3::bigint * interval '1 millisecond', now()
       WHERE NOT EXISTS (SELECT 1 FROM popgate_brake)
       ON CONFLICT (ip, writer) DO UPDATE SET expires_at = GREATEST(g.expires_at, EXCLUDED.expires_at), granted_at = now()`,
      [ip, who, ms],
    );
    await notify(c, new Set([ip]));
    const granted = (r.rowCount ?? 0) > 0;
    if (granted) await record(c, { action: live.rowCount ? 'renew' : 'grant', ip, detail: who });
    return granted;
  });
}

/** Applies the brake (kept if already on) and ends every grant; returns the brake that was on. */
export function brakeShared(c: pg.Client, who: string, reason: string): Promise<{ revoked: number; already: SharedBrake | null }> {
  return inTransaction(c, async () => {
    const already = await brakeOf(c);
    await c.query(BRAKE, [0, who, reason]);
    const n = Number((await c.query<{ n: string }>('SELECT count(DISTINCT ip) AS n FROM popgate_grants WHERE expires_at > now()')).rows[0]!.n);
    // As in the SQLite trail: the brake's flush is its history row, shown as a brake.
    await revokeAt(c, '*', `brake (${who}): ${reason}`);
    await record(c, { action: 'flush', ip: null, detail: `brake (${who}): ${reason}: ${n} grants` });
    return { revoked: n, already };
  });
}

export function releaseShared(c: pg.Client, who: string): Promise<SharedBrake | null> {
  return inTransaction(c, async () => {
    const was = await brakeOf(c);
    await c.query('DELETE FROM popgate_brake');
    await notify(c, new Set(['*']));
    if (was) await record(c, { action: 'release', ip: null, detail: `${who}: brake applied ${was.since.toISOString()} by ${was.by}: ${was.reason}` });
    return was;
  });
}

export async function brakeOf(c: pg.Client): Promise<SharedBrake | null> {
  const r = await c.query<SharedBrake>('SELECT since, by, reason FROM popgate_brake');
  return r.rows[0] ?? null;
}

export async function listShared(c: pg.Client): Promise<SharedGrant[]> {
  const r = await c.query<{ ip: string; expires_at: Date; writers: string[]; username: string | null; server: string | null }>(
    `SELECT ip, max(expires_at) AS expires_at, array_agg(writer ORDER BY writer) AS writers,
       (array_agg(username ORDER BY granted_at DESC))[1] AS username, (array_agg(server ORDER BY granted_at DESC))[1] AS server
     FROM popgate_grants WHERE expires_at > now() AND NOT EXISTS (SELECT 1 FROM popgate_brake) GROUP BY ip ORDER BY 2, 1`,
  );
  return r.rows.map((g) => ({ ip: g.ip, expiresAt: g.expires_at, writers: g.writers, user: g.username, server: g.server }));
}

/** What doctor and status report: writers' last delivery, and whether `role` may read what readers read. */
export async function writersOf(c: pg.Client): Promise<{ writer: string; lastSeq: number; secondsAgo: number }[]> {
  const r = await c.query<{ writer: string; last_seq: string; ago: number }>('SELECT writer, last_seq, extract(epoch FROM now() - seen_at)::float8 AS ago FROM popgate_writers ORDER BY writer');
  return r.rows.map((w) => ({ writer: w.writer, lastSeq: Number(w.last_seq), secondsAgo: Math.round(w.ago) }));
}

/** Tables in `tables` that `role` cannot SELECT, and any it could write (a reader needs SELECT only). */
export async function readerRights(c: pg.Client, role: string, tables: readonly string[]): Promise<{ missing: string[]; writable: string[] }> {
  const r = await c.query<{ t: string; sel: boolean; ins: boolean }>(
    `SELECT t, has_table_privilege($1, t, 'SELECT') AS sel, has_table_privilege($1, t, 'INSERT,UPDATE,DELETE') AS ins FROM unnest($2::text[]) AS t`,
    [role, tables],
  );
  return { missing: r.rows.filter((x) => !x.sel).map((x) => x.t), writable: r.rows.filter((x) => x.ins).map((x) => x.t) };
}
