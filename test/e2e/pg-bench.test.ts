// Numbers for README "Several hosts": RCPT round trips through a real Postfix per reader mode
// (p50/p99), raw lookups per second of the reader's view and of the pgsql: query, and the time
// from a login line in host A's log to relay accepted on host B's MTA. Prints "# bench:" lines;
// asserts only that every answer was the right one. The measurements are in pg-bench-rig.ts,
// which `npm run bench` (bench/multihost.ts) runs too.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { suiteNeeding } from '../helpers/e2e.js';
import { loginToRelay, MODES, pct, rawLookups, type Rig, rcptPerMode, startRig } from './pg-bench-rig.js';
import { pgSkip } from './pg-helpers.js';

const skip = pgSkip();
let rig: Rig;

const report = (what: string, xs: number[]) => process.stderr.write(`# bench: ${what}: p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms (n=${xs.length})\n`);

before(async () => {
  if (!skip) rig = await startRig();
});

suiteNeeding('multi-host bench', skip, () => {
  it("login in A's log → relay accepted on B's MTA (policy service)", async () => {
    report('login on A → 250 on B (includes one SMTP session per 5 ms poll)', await loginToRelay(rig, 20));
    assert.ok(rig.writerA.output().includes('grant'));
  });

  it('RCPT round trip through Postfix, per reader mode', async () => {
    const per = await rcptPerMode(rig, 200);
    for (const mode of MODES) {
      assert.equal(per[mode].times.length, 200);
      report(`SMTP session to RCPT 250, ${mode} (${per[mode].perSec}/s)`, per[mode].times);
    }
  });

  it('raw lookups: the reader view in memory, and the pgsql: query on one connection', async () => {
    const r = await rawLookups(rig);
    assert.ok(r.found > 0);
    process.stderr.write(`# bench: reader view lookups (10k grants in memory): ${r.viewPerSec.toLocaleString('en')}/s\n`);
    report(`pgsql: query (10k grants, one connection, ${r.queryPerSec}/s)`, r.query);
  });
});
