// What the shared store no longer needs, deleted by writers in bounded passes (one short
// transaction of at most PRUNE_BATCH rows per table): history rows older than the writer's
// audit_keep, and revocations no login can be checked against any more.
import type pg from 'pg';
import { inTransaction } from './pg-connect.js';

export const PRUNE_BATCH = 1000;

/** Among the oldest rows by id (ids grow with time), those older than audit_keep: no scan of the whole table. */
const HISTORY = `DELETE FROM popgate_history WHERE id IN (SELECT id FROM popgate_history ORDER BY id LIMIT $2)
  AND at < now() - $1::bigint * interval '1 millisecond'`;

/**
 * A login older than login_max_age never grants (pg-apply.ts), so an older revocation blocks
 * nothing. The extra day covers a login whose transaction began before this one (its now() is
 * earlier); no login_max_age row (a hand-edited store) deletes nothing. `at` is checked again
 * outside the subquery: a revocation renewed meanwhile is kept.
 */
const CUTOFF = `now() - (SELECT value::interval FROM popgate_meta WHERE key = 'login_max_age') - interval '1 day'`;
const REVOCATIONS = `DELETE FROM popgate_revocations WHERE at < ${CUTOFF}
  AND ip IN (SELECT ip FROM popgate_revocations WHERE at < ${CUTOFF} ORDER BY at LIMIT $1)`;

export interface Pruned {
  history: number;
  revocations: number;
}

/** One pass; `keepMs` 0 keeps the history forever. A full batch in either count means more may wait. */
export function pruneShared(c: pg.Client, keepMs: number, max = PRUNE_BATCH): Promise<Pruned> {
  return inTransaction(c, async () => ({
    history: keepMs > 0 ? ((await c.query(HISTORY, [keepMs, max])).rowCount ?? 0) : 0,
    revocations: (await c.query(REVOCATIONS, [max])).rowCount ?? 0,
  }));
}
