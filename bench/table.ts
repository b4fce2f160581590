// The benchmark's table: each figure next to its target, and whether it is met.
import type { CatchupReport } from './catchup.js';
import type { LatencyCase, LatencyReport } from './latency.js';
import type { MemoryReport } from './memory.js';
import type { MultihostReport } from './multihost.js';
import type { PublishReport } from './publish.js';

type Row = [string, string, string, string];

const n = (v: number) => v.toLocaleString('en-US');
const met = (ok: boolean) => (ok ? 'yes' : 'NO');

function catchupRows(c: CatchupReport, label: string): Row[] {
  return [
    [`catch-up ${label}: grep -c 'Login: '`, `${n(c.grep.linesPerSec)} lines/s`, '', ''],
    [`catch-up ${label}: Node single-regex scan`, `${n(c.scan.linesPerSec)} lines/s`, '', ''],
    [`catch-up ${label}: popgate pipeline`, `${n(c.pipeline.linesPerSec)} lines/s (${c.ratioToScan}× scan, ${c.ratioToGrep}× grep)`, '≥ 0.6× scan', met(c.ratioToScan >= 0.6)],
    [
      `catch-up ${label}: popgate parse (the command, Node's start included)`,
      `${n(c.parse.linesPerSec)} lines/s (${c.parse.ratioToScan}× the scan as a command, ${n(c.scanCommand.linesPerSec)} lines/s)`,
      '≥ 0.6× scan',
      met(c.parse.ratioToScan >= 0.6),
    ],
    [
      `catch-up ${label}: grants / builds / peak RSS`,
      `${n(c.pipeline.granted)} / ${c.pipeline.builds} / ${c.pipeline.peakRssMb} MB${c.correct ? '' : ' (COUNTS WRONG)'}`,
      'recent logins granted, no older one',
      met(c.correct),
    ],
  ];
}

/** `p99` null: shown without a target. */
function latencyRows(name: string, l: { quiet: LatencyCase; noisy: LatencyCase }, p50: number | null, p99: number | null): Row[] {
  return (['quiet', 'noisy'] as const).map((k) => {
    const c = l[k];
    const ok = (p50 === null || c.p50 <= p50) && (p99 === null || c.p99 <= p99) && c.missed === 0;
    return [
      `login → ${name}, ${k === 'quiet' ? 'quiet log' : 'under 2,000 lines/s'}`,
      `p50 ${c.p50} ms, p99 ${c.p99} ms, max ${c.max} ms${c.missed ? `, ${c.missed} missed` : ''} (n=${c.trials})`,
      p99 === null ? '' : `${p50 === null ? '' : `p50 ≤ ${p50}, `}p99 ≤ ${p99} ms`,
      p99 === null ? '' : met(ok),
    ];
  });
}

export function printTable(out: Record<string, unknown>): void {
  const rows: Row[] = [];
  if (out.catchup) rows.push(...catchupRows(out.catchup as CatchupReport, `${n((out.catchup as CatchupReport).lines)} RFC 3339`));
  if (out.catchup3164) rows.push(...catchupRows(out.catchup3164 as CatchupReport, `${n((out.catchup3164 as CatchupReport).lines)} RFC 3164`));
  if (out.catchupLive) rows.push(...catchupRows(out.catchupLive as CatchupReport, `${n((out.catchupLive as CatchupReport).lines)} live shape`));
  if (out.catchupBacklog) rows.push(...catchupRows(out.catchupBacklog as CatchupReport, `${n((out.catchupBacklog as CatchupReport).lines)} day backlog`));
  const l = out.latency as LatencyReport | undefined;
  if (l) {
    rows.push(...latencyRows('postmap -q OK', l.map, 20, 100));
    rows.push(...latencyRows('map renamed in (smtpd sees it)', l.renamed, 10, 30));
    // From the line's write (the follower's wake-up and the batch included): no target, shown for scale.
    if (l.policy === 'not built yet') rows.push(['login → policy OK', 'policy: not built yet', '', '']);
    else rows.push(...latencyRows('policy OK (from the log write)', l.policy, null, null));
    for (const [name, fromCommit, lookup] of [
      ['policy', l.policyFromCommit, l.policyLookup],
      ['socketmap', l.socketmapFromCommit, l.socketmapLookup],
    ] as const) {
      if (!fromCommit || !lookup) continue;
      rows.push(...latencyRows(`${name} OK (from the commit; map = none; asked by another process)`, fromCommit, null, 1));
      for (const k of ['quiet', 'noisy'] as const) {
        const q = lookup[k];
        rows.push([
          `${name} lookup (map = none), granted address, ${k === 'quiet' ? 'quiet log' : 'under 2,000 lines/s'}`,
          `p50 ${q.p50} ms, p99 ${q.p99} ms, max ${q.max} ms (${n(q.lookups)} in 1 s)`,
          'p99 ≤ 0.5 ms',
          met(q.p99 <= 0.5),
        ]);
      }
    }
    const s = l.storm;
    rows.push([
      `login storm: ${n(s.logins)} new addresses written in ${s.writeSeconds} s`,
      `${s.builds} builds; last login in map ${s.lastLoginToMapMs} ms after the storm; peak RSS ${s.peakRssMb} MB`,
      'coalesced; last ≤ 1,000 ms',
      met(s.builds < s.logins / 10 && s.lastLoginToMapMs <= 1000),
    ]);
  }
  for (const p of (out.publish as PublishReport | undefined) ?? []) {
    rows.push([
      `publish ${n(p.grants)} grants`,
      `${p.publishMs} ms vs postmap alone ${p.postmapMs} ms (${p.ratio}×)`,
      p.grants === 100_000 ? '≤ 1.3×' : '',
      p.grants === 100_000 ? met(p.ratio <= 1.3) : '',
    ]);
  }
  const m = out.memory as MemoryReport | undefined;
  if (m) {
    rows.push([
      `peak RSS, restart with ${n(m.grants)} active grants (${n(m.openSessions)} open sessions), live logins, lookups: node's defaults`,
      `${m.peakRssMb} MB (start and first publish ${n(m.startMs)} ms)`,
      '',
      '',
    ]);
    rows.push(['  the same as the popgate command runs (the flags of its shebang)', `${m.peakRssSmallYoungMb} MB`, '≤ 100 MB', met(m.peakRssSmallYoungMb <= 100)]);
    rows.push([`peak RSS, catching up ${n(m.grants)} logins`, `${m.catchupPeakRssMb} MB (${n(m.catchupMs)} ms)`, '', '']);
    rows.push(['store lookups', `${n(m.storeLookupsPerSec)} /s`, '', '']);
    rows.push(['policy lookups (4 connections)', typeof m.policyLookupsPerSec === 'number' ? `${n(m.policyLookupsPerSec)} /s` : `policy: ${m.policyLookupsPerSec}`, '', '']);
    rows.push(['socketmap lookups (4 connections)', typeof m.socketmapLookupsPerSec === 'number' ? `${n(m.socketmapLookupsPerSec)} /s` : `socketmap: ${m.socketmapLookupsPerSec}`, '', '']);
  }
  const h = out.multihost as MultihostReport | undefined;
  if (h && 'skipped' in h) rows.push(['several hosts', `skipped: ${h.skipped}`, '', '']);
  else if (h) {
    for (const [mode, s] of Object.entries(h.modes)) rows.push([`several hosts: SMTP session to RCPT 250, ${mode}`, `${n(s.perSec)} /s, p50 ${s.p50} ms, p99 ${s.p99} ms`, '', '']);
    rows.push(['several hosts: login on A → 250 on B', `p50 ${h.loginToRelay.p50} ms, p99 ${h.loginToRelay.p99} ms (n=${h.loginToRelay.n})`, '', '']);
    rows.push(['several hosts: reader view lookups (10k grants)', `${n(h.viewLookupsPerSec)} /s`, '', '']);
    rows.push(['several hosts: pgsql: query alone (10k grants)', `${n(h.pgsqlQuery.perSec)} /s, p50 ${h.pgsqlQuery.p50} ms, p99 ${h.pgsqlQuery.p99} ms`, '', '']);
  }
  const machine = out.machine as { cpus: number; cpu: string; node: string; postfix: string; sqlite: string; loadBefore: string };
  const head: Row = ['measure', 'result', 'target', 'met'];
  const w = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const fmt = (r: Row) => r.map((c, i) => c.padEnd(w[i]!)).join(' | ');
  console.log(`\npopgate benchmark — ${machine.cpus} × ${machine.cpu}, node ${machine.node}, Postfix ${machine.postfix}, SQLite ${machine.sqlite}, load ${machine.loadBefore}`);
  console.log(fmt(head));
  console.log(w.map((x) => '-'.repeat(x)).join('-|-'));
  for (const r of rows) console.log(fmt(r));
}
