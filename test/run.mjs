// Runs the compiled tests, one file at a time, in three tiers named by what they need:
//   unit     in-process, nothing outside node (no services, no child processes)
//   process  spawns popgate or system tools (man, bash, npm, logrotate), still no services
//   e2e      the real Postfix and Dovecot that test/e2e/services/setup.sh starts
// `node test/run.mjs unit process` runs some tiers; other arguments go to node --test.
// A suite whose services are missing counts as one skipped test with its reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TIERS = ['unit', 'process', 'e2e'];

function find(dir) {
  if (!existsSync(dir)) return [];
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    // Only tests whose source still exists: a moved or deleted test leaves its old build in dist/.
    else if (name.endsWith('.test.js') && existsSync(p.replace(/^dist\//, '').replace(/\.js$/, '.ts'))) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const tiers = args.filter((a) => TIERS.includes(a));
const rest = args.filter((a) => !TIERS.includes(a));
const files = (tiers.length ? tiers : TIERS).flatMap((t) => find(join('dist/test', t)));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', ...rest, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
