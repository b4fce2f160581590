// Reads the annotated samples files beside the parsers (parsers/NAME.samples).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Expected {
  event: 'login' | 'logout';
  ip: string;
  user?: string | null;
  protocol?: 'pop3' | 'imap' | null;
  time?: string;
}

export interface Sample {
  lineNo: number;
  text: string;
  /** null: the line must complete no event. */
  expect: Expected | null;
  /** Index of the `# ---` section: each section is read as its own log file. */
  section: number;
}

export interface SamplesFile {
  parser: string;
  path: string;
  now: number;
  samples: Sample[];
}

export const PARSERS_DIR = new URL('../../../parsers/', import.meta.url).pathname;

export function readSamples(path: string, parser: string): SamplesFile {
  const lines = readFileSync(path, 'utf8').split('\n');
  let now = Date.now();
  let section = 0;
  let pending: Expected | null | undefined;
  const samples: Sample[] = [];
  lines.forEach((line, i) => {
    const where = `${path}:${i + 1}`;
    if (line.startsWith('#! now ')) {
      now = Date.parse(line.slice(7).trim());
      if (Number.isNaN(now)) throw new Error(`${where}: bad #! now`);
    } else if (line.startsWith('# ---')) {
      section++;
    } else if (line.startsWith('#>')) {
      if (pending !== undefined) throw new Error(`${where}: two annotations in a row`);
      const body = line.slice(2).trim();
      pending = body === 'none' ? null : (JSON.parse(body) as Expected);
    } else if (line === '' || line.startsWith('#')) {
      // comment
    } else {
      if (pending === undefined) throw new Error(`${where}: log line without a #> annotation`);
      samples.push({ lineNo: i + 1, text: line, expect: pending, section });
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`${path}: annotation at the end without a line`);
  return { parser, path, now, samples };
}

export function allSamplesFiles(): SamplesFile[] {
  return readdirSync(PARSERS_DIR)
    .filter((f) => f.endsWith('.samples'))
    .sort()
    .map((f) => readSamples(join(PARSERS_DIR, f), f.replace(/\.samples$/, '').replace(/-.*$/, '')));
}
