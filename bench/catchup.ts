// Catch-up throughput: the real pipeline (FileSource → Engine with every parser → Granter and
// SqliteStore batches → one publish at the end) on a generated log, against two baselines on the
// same file in the same run: `grep -c 'Login: '` and a minimal Node stream with one regex.
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Daemon } from '../src/daemon/daemon.js';
import type { MapPublisher } from '../src/publish/map-publisher.js';
import { LogGenerator, type StampFormat } from './generate.js';
import { benchConfig } from './setup.js';
import { benchLogger, median, peakRssMb, round, runChild, shebangFlags, tempDir } from './util.js';

export interface ScanResult {
  lines: number;
  matches: number;
  ms: number;
}

export interface PipelineResult extends ScanResult {
  readMs: number;
  granted: number;
  builds: number;
  peakRssMb: number;
}

/** The baseline: a stream, lines split by hand, one regex per line. */
export async function scanChild(file: string): Promise<ScanResult> {
  const re = / Login: user=<[^>]*>, method=\w+, rip=([0-9A-Fa-f:.]+)/;
  const t0 = performance.now();
  let lines = 0;
  let matches = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines++;
      if (re.test(line)) matches++;
    }
  }
  return { lines, matches, ms: performance.now() - t0 };
}

/** The daemon, started on the log: it reads it to the end, stores, then publishes the map once. */
export async function pipelineChild(file: string, dir: string): Promise<PipelineResult> {
  const { config } = benchConfig(dir, [file]);
  const t0 = performance.now();
  const daemon = await Daemon.start(config, benchLogger());
  const readMs = performance.now() - t0;
  await daemon.settled();
  const ms = performance.now() - t0;
  const granted = daemon.store.activeIps(Date.now()).length;
  const pubs = daemon.publishers as MapPublisher[];
  const position = daemon.store.getPosition(file);
  await daemon.stop();
  return { lines: position?.line ?? 0, matches: granted, ms, readMs, granted, builds: pubs[0]?.builds ?? 0, peakRssMb: peakRssMb() };
}

/** `popgate parse FILE` as a user runs it (output to /dev/null), wall time from spawn to exit. */
function parseCommand(file: string): ScanResult {
  const main = new URL('../src/cli/main.js', import.meta.url).pathname;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...shebangFlags(), main, 'parse', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`popgate parse failed: ${r.stderr}`);
  const m = /(\d+) logins/.exec(r.stderr);
  return { lines: Number(/^(\d+) lines/m.exec(r.stderr)?.[1] ?? NaN), matches: Number(m?.[1] ?? NaN), ms };
}

function grep(file: string): ScanResult {
  const t0 = performance.now();
  const r = spawnSync('grep', ['-c', 'Login: ', file], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  return { lines: NaN, matches: Number(r.stdout.trim()), ms };
}

export interface CatchupReport {
  format: StampFormat;
  lines: number;
  generated: { logins: number; logouts: number; failures: number; aborts: number; distinctIps: number; dovecotLoginShare: number };
  runs: number;
  grep: { linesPerSec: number; matches: number };
  scan: { linesPerSec: number; matches: number };
  /** The scan and `popgate parse` as commands: wall time from spawn to exit, Node's start included in both. */
  scanCommand: { linesPerSec: number };
  parse: { linesPerSec: number; matches: number; ratioToScan: number };
  pipeline: { linesPerSec: number; readLinesPerSec: number; granted: number; builds: number; peakRssMb: number };
  ratioToScan: number;
  ratioToGrep: number;
  correct: boolean;
}

/**
 * `live`: the whole log within the grace of a busy server — 1,500 clients spread by Zipf (a few
 * addresses log in most of the time), sessions that stay open long, so popular addresses hold
 * hundreds of open sessions. `uniform`: 5,000 clients alike, sessions of a few thousand lines.
 */
export async function catchup(lines: number, format: StampFormat, runs: number, log: (s: string) => void, shape: 'uniform' | 'live' | 'backlog' = 'uniform'): Promise<CatchupReport> {
  const tmp = tempDir('catchup');
  try {
    const file = join(tmp.dir, 'mail.log');
    const now = Date.now();
    const gen = new LogGenerator(shape === 'live' ? { seed: 43, clients: 1500, format, zipf: 1.2, sessionLines: 400_000 } : { seed: 42, clients: 5000, format });
    // Uniform and live: every line recent (the last 20 minutes), every login grants, the store
    // works for each. Backlog: a day of log, of which only the last half hour is within the grace.
    const stats = gen.writeFile(file, lines, shape === 'backlog' ? now - 86_400_000 : now - 20 * 60_000, now - 1000);
    // The addresses the daemon must hold at the end: a backlog's older logins grant nothing, except
    // where the session's end (minutes later) restarted the grace within the last half hour.
    const mustGrant = [...stats.lastLoginAt.values()].filter((t) => t > now - 29 * 60_000).length;
    const mayGrant = [...stats.lastLoginAt.values()].filter((t) => t > now - 40 * 60_000).length;
    log(`  generated ${lines} ${format} lines (${shape}): ${stats.logins} logins, ${stats.grantedIps.size} addresses, ${mustGrant} of them within the grace`);
    const g: ScanResult[] = [];
    const s: ScanResult[] = [];
    const p: PipelineResult[] = [];
    const sw: ScanResult[] = [];
    const pc: ScanResult[] = [];
    grep(file); // page cache
    for (let i = 0; i < runs; i++) {
      g.push(grep(file));
      const tw = performance.now();
      s.push(await runChild<ScanResult>('scan', [file], 120_000));
      sw.push({ ...s[i]!, ms: performance.now() - tw });
      pc.push(parseCommand(file));
      const run = join(tmp.dir, `run${i}`);
      // With the Node flags the popgate command runs with (its shebang).
      p.push(await runChild<PipelineResult>('pipeline', [file, run], 300_000, shebangFlags()));
      log(`  run ${i + 1}: grep ${round(g[i]!.ms)} ms, scan ${round(s[i]!.ms)} ms (command ${round(sw[i]!.ms)} ms), popgate parse ${round(pc[i]!.ms)} ms, pipeline ${round(p[i]!.ms)} ms`);
    }
    const rate = (r: ScanResult[]) => Math.round(lines / (median(r.map((x) => x.ms)) / 1000));
    const last = p[p.length - 1]!;
    const loginLines = stats.logins + stats.failures + stats.aborts; // written by the login processes
    const report: CatchupReport = {
      format,
      lines,
      generated: {
        logins: stats.logins,
        logouts: stats.logouts,
        failures: stats.failures,
        aborts: stats.aborts,
        distinctIps: stats.grantedIps.size,
        dovecotLoginShare: round(loginLines / lines, 4),
      },
      runs,
      grep: { linesPerSec: rate(g), matches: g[0]!.matches },
      scan: { linesPerSec: rate(s), matches: s[0]!.matches },
      scanCommand: { linesPerSec: rate(sw) },
      parse: { linesPerSec: rate(pc), matches: pc[0]!.matches, ratioToScan: round(rate(pc) / rate(sw), 2) },
      pipeline: {
        linesPerSec: rate(p),
        readLinesPerSec: Math.round(lines / (median(p.map((x) => x.readMs)) / 1000)),
        granted: last.granted,
        builds: last.builds,
        peakRssMb: Math.max(...p.map((x) => x.peakRssMb)),
      },
      ratioToScan: 0,
      ratioToGrep: 0,
      // Every recent login grants its address (and no older one); the baselines see every login line.
      correct:
        last.granted >= mustGrant &&
        last.granted <= mayGrant &&
        s[0]!.matches === stats.logins &&
        g[0]!.matches === stats.logins &&
        last.lines === lines &&
        pc[0]!.matches === stats.logins &&
        pc[0]!.lines === lines,
    };
    report.ratioToScan = round(report.pipeline.linesPerSec / report.scan.linesPerSec, 2);
    report.ratioToGrep = round(report.pipeline.linesPerSec / report.grep.linesPerSec, 3);
    return report;
  } finally {
    tmp.cleanup();
  }
}
