// Small helpers the benchmark sections share: statistics, temp dirs, a quiet real logger,
// child processes that report one JSON object, and the machine's load.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const median = (v: readonly number[]) => percentile(v, 50);
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function tempDir(what: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `popgate-bench-${what}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The daemon's own log format and level (info: one line per grant), written to /dev/null with
 * blocking writes, as stderr to a pipe or file is on Linux: the formatting and the write are
 * paid as in production, the terminal is not, and nothing queues up in memory.
 */
export function benchLogger(level = 'info'): winston.Logger {
  const line = winston.format.printf((info) => `${String(info.timestamp)} ${info.level}: ${String(info.message)}`);
  const fd = openSync('/dev/null', 'w');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      writeSync(fd, chunk);
      done();
    },
  });
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), line),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `node dist/bench/run.js --child NAME ARGS…` and returns the JSON it prints last. */
export function runChild<T>(name: string, args: readonly string[], timeoutMs: number, nodeArgs: readonly string[] = []): Promise<T> {
  const script = new URL('./run.js', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, '--child', name, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`bench child ${name} failed (${signal ?? code}): ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`bench child ${name}: no JSON result in its output: ${out.slice(-2000)}`));
      }
    });
  });
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/** The Node flags popgate's command sets for itself (the shebang of src/cli/main.ts). */
export function shebangFlags(): string[] {
  const first = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8').split('\n')[0]!;
  return first
    .replace(/^#!\/usr\/bin\/env -S node\s*/, '')
    .split(/\s+/)
    .filter(Boolean);
}
