// Memory and lookups with 100k active grants. Phase 1 (its own process): the daemon catches up a
// log of 100k logins from distinct addresses (100k grants, 100k open sessions). Phase 2 (a fresh
// process, the one measured): the daemon restarts on that database — sessions reloaded, the 100k
// map published at start —, follows live logins, and answers lookups from the store, the policy
// service and the socketmap (asked from another process, as Postfix would). Peak RSS is maxRSS.
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Daemon } from '../src/daemon/daemon.js';
import { LogGenerator, clientIp } from './generate.js';
import { freePort, policyOpen, socketmapOpen } from './probes.js';
import { benchConfig } from './setup.js';
import { benchLogger, peakRssMb, round, runChild, shebangFlags, sleep } from './util.js';

export interface MemoryReport {
  grants: number;
  openSessions: number;
  /** Phase 1: catching up the 100k logins. */
  catchupMs: number;
  catchupPeakRssMb: number;
  /** Phase 2: restart with 100k grants, live logins, lookups. */
  startMs: number;
  peakRssMb: number;
  /** Phase 2 with the flags the popgate command sets itself (its shebang); the first restart. */
  peakRssSmallYoungMb: number;
  storeLookupsPerSec: number;
  policyLookupsPerSec: number | 'not built yet';
  socketmapLookupsPerSec: number | 'not built yet';
}

const GRANTS = 100_000;
const LOOKUP_MS = 1000;

/** Sessions still open at the end (long IMAP IDLE sessions); the others ended (POP3, short IMAP). */
const OPEN_SESSIONS = 20_000;

/**
 * A log of GRANTS logins from distinct addresses over the last ten minutes (written by the
 * parent); each session ends 50 lines later, except one in five.
 */
export function writeLoginLog(path: string): void {
  const gen = new LogGenerator({ seed: 11, clients: 1, format: 'rfc3339' });
  const fd = openSync(path, 'w');
  const now = Date.now();
  const ends: string[] = [];
  let text = '';
  for (let i = 0; i < GRANTS; i++) {
    const s = gen.session(now - 600_000 + i * 5, i, i % 3 === 0);
    text += s.login + '\n';
    if (i % (GRANTS / OPEN_SESSIONS) !== 0) ends.push(s.logout);
    if (ends.length > 50) text += ends.shift() + '\n';
    if (i % 10_000 === 9999) writeSync(fd, text), (text = '');
  }
  writeSync(fd, text + ends.map((l) => l + '\n').join(''));
  closeSync(fd);
}

/** Child of phase 2: asks the live servers as fast as 4 connections, one request at a time each, allow. */
export async function lookupsChild(kind: string, address: string): Promise<{ perSec: number; ok: number }> {
  const clients = 4;
  const ask = await Promise.all(Array.from({ length: clients }, () => (kind === 'policy' ? policyOpen(address) : socketmapOpen(address, 'popgate'))));
  let n = 0;
  let ok = 0;
  const t0 = performance.now();
  await Promise.all(
    ask.map(async (a, c) => {
      for (let i = c; performance.now() - t0 < LOOKUP_MS; i += clients) {
        // Half of them granted, half unknown.
        if (await a(clientIp(i % (GRANTS * 2), (i % (GRANTS * 2)) % 3 === 0))) ok++;
        n++;
      }
    }),
  );
  return { perSec: Math.round(n / ((performance.now() - t0) / 1000)), ok };
}

function setup(dir: string, log: string, ports: string[]) {
  const extra = { policy: `inet:127.0.0.1:${ports[0]}`, socketmap: `inet:127.0.0.1:${ports[1]}` };
  return { ...benchConfig(dir, [log], extra), extra };
}

export async function memoryChild(log: string, dir: string, phase: string): Promise<Partial<MemoryReport>> {
  const ports = [String(await freePort()), String(await freePort())];
  const { config, extra } = setup(dir, log, ports);
  const t0 = performance.now();
  const daemon = await Daemon.start(config, benchLogger());
  await daemon.settled();
  const ms = round(performance.now() - t0, 0);
  // Counted by SQLite: a list of 100k addresses here would be the bench's memory, not popgate's.
  const { grants, sessions: openSessions } = daemon.store.counts(Date.now());
  if (phase === 'catchup') {
    await daemon.stop();
    return { grants, openSessions, catchupMs: ms, catchupPeakRssMb: peakRssMb() };
  }
  // Live: renewals of granted addresses and a few new ones, 2,000 lines/s for 2 s.
  const gen = new LogGenerator({ seed: 12, clients: 1, format: 'rfc3339' });
  for (let step = 0; step < 100; step++) {
    let text = '';
    for (let j = 0; j < 40; j++) text += gen.loginLine(Date.now(), step * 40 + j + (j % 10 === 0 ? GRANTS : 0), (step * 40 + j) % 3 === 0) + '\n';
    appendFileSync(log, text);
    await sleep(20);
  }
  await daemon.settled();
  let lookups = 0;
  const t1 = performance.now();
  for (let i = 0; performance.now() - t1 < LOOKUP_MS; i++) {
    for (let j = 0; j < 100; j++, lookups++) daemon.store.isGranted(clientIp((i * 100 + j) % (GRANTS * 2), false), Date.now());
  }
  const storeLookupsPerSec = Math.round(lookups / ((performance.now() - t1) / 1000));
  const has = (k: string) => (config as unknown as Record<string, unknown>)[k] != null;
  const live = async (kind: 'policy' | 'socketmap') => (has(kind) ? (await runChild<{ perSec: number }>('lookups', [kind, extra[kind]], 60_000)).perSec : ('not built yet' as const));
  const policyLookupsPerSec = await live('policy');
  const socketmapLookupsPerSec = await live('socketmap');
  await daemon.stop();
  return { grants, openSessions, startMs: ms, peakRssMb: peakRssMb(), storeLookupsPerSec, policyLookupsPerSec, socketmapLookupsPerSec };
}

/** Both phases, each in its own process, on one log and one database. */
export async function memory(dir: string): Promise<MemoryReport> {
  const log = join(dir, 'mail.log');
  writeLoginLog(log);
  const one = await runChild<Partial<MemoryReport>>('memory', [log, join(dir, 'db'), 'catchup'], 240_000);
  // The command's own flags on the first restart after the catch-up (it cost ~20 MB more than a
  // second restart did); Node's defaults after, for comparison.
  const small = await runChild<Partial<MemoryReport>>('memory', [log, join(dir, 'db'), 'steady'], 240_000, shebangFlags());
  const two = await runChild<Partial<MemoryReport>>('memory', [log, join(dir, 'db'), 'steady'], 240_000);
  return { ...one, ...two, grants: small.grants!, openSessions: small.openSessions!, peakRssSmallYoungMb: small.peakRssMb! } as MemoryReport;
}
