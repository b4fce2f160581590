// The one generic parser test: every samples file, every line, the expected event or none.
// Fails when a rule is never hit by its own samples, and when a line is slow (ReDoS).
// A login the engine holds for a possible veto counts for its own line once a later line (or the
// end of its section) confirms it; a vetoed one completes nothing.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { PARSERS } from '../../parsers/index.js';
import type { AuthEvent, Found } from '../../src/core/types.js';
import { Engine } from '../../src/parse/engine.js';
import { logLine } from '../helpers/lines.js';
import { allSamplesFiles, type Sample, type SamplesFile } from '../helpers/samples.js';

const SLOW_MS = 5;
/** The samples' journald entries were written for a host where the servers' users have these uids. */
const SAMPLE_UIDS: Record<string, string> = { root: '0', cyrus: '107' };
const uidOf = (user: string) => SAMPLE_UIDS[user] ?? null;
const engineFor = () => new Engine(PARSERS, undefined, uidOf);

function compare(s: Sample, got: AuthEvent | undefined, parser: string): string | null {
  if (s.expect === null) return got ? `line ${s.lineNo}: expected none, got ${got.event} ${got.ip} (${got.server}/${got.rule})` : null;
  if (!got) return `line ${s.lineNo}: expected ${s.expect.event} ${s.expect.ip}, got nothing`;
  const want = s.expect;
  const diffs: string[] = [];
  if (got.event !== want.event) diffs.push(`event ${got.event}≠${want.event}`);
  if (got.ip !== want.ip) diffs.push(`ip ${got.ip}≠${want.ip}`);
  if (got.server !== parser) diffs.push(`server ${got.server}≠${parser}`);
  if (want.user !== undefined && got.user !== want.user) diffs.push(`user ${JSON.stringify(got.user)}≠${JSON.stringify(want.user)}`);
  if (want.protocol !== undefined && got.protocol !== want.protocol) diffs.push(`protocol ${got.protocol}≠${want.protocol}`);
  if (want.time !== undefined && (got.time === null || new Date(got.time).toISOString() !== new Date(want.time).toISOString())) {
    diffs.push(`time ${got.time === null ? null : new Date(got.time).toISOString()}≠${want.time}`);
  }
  return diffs.length ? `line ${s.lineNo}: ${diffs.join(', ')}` : null;
}

/**
 * Runs a samples file through one engine with the daemon's own loop (Engine.readAll, one call per
 * section as if each were a log file); returns the event each line completed, and failures.
 */
function run(file: SamplesFile, hits: Set<string>, failures: string[]): Map<number, AuthEvent> {
  const sections = new Map<number, Sample[]>();
  for (const s of file.samples) sections.set(s.section, [...(sections.get(s.section) ?? []), s]);
  const linesOf = (samples: Sample[]) => samples.map((s) => logLine(s.text, s.lineNo, file.path));
  // Warm up first: V8 compiles a regex to native code only once it is hot, and that one-off cost
  // is not what the slow-line check is after.
  for (let i = 0; i < 3; i++) {
    const warm = engineFor();
    for (const part of sections.values()) warm.readAll(linesOf(part), warm.newSource(), file.now);
  }
  // All parsers at once: a line meant for one server must not be taken by another.
  const engine = engineFor();
  const got = new Map<number, AuthEvent>();
  const why = new Map<number, string>();
  const settle = (found: readonly Found[]) => {
    for (const f of found) {
      if (f.line.origin !== file.path) failures.push(`an event came out tagged with ${f.line.origin}, not a line of this file`);
      got.set(f.line.lineNo, f.event);
    }
  };
  for (const part of sections.values()) {
    let t0 = performance.now();
    const found = engine.readAll(linesOf(part), engine.newSource(), file.now, (line, v) => {
      const took = performance.now() - t0;
      if (took > SLOW_MS) {
        // Measure again on a fresh engine to rule out a GC pause; a second slow run is a real failure.
        const again = engineFor();
        const t1 = performance.now();
        again.read(line, again.newSource(), file.now);
        const took2 = performance.now() - t1;
        if (took2 > SLOW_MS) failures.push(`line ${line.lineNo}: took ${took2.toFixed(1)} ms (catastrophic backtracking?)`);
      }
      const o = v.outcome;
      if (o.kind !== 'none') hits.add(`${o.match.spec.name}/${o.match.rule.id}`);
      if (o.kind === 'matched' || o.kind === 'none') why.set(line.lineNo, o.why);
      t0 = performance.now();
    });
    settle(found);
    settle(engine.release(Infinity));
  }
  for (const s of file.samples) {
    const f = compare(s, got.get(s.lineNo), file.parser);
    if (f) failures.push(why.has(s.lineNo) && !got.has(s.lineNo) ? `${f} (${why.get(s.lineNo)})` : f);
  }
  return got;
}

describe('parser samples', () => {
  const files = allSamplesFiles();

  it('every parser has a samples file', () => {
    const have = new Set(files.map((f) => f.parser));
    for (const p of PARSERS) assert.ok(have.has(p.name), `parsers/${p.name}.samples is missing`);
  });

  // A parser may have several samples files (NAME.samples, NAME-more.samples): its rules must be
  // hit by their lines taken together.
  const hitsByParser = new Map<string, Set<string>>();
  for (const file of files) {
    it(`${file.path.replace(/.*\/parsers\//, 'parsers/')}`, () => {
      const hits = new Set<string>();
      const failures: string[] = [];
      run(file, hits, failures);
      const own = hitsByParser.get(file.parser) ?? new Set<string>();
      for (const h of hits) if (h.startsWith(`${file.parser}/`)) own.add(h);
      hitsByParser.set(file.parser, own);
      assert.deepEqual(failures, [], `${file.path}:\n  ${failures.join('\n  ')}`);
      assert.ok(file.samples.length > 0, 'a samples file with no lines proves nothing');
    });
  }

  it('every rule of every parser is hit by its samples', () => {
    const missing: string[] = [];
    for (const spec of PARSERS) {
      const hits = hitsByParser.get(spec.name) ?? new Set<string>();
      for (const r of spec.rules) if (!hits.has(`${spec.name}/${r.id}`)) missing.push(`${spec.name}/${r.id}`);
    }
    assert.deepEqual(missing, [], `rules never hit by their samples: ${missing.join(', ')}`);
  });
});
