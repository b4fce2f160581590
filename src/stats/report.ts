// The daemon's answer to `popgate status`: one JSON object (format version 1, documented in the
// README's JSON section), built on demand from the counters, the store, the files on disk and the
// publishers. `ok` is false, with the reasons in `problems`, when a log is behind, a publisher fails
// or the emergency brake is on.
import { readFileSync, statSync } from 'node:fs';
import type { Problem, Problems } from '../core/logger.js';
import type { BrakeState } from '../grants/brake.js';
import type { Store } from '../grants/store.js';
import { builtSuffix } from '../postfix/map-spec.js';
import { MapPublisher } from '../publish/map-publisher.js';
import type { Publisher } from '../publish/publisher.js';
import type { DaemonStats, LogCounters } from './counters.js';
import type { LiveCounters } from './live.js';

export const STATUS_VERSION = 1;
/** A log with unread bytes and no batch for this long is behind (a stuck reader, or the database). */
export const BEHIND_MS = 30_000;

/** The version of the code that runs (package.json, three levels above dist/src/stats). */
export const RUNNING_VERSION: string = (() => {
  try {
    return String(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

export interface StatusInputs {
  stats: DaemonStats;
  store: Pick<Store, 'counts' | 'history'>;
  brake: () => BrakeState | null;
  publishers: readonly Publisher[];
  live: readonly LiveCounters[];
  problems: Problems;
  /** The shared store (store = postgresql://…): the view's state, and this writer's undelivered changes. */
  shared?: { view: { fresh(): boolean; size(): number; sinceConfirmedMs(): number; where: string }; outbox: { size(): number } } | null;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const problemJson = (p: Problem | null) => (p ? { time: iso(p.at), level: p.level, message: p.message } : null);

function fileSize(path: string): { size: number; ino: string } | null {
  try {
    const st = statSync(path);
    return { size: st.size, ino: String(st.ino) };
  } catch {
    return null;
  }
}

export function logStatus(log: LogCounters, now: number) {
  const file = log.path === '-' ? null : fileSize(log.path);
  // The file at the path may be a new one the reader has not switched to yet: all of it is unread.
  const unread = file === null ? 0 : file.ino === log.ino ? Math.max(0, file.size - log.offset) : file.size;
  const idle = now - (log.lastAt ?? log.caughtUpAt ?? log.startedAt);
  const caughtUp = log.caughtUpAt !== null;
  return {
    path: log.path,
    inode: log.ino,
    offset: log.offset,
    size: file?.size ?? null,
    behind_bytes: unread,
    caught_up: caughtUp,
    behind: !caughtUp || (unread > 0 && idle > BEHIND_MS),
    lines: log.lines,
    logins: log.logins,
    last_line: log.lastLine,
    last_line_at: iso(log.lastAt),
    lines_per_s: { '1m': round(log.lineRate.perSecond(now, 60_000)), '5m': round(log.lineRate.perSecond(now, 300_000)) },
    logins_per_min: { '1m': round(log.loginRate.perSecond(now, 60_000) * 60), '5m': round(log.loginRate.perSecond(now, 300_000) * 60) },
  };
}

function countLines(path: string): number | null {
  try {
    const text = readFileSync(path);
    let n = 0;
    for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
    return n;
  } catch {
    return null;
  }
}

/** A map's state from its files: the built one's mtime is the end of the last build, the text's its start. */
export function mapStatus(p: MapPublisher, problems: Problems, now: number, withEntries = true) {
  const type = p.name.slice(0, p.name.indexOf(':'));
  const path = p.name.slice(type.length + 1);
  const mtime = (f: string) => {
    try {
      return statSync(f).mtimeMs;
    } catch {
      return null;
    }
  };
  const built = mtime(path + builtSuffix(type));
  const text = mtime(path);
  const error = problems.latest(`map ${p.name}`);
  return {
    kind: 'map' as const,
    name: p.name,
    path,
    entries: withEntries ? countLines(path) : null,
    builds: p.builds,
    last_build: iso(built),
    last_build_age_s: built === null ? null : round((now - built) / 1000),
    build_seconds: built !== null && text !== null && built >= text ? round((built - text) / 1000, 3) : null,
    last_error: problemJson(error),
    failing: built === null || (error !== null && error.at > built),
  };
}

export function liveStatus(c: LiveCounters, problems: Problems) {
  const a = c.answers;
  const { connections } = c.server.stats();
  const error = problems.latest(c.name);
  return {
    kind: c.kind,
    name: c.name,
    address: c.server.bound(),
    requests: a.found + a.notfound + a.tempfail + a.error,
    answers: { ...a },
    errors: a.tempfail + a.error,
    connections,
    last_error: problemJson(error),
    failing: false,
  };
}

export function buildStatus(i: StatusInputs, now = Date.now()) {
  const logs = [...i.stats.logs.values()].map((l) => logStatus(l, now));
  const publishers = [...i.publishers.filter((p): p is MapPublisher => p instanceof MapPublisher).map((p) => mapStatus(p, i.problems, now)), ...i.live.map((c) => liveStatus(c, i.problems))];
  const brake = i.brake();
  const counts = i.store.counts(now);
  const last = i.store.history({ actions: ['grant'], limit: 1 })[0] ?? null;
  const problems = [
    ...logs.filter((l) => l.behind).map((l) => (l.caught_up ? `${l.path}: ${l.behind_bytes} bytes unread for more than ${BEHIND_MS / 1000} s` : `${l.path}: catching up`)),
    ...publishers.filter((p) => p.failing).map((p) => `${p.name}: ${p.last_error?.message ?? 'not built'}`),
    // Nobody relays through popgate while it is on: a monitoring check must say so.
    ...(brake ? [`emergency brake on since ${iso(brake.since)} (${brake.by}: ${brake.reason})`] : []),
    ...(i.shared && !i.shared.view.fresh() ? [`shared store ${i.shared.view.where} not confirmed in step for ${Math.round(i.shared.view.sinceConfirmedMs() / 1000)} s: live answers are 451`] : []),
  ];
  return {
    version: STATUS_VERSION,
    ok: problems.length === 0,
    problems,
    daemon: { running: true, pid: process.pid, started: iso(i.stats.startedAt), uptime_s: Math.round((now - i.stats.startedAt) / 1000), version: RUNNING_VERSION },
    logs,
    grants: {
      active: brake ? 0 : counts.grants,
      open_sessions: counts.sessions,
      last_grant: last && { time: iso(last.at), ip: last.ip, user: last.user, server: last.server, protocol: last.protocol, origin: last.origin, detail: last.detail },
    },
    events: Object.fromEntries(i.stats.events),
    outcomes: { ...i.stats.outcomes },
    refusals: { ...i.stats.refusals },
    brake: brake && { since: iso(brake.since), by: brake.by, reason: brake.reason },
    publishers,
    shared: i.shared
      ? {
          store: i.shared.view.where,
          in_step: i.shared.view.fresh(),
          confirmed_s_ago: Math.round(i.shared.view.sinceConfirmedMs() / 1000),
          grants: i.shared.view.size(),
          outbox: i.shared.outbox.size(),
        }
      : null,
    last_problem: problemJson(i.problems.latest()),
  };
}

export type StatusReport = ReturnType<typeof buildStatus>;
