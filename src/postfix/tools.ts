// Talking to Postfix's own tools: postconf (settings, map types) and postmap (building maps).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, UnavailableError } from '../core/errors.js';
import { postmapFailed, toolMissing } from './hints.js';
import { parseNetwork, type Network } from '../net/ip.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Map types `postconf -m` offers. */
export async function supportedMapTypes(postconf: string): Promise<Set<string>> {
  try {
    const { stdout } = await run(postconf, ['-m'], 10_000);
    return new Set(stdout.split(/\s+/).filter(Boolean));
  } catch (err) {
    if (missing(err)) throw toolMissing(postconf, 'postconf_command', err);
    throw new UnavailableError(postconf, `postconf -m failed (${describe(err)})`, 'run postconf -m by hand and fix what it says');
  }
}

export async function postmap(postmapCmd: string, type: string, path: string): Promise<void> {
  try {
    await run(postmapCmd, [`${type}:${path}`]);
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
    if (missing(err)) throw toolMissing(postmapCmd, 'postmap_command', err);
    throw postmapFailed(`${type}:${path}`, stderr || describe(err), err);
  }
}

export interface MynetworksResult {
  networks: Network[];
  /** Entries popgate could not read (tables, host names); said once at start. */
  skipped: string[];
}

/** Postfix's mynetworks, expanded (`postconf -xh`), with /file entries and cidr: tables read. */
export async function readMynetworks(postconf: string): Promise<MynetworksResult | null> {
  let value: string;
  try {
    value = (await run(postconf, ['-xh', 'mynetworks'], 10_000)).stdout;
  } catch (err) {
    if (missing(err)) return null;
    throw new UnavailableError(postconf, `postconf -xh mynetworks failed (${describe(err)})`, 'run it by hand and fix what it says, or set use_mynetworks = no');
  }
  const out: MynetworksResult = { networks: [], skipped: [] };
  const add = (token: string) => {
    const n = parseNetwork(token);
    if (n) out.networks.push(n);
    else out.skipped.push(token);
  };
  for (const token of value.split(/[\s,]+/).filter(Boolean)) {
    const table = /^(cidr):(\/.+)$/.exec(token);
    const file = token.startsWith('/') ? token : table ? table[2]! : null;
    if (!file) {
      add(token);
      continue;
    }
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const t = line.replace(/#.*/, '').trim();
        if (t) add(table ? t.split(/\s+/)[0]! : t);
      }
    } catch {
      out.skipped.push(token);
    }
  }
  return out;
}
