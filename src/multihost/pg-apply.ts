// Applies a writer's outbox rows to the shared store, in order, in one transaction. Times go as
// durations measured on the writer's own clock (time left, age) and become timestamps on the
// database's clock (now() ± duration), so no two hosts' clocks are ever compared.
import type pg from 'pg';
import type { OutboxRow } from './outbox.js';
import { recordHistory, type SharedEvent } from './pg-history.js';
import { CHANNEL } from './pg-schema.js';

const MS = "* interval '1 millisecond'";

/**
 * A login grants unless the brake is on, its time is already past, a revoke (or flush) came
 * after it (a delayed outbox never undoes a revoke made meanwhile on another host), or it is
 * older than login_max_age: revocations that old are deleted, so it could not be told from a
 * revoked one. Returns why, in one round trip, for the history: the state seen before it.
 */
const LOGIN = `WITH st AS (
    SELECT EXISTS (SELECT 1 FROM popgate_brake) AS braked, rv.at AS revoked_at, rv.by AS revoked_by,
      ($4::bigint ${MS} >= (SELECT value::interval FROM popgate_meta WHERE key = 'login_max_age')) IS NOT FALSE AS too_old,
      EXISTS (SELECT 1 FROM popgate_grants WHERE ip = $1 AND expires_at > now()) AS live
    FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT at, by FROM popgate_revocations
      WHERE ip IN ($1, '*') AND at >= now() - $4::bigint ${MS} ORDER BY at DESC LIMIT 1) AS rv ON true
  ), ins AS (
    INSERT INTO popgate_grants AS g (ip, writer, expires_at, granted_at, username, server, protocol)
    SELECT $1, $2, now() + $3::bigint ${MS}, now() - $4::bigint ${MS}, $5, $6, $7 FROM st
    WHERE $3::bigint > 0 AND NOT st.braked AND st.revoked_at IS NULL AND NOT st.too_old
    ON CONFLICT (ip, writer) DO UPDATE SET expires_at = EXCLUDED.expires_at,
      granted_at = GREATEST(g.granted_at, EXCLUDED.granted_at), username = EXCLUDED.username,
      server = EXCLUDED.server, protocol = EXCLUDED.protocol
    RETURNING 1
  )
  SELECT braked, revoked_at, revoked_by, too_old, live, EXISTS (SELECT 1 FROM ins) AS granted FROM st`;

interface LoginState {
  braked: boolean;
  revoked_at: Date | null;
  revoked_by: string | null;
  too_old: boolean;
  live: boolean;
  granted: boolean;
}

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

/** What one row did: the address readers must read again ('*': all of them), and what the history records. */
interface RowResult {
  touched: string | null;
  event: SharedEvent | null;
}

/** A login as the history shows it: granted, renewed, or refused with the reason. */
function loginEvent(r: OutboxRow, age: number, left: number, s: LoginState): SharedEvent | null {
  const base = { ageMs: age, ip: r.ip, user: r.user, server: r.server, protocol: r.protocol };
  if (s.granted) return { ...base, action: s.live ? 'renew' : 'grant', detail: null };
  // Expired on its way (an outage longer than its grace): no one refused it, and the writer's
  // own history has the login; after a long outage these would be most of the rows.
  if (left <= 0) return null;
  let why = 'older than login_max_age when it reached the shared store: it could have been revoked';
  if (s.braked) why = 'emergency brake on in the shared store';
  else if (s.revoked_at) why = `revoked after this login (${s.revoked_at.toISOString()}, ${s.revoked_by ?? 'unknown'})`;
  return { ...base, action: 'refuse', detail: why };
}

async function applyRow(client: pg.Client, writer: string, r: OutboxRow, now: number): Promise<RowResult> {
  const age = Math.max(0, now - r.at);
  switch (r.kind) {
    case 'login': {
      const left = (r.expires_at ?? 0) - now;
      const s = (await client.query<LoginState>(LOGIN, [r.ip, writer, left, age, r.user, r.server, r.protocol])).rows[0]!;
      return { touched: r.ip, event: loginEvent(r, age, left, s) };
    }
    case 'update':
      // Not in the history: the row does not say whether a logout or a shorter grace moved the
      // expiry of a grant already recorded, and the writer's own history has the logout's line.
      await client.query(UPDATE, [r.ip, writer, (r.expires_at ?? 0) - now]);
      return { touched: r.ip, event: null };
    case 'revoke':
    case 'flush': {
      const ip = r.kind === 'flush' ? '*' : r.ip;
      await client.query(REVOKE_AT, [ip, age, `${writer}: ${r.detail ?? ''}`.slice(0, 200)]);
      await client.query(REVOKE_GRANTS, [ip, age]);
      return { touched: ip, event: { ageMs: age, action: r.kind, ip: r.kind === 'flush' ? null : r.ip, detail: r.detail } };
    }
    case 'brake': {
      const b = brakeOf(r.detail);
      await client.query(BRAKE, [age, `${b.by} on ${writer}`, b.reason]);
      // The flush that follows it in the same local transaction is its history row (shown as a
      // brake, as in the SQLite trail): one line per brake, not two.
      return { touched: '*', event: null };
    }
    case 'release': {
      const was = (await client.query<{ since: Date; by: string; reason: string }>('DELETE FROM popgate_brake RETURNING since, by, reason')).rows[0];
      const detail = was ? `brake applied ${was.since.toISOString()} by ${was.by}: ${was.reason}` : null;
      return { touched: '*', event: was ? { ageMs: age, action: 'release', ip: null, detail } : null };
    }
    default:
      return { touched: null, event: null };
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
  const events: SharedEvent[] = [];
  let applied = 0;
  for (const r of rows) {
    if (r.seq <= seen) continue;
    const done = await applyRow(client, writer, r, now);
    if (done.touched) touched.add(done.touched);
    if (done.event) events.push(done.event);
    applied++;
  }
  await client.query('UPDATE popgate_writers SET last_seq = GREATEST(last_seq, $2::bigint), seen_at = now() WHERE writer = $1', [writer, lastSeq]);
  await recordHistory(client, writer, events);
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
