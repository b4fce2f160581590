// A private PostgreSQL cluster per test file (test/e2e/services/postgres.sh): started on a spare
// loopback port, stopped, frozen (SIGSTOP) and thawed by the fault tests, removed after.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePort } from '../helpers/ports.js';

export { freePort };

const SCRIPT = new URL('../../../test/e2e/services/postgres.sh', import.meta.url).pathname;

function serverBinaries(): boolean {
  const base = '/usr/lib/postgresql';
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, 'bin', 'pg_ctl')));
}

/** A skip reason, or false to run; with POPGATE_E2E=required a missing PostgreSQL fails instead. */
export function pgSkip(): string | false {
  let reason: string | false = false;
  if (process.getuid?.() !== 0) reason = 'needs root (runs PostgreSQL as the postgres user)';
  else if (!serverBinaries()) reason = `needs PostgreSQL server binaries: run ${SCRIPT.replace(/.*\/test\//, 'test/')} install as root`;
  if (reason && process.env.POPGATE_E2E === 'required') throw new Error(`POPGATE_E2E=required but ${reason}`);
  return reason;
}

export interface Cluster {
  dir: string;
  port: number;
  /** PGPASSFILE for popgate_writer and popgate_reader. */
  passfile: string;
  readerPassword: string;
  url(role?: 'popgate_writer' | 'popgate_reader'): string;
  /** Runs SQL as the superuser; returns psql's unaligned output. */
  sql(text: string): string;
  down(): void;
  up(): void;
  /** SIGSTOP the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
}

function pids(dir: string): number[] {
  const main = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const kids = spawnSync('pgrep', ['-P', String(main)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  return [main, ...kids];
}

const clusters: Cluster[] = [];
after(() => {
  for (const c of clusters) spawnSync('bash', [SCRIPT, 'stop', c.dir]);
});

export async function startCluster(): Promise<Cluster> {
  const port = await freePort();
  const dir = join(tmpdir(), `popgate-pg-${process.pid}-${port}`);
  const env = Object.fromEntries(
    execFileSync('bash', [SCRIPT, 'start', dir, String(port)], { encoding: 'utf8', timeout: 60_000 })
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  const bin = env.PG_BIN!;
  const c: Cluster = {
    dir,
    port,
    passfile: env.PGPASSFILE!,
    readerPassword: env.PG_READER_PASSWORD!,
    url: (role = 'popgate_writer') => `postgresql://${role}@127.0.0.1:${port}/popgate`,
    sql: (text) =>
      execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'popgate', '-c', text], {
        encoding: 'utf8',
        timeout: 20_000,
      }).trim(),
    down: () => execFileSync('bash', [SCRIPT, 'down', dir], { timeout: 30_000 }),
    up: () => execFileSync('bash', [SCRIPT, 'up', dir], { timeout: 30_000 }),
    freeze: () => {
      for (const p of pids(dir)) process.kill(p, 'SIGSTOP');
    },
    thaw: () => {
      for (const p of pids(dir)) process.kill(p, 'SIGCONT');
    },
  };
  clusters.push(c);
  process.env.PGPASSFILE = c.passfile;
  return c;
}
