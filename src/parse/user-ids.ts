// User names → uids for the writer check (writer.ts), read once from /etc/passwd when first
// needed. root is always 0. Users only a directory service knows (NSS: LDAP, sssd) are not found:
// their entries are then refused, never trusted.
import { readFileSync } from 'node:fs';
import type { UidOf } from './writer.js';

let table: Map<string, string> | null = null;

function load(): Map<string, string> {
  const map = new Map<string, string>([['root', '0']]);
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d{1,10}$/.test(f[2]!) && !map.has(f[0]!)) map.set(f[0]!, f[2]!);
    }
  } catch {
    // No passwd file: only root is known.
  }
  return map;
}

export const systemUid: UidOf = (user) => {
  if (user === 'root') return '0';
  table ??= load();
  return table.get(user) ?? null;
};
