// Memory and lookups: the daemon catches up a log of 100k logins from distinct addresses (100k
// active grants, 100k open sessions), publishes them, then answers lookups; peak RSS is the
// process's maxRSS. Policy and socketmap lookups come from another process, as from Postfix.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Daemon } from '../src/daemon.js';
import { LogGenerator, clientIp } from './generate.js';
import { freePort, policyOpen, socketmapOpen } from './probes.js';
import { benchConfig } from './setup.js';
import { benchLogger, peakRssMb, round, runChild, tempDir } from './util.js';

export interface MemoryReport {
  grants: number;
  catchupMs: number;
  peakRssMb: number;
  rssAfterMb: number;
  storeLookupsPerSec: number;
  policyLookupsPerSec: number | 'not built yet';
  socketmapLookupsPerSec: number | 'not built yet';
}

const GRANTS = 100_000;
const LOOKUP_MS = 1000;

/** Child of the memory child: asks the live servers as fast as one connection per client allows. */
export async function lookupsChild(kind: string, address: string): Promise<{ perSec: number; ok: number }> {
  const clients = 4;
  const ask = await Promise.all(Array.from({ length: clients }, () => (kind === 'policy' ? policyOpen(address) : socketmapOpen(address, 'popgate'))));
  let n = 0;
  let ok = 0;
  const t0 = performance.now();
  await Promise.all(ask.map(async (a, c) => {
    for (let i = c; performance.now() - t0 < LOOKUP_MS; i += clients) {
      if (await a(clientIp(i % (GRANTS * 2), (i % (GRANTS * 2)) % 3 === 0))) ok++;
      n++;
    }
  }));
  return { perSec: Math.round(n / ((performance.now() - t0) / 1000)), ok };
}

export async function memoryChild(): Promise<MemoryReport> {
  const tmp = tempDir('memory');
  try {
    const log = join(tmp.dir, 'mail.log');
    const gen = new LogGenerator({ seed: 11, clients: 1, format: 'rfc3339' });
    const fd = openSync(log, 'w');
    const now = Date.now();
    let text = '';
    for (let i = 0; i < GRANTS; i++) {
      text += gen.loginLine(now - 600_000 + i, i, i % 3 === 0) + '\n';
      if (i % 10_000 === 9999) (writeSync(fd, text), (text = ''));
    }
    closeSync(fd);
    const extra = { policy: `inet:127.0.0.1:${await freePort()}`, socketmap: `inet:127.0.0.1:${await freePort()}` };
    const { config } = benchConfig(tmp.dir, [log], extra);
    const t0 = performance.now();
    const daemon = await Daemon.start(config, benchLogger());
    await daemon.settled();
    const catchupMs = performance.now() - t0;
    const grants = daemon.store.activeIps(Date.now()).length;
    let lookups = 0;
    const t1 = performance.now();
    for (let i = 0; performance.now() - t1 < LOOKUP_MS; i++) {
      // Half granted, half unknown addresses.
      for (let j = 0; j < 100; j++, lookups++) daemon.store.isGranted(clientIp((i * 100 + j) % (GRANTS * 2), false), Date.now());
    }
    const storeLookupsPerSec = Math.round(lookups / ((performance.now() - t1) / 1000));
    const has = (k: string) => (config as unknown as Record<string, unknown>)[k] != null;
    const live = async (kind: 'policy' | 'socketmap') =>
      has(kind) ? (await runChild<{ perSec: number }>('lookups', [kind, extra[kind]], 60_000)).perSec : 'not built yet' as const;
    const policyLookupsPerSec = await live('policy');
    const socketmapLookupsPerSec = await live('socketmap');
    const rssAfterMb = round(process.memoryUsage().rss / 1024 / 1024, 1);
    await daemon.stop();
    return { grants, catchupMs: round(catchupMs, 0), peakRssMb: peakRssMb(), rssAfterMb, storeLookupsPerSec, policyLookupsPerSec, socketmapLookupsPerSec };
  } finally {
    tmp.cleanup();
  }
}
