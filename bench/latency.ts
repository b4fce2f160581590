// Login → grant latency: one login line appended to a followed log, timed until `postmap -q` on
// the published map answers OK (and the policy service, when popgate has one), on a quiet log
// and under steady noise; then a login storm, to count map builds (coalesced, never queued). The
// policy service is timed on a daemon of its own set up for live answers (`map = none`).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Daemon } from '../src/daemon/daemon.js';
import type { MapPublisher } from '../src/publish/map-publisher.js';
import { LogGenerator, clientIp, rng } from './generate.js';
import { startNoise } from './noise-writer.js';
import { PolicyProbe, type RttReport } from './policy-probe.js';
import { freePort, MapWatch, policyOpen, PostmapAsker } from './probes.js';
import { benchConfig } from './setup.js';
import { benchLogger, percentile, round, sleep, tempDir } from './util.js';

export interface LatencyCase {
  trials: number;
  p50: number;
  p99: number;
  max: number;
  missed: number;
}

export interface LatencyReport {
  trials: number;
  noiseLinesPerSec: number;
  noiseClients: number;
  /** Until `postmap -q` answers OK (its own run, ~6 ms, included). */
  map: { quiet: LatencyCase; noisy: LatencyCase };
  /** Until the built map is renamed into place: what smtpd reads at its next lookup. */
  renamed: { quiet: LatencyCase; noisy: LatencyCase };
  policy: { quiet: LatencyCase; noisy: LatencyCase } | 'not built yet';
  /** From the commit that stored the grant to the OK reaching a client in another process. */
  policyFromCommit: { quiet: LatencyCase; noisy: LatencyCase };
  /** Each lookup of a granted address, back to back over one connection, from another process. */
  policyLookup: { quiet: RttReport; noisy: RttReport };
  socketmapFromCommit: { quiet: LatencyCase; noisy: LatencyCase };
  socketmapLookup: { quiet: RttReport; noisy: RttReport };
  storm: { logins: number; seconds: number; writeSeconds: number; builds: number; maxBuildsPossible: number; lastLoginToMapMs: number; peakRssMb: number };
}

const TRIALS = 60;
const WARMUP = 5;
/** Policy trials from the commit are cheap (no postmap): enough of them for a p99 that is not the maximum. */
const COMMIT_TRIALS = 300;
const NOISE_PER_SEC = 2000;
/** The login storm: new addresses this fast, this long. */
const STORM_PER_SEC = 10_000;
const STORM_SECONDS = 10;
const GIVE_UP_MS = 5000;
const NOISE_CLIENTS = 300;

function summary(ms: number[]): LatencyCase {
  const ok = ms.filter(Number.isFinite);
  return { trials: ms.length, p50: round(percentile(ok, 50), 2), p99: round(percentile(ok, 99), 2), max: round(Math.max(...ok), 2), missed: ms.length - ok.length };
}

interface Rig {
  daemon: Daemon;
  gen: LogGenerator;
  log: string;
  append: (text: string) => void;
  /** The map and its probes; null in the policy-only rig (`map = none`). */
  watch: MapWatch | null;
  postmap: PostmapAsker | null;
  /** Per map trial: when the rename that brought the address in happened. */
  renames: number[];
  policy: ((ip: string) => Promise<boolean>) | null;
  probe: PolicyProbe;
  /** The same for the socketmap server (policy-only rig). */
  smProbe: PolicyProbe | null;
  /** The address a trial waits for, and when (hrtime ns) the commit that granted it returned. */
  commit: { ip: string | null; at: bigint | null };
  stop: () => Promise<void>;
}

/** Notes when the transaction that grants `commit.ip` has committed (wraps the store's transaction). */
function watchCommits(daemon: Daemon, commit: Rig['commit']): void {
  const store = daemon.store;
  const inner = store.transaction.bind(store);
  store.transaction = <T>(fn: () => T): T => {
    const result = inner(fn);
    const at = process.hrtime.bigint();
    if (commit.ip !== null && commit.at === null && store.isGranted(commit.ip, Date.now())) commit.at = at;
    return result;
  };
}

/**
 * A daemon following its own log. `withMap`: it publishes a hash map (map trials, the storm);
 * otherwise it is set up as README says for live answers, `map = none` and the policy service.
 */
async function rig(dir: string, withMap: boolean): Promise<Rig> {
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'mail.log');
  const fd = openSync(log, 'a');
  // The noise's clients log in again and again (renewals, as on a server whose users are known);
  // the storm below is the case of new addresses arriving all the time.
  const gen = new LogGenerator({ seed: 7, clients: NOISE_CLIENTS, format: 'rfc3339' });
  for (let i = 0; i < 100; i++) writeSync(fd, gen.line(Date.now()) + '\n');
  const policyAddress = `inet:127.0.0.1:${await freePort()}`;
  const socketmapAddress = `inet:127.0.0.1:${await freePort()}`;
  const { config, mapPath, policy } = benchConfig(dir, [log], withMap ? { policy: policyAddress } : { policy: policyAddress, socketmap: socketmapAddress, map: 'none' });
  const daemon = await Daemon.start(config, benchLogger());
  const commit: Rig['commit'] = { ip: null, at: null };
  watchCommits(daemon, commit);
  const probe = await PolicyProbe.start(policy!);
  const smProbe = withMap ? null : await PolicyProbe.start(socketmapAddress, 'socketmap');
  const watch = withMap ? new MapWatch(mapPath) : null;
  const postmap = withMap ? new PostmapAsker(mapPath) : null;
  return {
    daemon,
    gen,
    watch,
    postmap,
    renames: [],
    log,
    append: (text) => writeSync(fd, text),
    policy: policy ? await policyOpen(policy) : null,
    probe,
    smProbe,
    commit,
    stop: async () => {
      probe.stop();
      smProbe?.stop();
      watch?.close();
      postmap?.close();
      await daemon.stop();
      closeSync(fd);
    },
  };
}

async function mapTrial(r: Rig, n: number): Promise<number> {
  const ip = clientIp(3_000_000 + n, n % 4 === 0);
  const line = r.gen.loginLine(Date.now(), 3_000_000 + n, n % 4 === 0) + '\n';
  const t0 = performance.now();
  r.append(line);
  for (;;) {
    // The map cannot hold the address before a rename: wait for one, then ask as Postfix would.
    await r.watch!.next(50);
    const renamed = performance.now() - t0;
    if ((await r.postmap!.ask(ip)) === 'OK') {
      r.renames.push(renamed);
      return performance.now() - t0;
    }
    if (performance.now() - t0 > GIVE_UP_MS) {
      r.renames.push(Infinity);
      return Infinity;
    }
  }
}

async function policyTrial(r: Rig, n: number): Promise<number> {
  const ip = clientIp(3_500_000 + n, n % 4 === 0);
  const line = r.gen.loginLine(Date.now(), 3_500_000 + n, n % 4 === 0) + '\n';
  const t0 = performance.now();
  r.append(line);
  while (!(await r.policy!(ip))) {
    if (performance.now() - t0 > GIVE_UP_MS) return Infinity;
    await new Promise((res) => setImmediate(res));
  }
  return performance.now() - t0;
}

/** A login's commit → OK from the policy service (`probe`) or the socketmap (`smProbe`); addresses from `base` on. */
function commitTrial(which: 'probe' | 'smProbe', base: number): (r: Rig, n: number) => Promise<number> {
  return (r, n) => liveCommitTrial(r[which]!, r, base + n, n % 4 === 0);
}

async function liveCommitTrial(probe: PolicyProbe, r: Rig, i: number, v6: boolean): Promise<number> {
  const ip = clientIp(i, v6);
  const line = r.gen.loginLine(Date.now(), i, v6) + '\n';
  const { ok } = await probe.watch(ip);
  Object.assign(r.commit, { ip, at: null });
  r.append(line);
  const okAt = await Promise.race([ok, sleep(GIVE_UP_MS).then(() => null)]);
  const at = r.commit.at;
  r.commit.ip = null;
  return okAt === null || at === null ? Infinity : Number(okAt - at) / 1e6;
}

async function trials(r: Rig, trial: (r: Rig, n: number) => Promise<number>, base: number, count = TRIALS): Promise<LatencyCase> {
  const gap = rng(base);
  const out: number[] = [];
  r.renames = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const ms = await trial(r, base + i);
    if (i >= WARMUP) out.push(ms);
    await sleep(20 + gap() * 40);
  }
  r.renames = r.renames.slice(WARMUP);
  return summary(out);
}

/** Logins from many addresses as fast as a busy server writes them: builds must coalesce. */
async function storm(r: Rig): Promise<LatencyReport['storm']> {
  const pub = r.daemon.publishers.find((p): p is MapPublisher => 'builds' in p)!;
  await r.daemon.settled();
  const before = pub.builds;
  // New addresses at STORM_PER_SEC for STORM_SECONDS, written in 10 ms steps by the wall clock.
  const logins = STORM_PER_SEC * STORM_SECONDS;
  let peakRss = process.memoryUsage().rss;
  const t0 = performance.now();
  let written = 0;
  while (written < logins) {
    const due = Math.min(logins, Math.floor(((performance.now() - t0) / 1000) * STORM_PER_SEC));
    let text = '';
    for (; written < due; written++) text += r.gen.loginLine(Date.now(), 3_800_000 + written, written % 3 === 0) + '\n';
    if (text) r.append(text);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await sleep(10);
  }
  const tLast = performance.now();
  const writeSeconds = (tLast - t0) / 1000;
  const lastIp = clientIp(3_800_000 + logins - 1, (logins - 1) % 3 === 0);
  while ((await r.postmap!.ask(lastIp)) !== 'OK' && performance.now() - tLast < 30_000) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await r.watch!.next(50);
  }
  const lastLoginToMapMs = performance.now() - tLast;
  await r.daemon.settled();
  const seconds = (performance.now() - t0) / 1000;
  // With one build at a time, each at least a postmap run (~5 ms), more is impossible unless queued.
  return {
    logins,
    seconds: round(seconds, 2),
    writeSeconds: round(writeSeconds, 2),
    builds: pub.builds - before,
    maxBuildsPossible: Math.ceil((seconds * 1000) / 5) + 1,
    lastLoginToMapMs: round(lastLoginToMapMs, 1),
    peakRssMb: round(peakRss / 1048576, 1),
  };
}

/** The noise's clients granted first, as on a running server, then noise from its own process. */
async function startNoisy(r: Rig): Promise<() => Promise<void>> {
  let known = '';
  for (let i = 0; i < NOISE_CLIENTS; i++) known += r.gen.clientLogin(Date.now(), i) + '\n';
  r.append(known);
  await sleep(200);
  await r.daemon.settled();
  const stop = startNoise(r.log, NOISE_PER_SEC, NOISE_CLIENTS);
  await sleep(500);
  return stop;
}

export async function latencyChild(): Promise<LatencyReport> {
  const tmp = tempDir('latency');
  try {
    // Map mode: login → map renamed / postmap -q OK, quiet then noisy, then the storm.
    const r = await rig(join(tmp.dir, 'map'), true);
    const quiet = await trials(r, mapTrial, 0);
    const renamedQuiet = summary(r.renames);
    let stopNoise = await startNoisy(r);
    const noisy = await trials(r, mapTrial, 1000);
    const renamedNoisy = summary(r.renames);
    await stopNoise();
    const s = await storm(r);
    await r.stop();
    // Live answers, as README sets them up (no map): a daemon of its own, after the other stopped.
    const p = await rig(join(tmp.dir, 'policy'), false);
    const policyQuiet = await trials(p, policyTrial, 0);
    const fromCommitQuiet = await trials(p, commitTrial('probe', 3_600_000), 0, COMMIT_TRIALS);
    const lookupQuiet = await p.probe.rtt(clientIp(3_600_000, true), 1000);
    const smFromCommitQuiet = await trials(p, commitTrial('smProbe', 3_700_000), 0, COMMIT_TRIALS);
    const smLookupQuiet = await p.smProbe!.rtt(clientIp(3_700_000, true), 1000);
    stopNoise = await startNoisy(p);
    const policyNoisy = await trials(p, policyTrial, 1000);
    const fromCommitNoisy = await trials(p, commitTrial('probe', 3_600_000), 1000, COMMIT_TRIALS);
    const lookupNoisy = await p.probe.rtt(clientIp(3_600_000, true), 1000);
    const smFromCommitNoisy = await trials(p, commitTrial('smProbe', 3_700_000), 1000, COMMIT_TRIALS);
    const smLookupNoisy = await p.smProbe!.rtt(clientIp(3_700_000, true), 1000);
    await stopNoise();
    await p.stop();
    return {
      trials: TRIALS,
      noiseLinesPerSec: NOISE_PER_SEC,
      noiseClients: NOISE_CLIENTS,
      map: { quiet, noisy },
      renamed: { quiet: renamedQuiet, noisy: renamedNoisy },
      policy: { quiet: policyQuiet, noisy: policyNoisy },
      policyFromCommit: { quiet: fromCommitQuiet, noisy: fromCommitNoisy },
      policyLookup: { quiet: lookupQuiet, noisy: lookupNoisy },
      socketmapFromCommit: { quiet: smFromCommitQuiet, noisy: smFromCommitNoisy },
      socketmapLookup: { quiet: smLookupQuiet, noisy: smLookupNoisy },
      storm: s,
    };
  } finally {
    tmp.cleanup();
  }
}
