// popgate's Prometheus metrics (prom-client). The daemon counts in plain numbers (stats/); the
// metrics copy them at scrape time, so the hot path never touches prom-client. Only the live
// answers' latency is observed as it happens, into a histogram child made once per server.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrakeState } from '../grants/brake.js';
import type { Store } from '../grants/store.js';
import { MapPublisher } from '../publish/map-publisher.js';
import type { Publisher } from '../publish/publisher.js';
import type { DaemonStats } from '../stats/counters.js';
import type { LiveCounters } from '../stats/live.js';
import { logStatus, mapStatus } from '../stats/report.js';
import type { Problems } from '../core/logger.js';

export interface MetricsInputs {
  stats: DaemonStats;
  store: Pick<Store, 'counts'>;
  brake: () => BrakeState | null;
  publishers: readonly Publisher[];
  live: readonly LiveCounters[];
  problems: Problems;
}

/** Seconds: a live answer is one indexed lookup, tens of microseconds; a slow one is a problem. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];

/** A counter whose value is read from the daemon's own counts at each scrape. */
function mirrored<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], read: (set: (labels: Partial<Record<L, string>>, v: number) => void) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, v) => this.inc(labels, v));
    },
  });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], read: (set: (labels: Partial<Record<L, string>>, v: number) => void) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, v) => this.set(labels, v));
    },
  });
}

export function popgateRegistry(i: MetricsInputs): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  const maps = () => i.publishers.filter((p): p is MapPublisher => p instanceof MapPublisher);

  mirrored(r, 'popgate_lines_read_total', 'Log lines read, per followed log, since the daemon started.', ['log'], (set) => {
    for (const l of i.stats.logs.values()) set({ log: l.path }, l.lines);
  });
  mirrored(r, 'popgate_events_total', 'Logins and logouts recognised, by server (parser) and kind.', ['server', 'kind'], (set) => {
    for (const [server, k] of i.stats.events) for (const kind of ['login', 'logout'] as const) set({ server, kind }, k[kind]);
  });
  mirrored(r, 'popgate_grants_total', 'Logins that granted relay: new grants and renewals of an active one.', ['kind'], (set) => {
    set({ kind: 'new' }, i.stats.outcomes.grant);
    set({ kind: 'renewed' }, i.stats.outcomes.renew);
  });
  mirrored(r, 'popgate_refusals_total', 'Logins that granted nothing, by reason.', ['reason'], (set) => {
    for (const [reason, n] of Object.entries(i.stats.refusals)) set({ reason }, n);
  });
  mirrored(r, 'popgate_brake_trips_total', 'Times the automatic emergency brake tripped.', [], (set) => set({}, i.stats.trips));
  mirrored(r, 'popgate_map_builds_total', 'Builds of the access map that reached Postfix.', [], (set) =>
    set(
      {},
      maps().reduce((n, p) => n + p.builds, 0),
    ),
  );
  mirrored(r, 'popgate_live_requests_total', 'Policy service and socketmap requests, by server and answer.', ['server', 'answer'], (set) => {
    for (const c of i.live) for (const [answer, n] of Object.entries(c.answers)) set({ server: c.kind, answer }, n);
  });

  gauge(r, 'popgate_active_grants', 'Addresses that may relay now.', [], (set) => set({}, i.brake() ? 0 : i.store.counts(Date.now()).grants));
  gauge(r, 'popgate_open_sessions', 'POP3/IMAP sessions logged in and not yet logged out.', [], (set) => set({}, i.store.counts(Date.now()).sessions));
  gauge(r, 'popgate_brake', '1 while the emergency brake is on (nothing is granted), else 0.', [], (set) => set({}, i.brake() ? 1 : 0));
  gauge(r, 'popgate_log_bytes_behind', 'Bytes written to a followed log and not read yet.', ['log'], (set) => {
    const now = Date.now();
    for (const l of i.stats.logs.values()) set({ log: l.path }, logStatus(l, now).behind_bytes);
  });
  if (maps().length) {
    gauge(r, 'popgate_map_build_seconds', 'How long the last build of the access map took (postmap included).', [], (set) => {
      for (const p of maps()) {
        const s = mapStatus(p, i.problems, Date.now(), false).build_seconds;
        if (s !== null) set({}, s);
      }
    });
    gauge(r, 'popgate_map_age_seconds', 'Seconds since the access map was last built.', [], (set) => {
      for (const p of maps()) {
        const age = mapStatus(p, i.problems, Date.now(), false).last_build_age_s;
        if (age !== null) set({}, age);
      }
    });
  }

  const latency = new Histogram({ name: 'popgate_live_request_seconds', help: 'Time to answer one policy or socketmap request.', labelNames: ['server'], buckets: LATENCY_BUCKETS, registers: [r] });
  for (const c of i.live) {
    const child = latency.labels({ server: c.kind });
    c.observe = (_answer, seconds) => child.observe(seconds);
  }
  return r;
}
