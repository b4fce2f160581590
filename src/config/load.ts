// Reads the main.cf-style config file (`key = value`, # comments, indented continuation lines),
// applies command-line overrides and validates every value against the schema.
import { readFileSync } from 'node:fs';
import { ConfigError, describe, UsageError } from '../core/errors.js';
import { SCHEMA, type Config, type KeyDoc } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/popgate/popgate.cf';

export interface ConfigInput {
  /** Path given with --config; when absent the default path is read if it exists. */
  file?: string;
  /** Values from command-line flags, by key; they win over the file. */
  overrides?: Partial<Record<keyof Config, string>>;
  warn?: (message: string) => void;
}

interface RawEntry {
  value: string;
  line: number;
}

export function parseConfigText(text: string, file: string): Map<string, RawEntry> {
  const out = new Map<string, RawEntry>();
  let last: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) return;
    if (/^\s/.test(line)) {
      if (last === null) throw new ConfigError(`${file}:${i + 1}`, 'continuation line without a setting above it', 'start settings in column 1');
      const entry = out.get(last)!;
      entry.value += ' ' + line.trim();
      return;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}`, `"${line.slice(0, 60)}" is not a "name = value" line`, 'write settings as name = value');
    last = m[1]!;
    out.set(last, { value: m[2]!.trim(), line: i + 1 });
  });
  return out;
}

export function readConfigFile(file: string, explicit: boolean): Map<string, RawEntry> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new ConfigError(file, `cannot read the config file (${describe(err)})`, 'check the path given with --config and its permissions', err);
  }
  return parseConfigText(text, file);
}

export function loadConfig(input: ConfigInput = {}): Config {
  const file = input.file ?? DEFAULT_CONFIG_PATH;
  const entries = readConfigFile(file, input.file !== undefined);
  const known = new Set(SCHEMA.map((k) => k.key as string));
  for (const [key, e] of entries) {
    if (!known.has(key)) input.warn?.(`${file}:${e.line}: unknown setting "${key}" ignored; hint: see popgate config -d for the settings`);
  }
  const config = {} as Record<string, unknown>;
  for (const doc of SCHEMA as readonly KeyDoc[]) {
    const flag = input.overrides?.[doc.key];
    const entry = entries.get(doc.key);
    const [raw, where] = flag !== undefined ? [flag, `--${doc.key.replace(/_/g, '-')}`] : entry ? [entry.value, `${file}:${entry.line}: ${doc.key}`] : [doc.default, `default ${doc.key}`];
    try {
      config[doc.key] = doc.parse(raw);
    } catch (why) {
      const what = typeof why === 'string' ? why : describe(why);
      if (flag !== undefined) throw new UsageError(where, what, `popgate config -d describes ${doc.key}`);
      throw new ConfigError(where, what, `popgate config -d describes ${doc.key}`);
    }
  }
  return config as unknown as Config;
}
