// `popgate status` for people: the status report (stats/report.ts) as short aligned lines.
import type { StatusReport } from '../stats/report.js';

const int = (n: number) => n.toLocaleString('en-US');

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function uptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

export function statusText(r: Partial<StatusReport>, now = Date.now()): string {
  const out: string[] = [];
  const d = r.daemon;
  if (!d?.running) out.push('daemon: NOT RUNNING');
  else out.push(`daemon: running, pid ${d.pid}, up ${uptime(d.uptime_s)} (since ${d.started}), version ${d.version}`);
  if (r.brake) out.push(`brake: ON since ${r.brake.since} by ${r.brake.by}: ${r.brake.reason}; nothing is granted until "popgate release"`);
  else if (d?.running || r.brake === null) out.push('brake: off');
  for (const l of r.logs ?? []) {
    const size = l.size === null ? 'missing' : `${bytes(l.offset)} of ${bytes(l.size)} read, ${bytes(l.behind_bytes)} behind`;
    out.push(`log ${l.path}: ${l.caught_up ? '' : 'CATCHING UP, '}${size}${l.inode ? `, inode ${l.inode}` : ''}`);
    out.push(
      `  ${l.lines_per_s['1m']} lines/s, ${l.logins_per_min['1m']} logins/min over 1 min (${l.lines_per_s['5m']}, ${l.logins_per_min['5m']} over 5 min); ${int(l.lines)} lines, ${int(l.logins)} logins since start`,
    );
    if (l.last_line) out.push(`  last line ${ago(l.last_line_at, now)}: ${l.last_line.slice(0, 160)}`);
  }
  if (r.grants) {
    const g = r.grants;
    const last = g.last_grant ? `; last grant ${g.last_grant.ip} ${ago(g.last_grant.time, now)} (${g.last_grant.user ?? '-'}, ${g.last_grant.server ?? g.last_grant.detail ?? 'manual'})` : '';
    out.push(`grants: ${int(g.active)} active${g.open_sessions === undefined ? '' : `, ${int(g.open_sessions)} open session(s)`}${last}`);
  }
  if (r.outcomes) {
    const o = r.outcomes;
    const why = Object.entries(r.refusals ?? {})
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${int(n)}`)
      .join(', ');
    out.push(`since start: ${int(o.grant)} new grant(s), ${int(o.renew)} renewal(s), ${int(o.logout)} logout(s), ${int(o.refused)} refused${why ? ` (${why})` : ''}`);
  }
  for (const p of r.publishers ?? []) {
    if (p.kind === 'map') {
      const built = p.last_build ? `built ${ago(p.last_build, now)}${p.build_seconds === null ? '' : ` in ${p.build_seconds} s`}` : 'not built';
      out.push(`${p.name}: ${p.entries ?? '?'} entries, ${built}, ${int(p.builds)} build(s)${p.failing ? ', FAILING' : ''}`);
    } else {
      const a = p.answers;
      out.push(`${p.name}: ${int(p.requests)} request(s) (found ${int(a.found)}, not found ${int(a.notfound)}, tempfail ${int(a.tempfail)}, error ${int(a.error)}), ${p.connections} connection(s)`);
    }
    if (p.last_error) out.push(`  last error ${ago(p.last_error.time, now)}: ${p.last_error.message}`);
  }
  out.push(r.ok ? 'status: OK' : `status: PROBLEM: ${(r.problems ?? ['unknown']).join('; ')}`);
  return out.join('\n') + '\n';
}
