// Value parsers for settings: each returns the value or throws a string saying what is wrong
// and how to write it (load.ts adds the file, line and key).
import ms from 'ms';
import { parseRate, type Rate } from '../grants/rate-guard.js';
import { canonicalIp, parseNetwork, type Network } from '../net/ip.js';
import { MAP_TYPES, type MapSpec } from '../postfix/map-spec.js';
import { isJournal, parseJournalSpec } from '../sources/journal-spec.js';

export type ValueParser<T> = (raw: string) => T;

export function list(raw: string): string[] {
  return raw.split(/[\s,]+/).filter(Boolean);
}

export function duration(raw: string): number {
  const v = /^\d+$/.test(raw.trim()) ? Number(raw) * 1000 : ms(raw.trim() as ms.StringValue);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw `"${raw}" is not a duration; write it like 30m, 90s, 2h or 1d`;
  }
  return v;
}

export function mapSpec(raw: string): MapSpec | null {
  if (raw.trim() === 'none') return null;
  const m = /^([a-z0-9]+):(\/\S+)$/.exec(raw.trim());
  if (!m) throw `"${raw}" is not TYPE:/absolute/path; write it like hash:/var/lib/popgate/popgate (or none)`;
  if (!(MAP_TYPES as readonly string[]).includes(m[1]!)) throw `popgate cannot build ${m[1]} maps; use one of ${MAP_TYPES.join(', ')}`;
  return { type: m[1]!, path: m[2]! };
}

export function networks(raw: string): Network[] {
  return list(raw).map((t) => {
    const n = parseNetwork(t);
    if (!n) throw `"${t}" is not an address or network; write it like 192.0.2.0/24 or 2001:db8::/32`;
    return n;
  });
}

export function yesNo(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(v)) return true;
  if (['no', 'false', 'off', '0'].includes(v)) return false;
  throw `"${raw}" is not yes or no`;
}

export function word<T extends string = string>(pattern: RegExp, what: string): ValueParser<T> {
  return (raw) => {
    const v = raw.trim();
    if (!pattern.test(v)) throw `"${raw}" is not ${what}`;
    return v as T;
  };
}

/**
 * The shared store: null for this host's SQLite alone, or a postgresql:// URL. A password in it
 * would show in ps, logs and config backups: it goes in ~/.pgpass, PGPASSFILE or PGPASSWORD.
 */
export function storeUrl(raw: string): string | null {
  const v = raw.trim();
  if (v === 'sqlite') return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw `"${raw}" is not sqlite or a postgresql://USER@HOST:PORT/DB URL`;
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') throw `"${raw}" is not sqlite or a postgresql://USER@HOST:PORT/DB URL`;
  if (u.password || /(^|&)password=/i.test(u.search.slice(1))) throw 'the store URL holds a password; put it in ~/.pgpass (mode 0600), the file PGPASSFILE names, or PGPASSWORD';
  if (!u.hostname || u.pathname.length < 2) throw `"${raw}" needs a host and a database: postgresql://USER@HOST:PORT/DB`;
  return v;
}

export function path(raw: string): string {
  const v = raw.trim();
  if (!v.startsWith('/') && v !== ':memory:') throw `"${raw}" is not an absolute path`;
  return v;
}

/** Log sources: absolute paths, - for standard input, or the journal (`journal:[PATH][+FIELD=VALUE…]`). */
export function logPaths(raw: string): string[] {
  const v = list(raw);
  for (const p of v) {
    if (isJournal(p)) parseJournalSpec(p);
    else if (p !== '-' && !p.startsWith('/')) throw `"${p}" is not an absolute path (or - for standard input, or journal:)`;
  }
  return v;
}

export function absolutePaths(raw: string): string[] {
  const v = list(raw);
  for (const p of v) if (!p.startsWith('/')) throw `"${p}" is not an absolute path`;
  return v;
}

export function rate(raw: string): Rate | null {
  return parseRate(raw, duration);
}

export function zones(raw: string): string[] {
  const v = list(raw).map((z) => z.toLowerCase().replace(/\.$/, ''));
  for (const z of v) if (!/^(?=.{1,200}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(z)) throw `"${z}" is not a DNS zone such as zen.spamhaus.org`;
  return v;
}

export function servers(raw: string): string[] {
  return list(raw).map((t) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)|([0-9a-fA-F:]+))(?::(\d{1,5}))?$/.exec(t);
    const ip = m ? canonicalIp(m[1] ?? m[2] ?? m[3]!) : null;
    if (!m || !ip || (m[3] && m[4])) throw `"${t}" is not a resolver address; write it like 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53`;
    return t;
  });
}
