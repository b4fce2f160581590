// The end-to-end rig: the Postfix and Dovecot that test/e2e/services/setup.sh starts, and a
// popgate daemon run as a child process with its own config and database.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from './wait.js';

export const RIG = {
  dovecotLog: '/var/log/popgate-e2e/dovecot.log',
  dovecotConf: '/etc/popgate-e2e/dovecot.conf',
  map: '/var/lib/popgate-e2e/popgate',
  pop3Port: 10110,
  imapPort: 10143,
  smtpMapPort: 2525,
  user: 'alice',
  pass: 'wonderland',
};

export const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(1000);
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Whether the real services are there. Returns a skip reason, or false to run. With
 * POPGATE_E2E=required (CI) a missing service fails instead of skipping.
 */
export async function e2eSkip(): Promise<string | false> {
  const missing: string[] = [];
  if (!(await listening(RIG.smtpMapPort))) missing.push(`Postfix on 127.0.0.1:${RIG.smtpMapPort}`);
  if (!(await listening(RIG.pop3Port))) missing.push(`Dovecot on 127.0.0.1:${RIG.pop3Port}`);
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(' and ')}: run test/e2e/services/setup.sh as root`;
  if (process.env.POPGATE_E2E === 'required') throw new Error(`POPGATE_E2E=required but the rig is missing: ${reason}`);
  return reason;
}

/**
 * A suite that needs something this machine may lack. Skipped, it counts as one skipped test
 * with the reason, so `npm test` says "# skipped 1" for it, never "# skipped 0".
 */
export function suiteNeeding(name: string, skip: string | false, body: () => void): void {
  if (skip) it(name, { skip }, () => {});
  else describe(name, body);
}

export interface DaemonHandle {
  dir: string;
  config: string;
  db: string;
  /** The map setting it runs with. */
  map: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Every daemon a test file started: killed after its tests, whatever they did (one process per file). */
const started = new Set<DaemonHandle>();
after(async () => {
  for (const d of started) await d.stop('SIGKILL');
});

/** A daemon's settings for following `log` with live answers only: no map, mynetworks not read, loopback excluded. */
export function logOnly(log: string): Record<string, string> {
  return { log, map: 'none', use_mynetworks: 'no', exclude: '127.0.0.1/32' };
}

/** A fresh directory under `parent` holding an empty mail.log, and the logOnly settings for it. */
export function freshLog(parent: string, prefix: string): { dir: string; log: string; settings: Record<string, string> } {
  const dir = mkdtempSync(join(parent, `${prefix}-`));
  const log = join(dir, 'mail.log');
  writeFileSync(log, '');
  return { dir, log, settings: logOnly(log) };
}

/** Writes a config and starts `popgate run` on it; resolves once it says it started. */
export async function startDaemon(settings: Record<string, string>, dir?: string): Promise<DaemonHandle> {
  dir ??= mkdtempSync(join(tmpdir(), 'popgate-e2e-'));
  const db = settings.db ?? join(dir, 'popgate.sqlite');
  const config = join(dir, 'popgate.cf');
  const all: Record<string, string> = { log: RIG.dovecotLog, db, map: `hash:${RIG.map}`, grace: '30m', exclude: '127.0.0.1/32, ::1/128', log_level: 'debug', ...settings };
  writeFileSync(
    config,
    Object.entries(all)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  // A test that failed before stopping its daemon must not fail the next ones too: one map, one daemon.
  for (const d of started) if (d.map === all.map && d.child.exitCode === null && d.child.signalCode === null) await d.stop('SIGKILL');
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(
    'popgate to start',
    () => {
      if (child.exitCode !== null) throw new Error(`popgate exited ${child.exitCode}:\n${out}`);
      return out.includes('started:');
    },
    10_000,
  );
  const handle: DaemonHandle = {
    dir,
    config,
    db,
    map: all.map!,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  started.add(handle);
  return handle;
}

/** Runs the popgate CLI and returns its exit code and output. */
export function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exact-key lookup in the published map, as `postmap -q` does it. */
export function mapLookup(ip: string, map = `hash:${RIG.map}`): string | null {
  const r = spawnSync('postmap', ['-q', ip, map], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Asks Dovecot to reopen its log (after a rename rotation), as logrotate's postrotate does. */
export function dovecotReopenLog(): void {
  const r = spawnSync('doveadm', ['-c', RIG.dovecotConf, 'log', 'reopen'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`doveadm log reopen failed: ${r.stderr}`);
}

export const isRelayDenied = (reply: string) => /^(454 4\.7\.1|554 5\.7\.1)\b/.test(reply);
export const isAccepted = (reply: string) => reply.startsWith('250');
/** Postfix's answer when a policy service or socketmap cannot be asked: fail closed, temporarily. */
export const isTempFail = (reply: string) => /^451 4\.3\.5\b/.test(reply);

/** The addresses a daemon's database grants now, through `popgate list --json` (sorted). */
export function grantedIps(config: string): string[] {
  return (JSON.parse(cli(['list', '--json', '--config', config]).stdout) as { ip: string }[]).map((g) => g.ip).sort();
}

/** Now, as an RFC 3339 syslog stamp (`…+00:00`), for lines a test appends to a log. */
export function syslogStamp(): string {
  return new Date().toISOString().replace('Z', '+00:00');
}
