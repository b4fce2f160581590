// A real daemon configuration for the benchmarks: own temp directory, database and map (never
// the e2e rig's map), all parsers, loopback excluded, Postfix's mynetworks not consulted, no DNSBL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { SCHEMA, type Config } from '../src/config/schema.js';

export interface BenchSetup {
  config: Config;
  mapPath: string;
  /** `host:port` of the policy service when this popgate has one, else null. */
  policy: string | null;
}

export function benchConfig(dir: string, logs: string[], extra: Record<string, string> = {}): BenchSetup {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'popgate.cf');
  writeFileSync(file, '# popgate benchmark\n');
  const mapPath = join(dir, 'popgate');
  const overrides: Record<string, string> = {
    log: logs.join(' '),
    db: join(dir, 'popgate.sqlite'),
    map: `hash:${mapPath}`,
    grace: '30m',
    exclude: '127.0.0.0/8, ::1/128',
    use_mynetworks: 'no',
    log_level: 'info',
    // No emergency brake: a catch-up of thousands of new grants would trip it (that is its job), and
    // a limit set out of reach keeps a window of every grant (see README, Performance).
    brake_rate: 'none',
    brake_burst: 'none',
    ...extra,
  };
  const known = new Set(SCHEMA.map((k) => k.key as string));
  for (const k of Object.keys(overrides)) if (!known.has(k)) delete overrides[k];
  const config = loadConfig({ file, overrides: overrides as Partial<Record<keyof Config, string>> });
  return { config, mapPath, policy: known.has('policy') ? (overrides.policy ?? null) : null };
}
