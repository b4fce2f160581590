// `npm run bench`: catch-up throughput, login → grant latency, publish time, memory and lookups.
// Prints a table and writes bench/out/latest.json. Each measurement runs in its own Node process.
// Arguments: section names to run only those (catchup latency publish memory multihost); BENCH_LINES=N
// for a smaller catch-up file.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import Database from 'better-sqlite3';
import { catchup, pipelineChild, scanChild } from './catchup.js';
import { latencyChild, type LatencyReport } from './latency.js';
import { lookupsChild, memory, memoryChild } from './memory.js';
import { type MultihostReport, multihostChild } from './multihost.js';
import { publishChild, type PublishReport } from './publish.js';
import { printTable } from './table.js';
import { load, runChild, shebangFlags, tempDir } from './util.js';

const CHILDREN: Record<string, (args: string[]) => Promise<unknown>> = {
  scan: ([file]) => scanChild(file!),
  pipeline: ([file, dir]) => pipelineChild(file!, dir!),
  latency: () => latencyChild(),
  publish: () => publishChild(),
  memory: ([log, dir, phase]) => memoryChild(log!, dir!, phase!),
  lookups: ([kind, address]) => lookupsChild(kind!, address!),
  multihost: () => multihostChild(),
};

async function child(name: string, args: string[]): Promise<void> {
  const fn = CHILDREN[name];
  if (!fn) throw new Error(`unknown bench child ${name}`);
  const result = await fn(args);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  process.exit(0);
}

async function main(): Promise<void> {
  const sections = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const want = (s: string) => sections.length === 0 || sections.includes(s);
  const lines = Number(process.env.BENCH_LINES ?? 1_000_000);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const started = Date.now();
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postfix: execSync('postconf -h mail_version', { encoding: 'utf8' }).trim(),
    sqlite: new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string,
    loadBefore: load(),
  };
  log(`popgate bench: ${machine.cpus} cores, node ${machine.node}, Postfix ${machine.postfix}, load ${machine.loadBefore}`);
  const out: Record<string, unknown> = { date: new Date().toISOString(), machine };
  if (want('catchup')) {
    log('catch-up (RFC 3339 stamps)…');
    out.catchup = await catchup(lines, 'rfc3339', 3, log);
    log('catch-up (RFC 3164 stamps)…');
    out.catchup3164 = await catchup(lines, 'rfc3164', 1, log);
    log('catch-up, live shape (Zipf clients, long sessions)…');
    out.catchupLive = await catchup(lines, 'rfc3339', 1, log, 'live');
    log('catch-up, a day-long backlog (the last half hour within the grace)…');
    out.catchupBacklog = await catchup(lines, 'rfc3339', 1, log, 'backlog');
  }
  if (want('latency')) {
    log('login → grant latency…');
    // The daemon with the Node flags the popgate command runs with (its shebang).
    out.latency = await runChild<LatencyReport>('latency', [], 240_000, shebangFlags());
  }
  if (want('publish')) {
    log('publish…');
    out.publish = await runChild<PublishReport>('publish', [], 240_000);
  }
  if (want('memory')) {
    log('memory and lookups with 100k grants…');
    const tmp = tempDir('memory');
    try {
      out.memory = await memory(tmp.dir);
    } finally {
      tmp.cleanup();
    }
  }
  if (want('multihost')) {
    log('several hosts (PostgreSQL, two popgate, a private Postfix)…');
    const h = await runChild<MultihostReport>('multihost', [], 300_000);
    if ('skipped' in h) log(`several hosts: skipped: ${h.skipped}`);
    out.multihost = h;
  }
  machine.loadBefore += ` → after ${load()}`;
  out.seconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(new URL('../../bench/out/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../bench/out/latest.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  printTable(out);
  log(`wrote bench/out/latest.json (${out.seconds as number} s)`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
  child(process.argv[at + 1]!, process.argv.slice(at + 2)).catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
