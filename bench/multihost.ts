// Several hosts (README "Several hosts"): a private PostgreSQL, writer A, host B's popgate and
// Postfix. Per reader mode, SMTP sessions to RCPT 250 per second and their p50/p99; a login in
// A's log → 250 on B's MTA; the reader view and the pgsql: query alone. The measurements are
// test/e2e/pg-bench-rig.ts's (the e2e bench test runs them too). Needs root and PostgreSQL's
// server binaries; otherwise one line says why it was skipped.
import { round } from './util.js';

export interface Spread {
  p50: number;
  p99: number;
  n: number;
}

export type MultihostReport =
  | { skipped: string }
  | {
      modes: Record<string, Spread & { perSec: number }>;
      loginToRelay: Spread;
      viewLookupsPerSec: number;
      pgsqlQuery: Spread & { perSec: number };
    };

/** Runs in its own process (node:test's helpers are loaded here only, never in the table's process). */
export async function multihostChild(): Promise<MultihostReport> {
  const { pgSkip } = await import('../test/e2e/pg-helpers.js');
  let skipped: string | false;
  try {
    skipped = pgSkip();
  } catch (err) {
    skipped = (err as Error).message;
  }
  if (skipped) return { skipped };
  const { loginToRelay, MODES, pct, rawLookups, rcptPerMode, startRig, stopRig } = await import('../test/e2e/pg-bench-rig.js');
  const spread = (xs: number[]): Spread => ({ p50: round(pct(xs, 50), 2), p99: round(pct(xs, 99), 2), n: xs.length });
  const rig = await startRig();
  try {
    const login = await loginToRelay(rig, 20);
    const per = await rcptPerMode(rig, 200);
    const raw = await rawLookups(rig);
    return {
      modes: Object.fromEntries(MODES.map((m) => [m, { ...spread(per[m].times), perSec: per[m].perSec }])),
      loginToRelay: spread(login),
      viewLookupsPerSec: raw.viewPerSec,
      pgsqlQuery: { ...spread(raw.query), perSec: raw.queryPerSec },
    };
  } finally {
    await stopRig(rig);
  }
}
