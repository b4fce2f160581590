// Publish time: the MapPublisher rebuilding a map of 1k, 10k and 100k active grants (query,
// text, postmap under a new name, renames), against `postmap` alone on the same text (run from
// a shell, as the daemon runs it).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/grants/sqlite-store.js';
import { MapPublisher } from '../src/publish/map-publisher.js';
import { clientIp } from './generate.js';
import { benchLogger, median, round, tempDir } from './util.js';

export interface PublishCase {
  grants: number;
  publishMs: number;
  postmapMs: number;
  ratio: number;
}

export type PublishReport = PublishCase[];

const SIZES = [1000, 10_000, 100_000];
const REPEAT = 5;

async function one(dir: string, n: number): Promise<PublishCase> {
  const store = new SqliteStore(join(dir, `grants-${n}.sqlite`));
  const now = Date.now();
  store.transaction(() => {
    for (let i = 0; i < n; i++) store.grantManual(clientIp(i, i % 3 === 0), now + 3_600_000, now, 'bench');
  });
  const path = join(dir, `map-${n}`);
  const pub = new MapPublisher({
    // As the daemon sets it up: map text from SQLite, postmap through the resident shell.
    map: { type: 'hash', path },
    text: (out) => store.mapText(Date.now(), 'OK', out),
    residentPostmap: true,
    postmapCommand: 'postmap',
    postconfCommand: 'postconf',
    logger: benchLogger(),
  });
  await pub.start();
  const times: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    // One more grant each time, so the content differs and the build is not skipped.
    store.grantManual(clientIp(n + r, false), now + 3_600_000, now, 'bench');
    const t0 = performance.now();
    pub.changed();
    await pub.settled();
    times.push(performance.now() - t0);
  }
  const text = store
    .activeIps(Date.now())
    .map((ip) => `${ip}\tOK\n`)
    .join('');
  const alone = join(dir, `alone-${n}`);
  writeFileSync(alone, text);
  const pm: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    rmSync(`${alone}.db`, { force: true });
    const t0 = performance.now();
    execFileSync('sh', ['-c', 'postmap "$1"', 'sh', `hash:${alone}`]);
    pm.push(performance.now() - t0);
  }
  await pub.stop();
  store.close();
  const publishMs = median(times);
  const postmapMs = median(pm);
  return { grants: n, publishMs: round(publishMs, 1), postmapMs: round(postmapMs, 1), ratio: round(publishMs / postmapMs, 2) };
}

export async function publishChild(): Promise<PublishReport> {
  const tmp = tempDir('publish');
  try {
    const out: PublishCase[] = [];
    for (const n of SIZES) out.push(await one(tmp.dir, n));
    return out;
  } finally {
    tmp.cleanup();
  }
}
