// The password for the store URL, from where libpq looks: PGPASSWORD, then the password file
// (PGPASSFILE, else ~/.pgpass), never from the URL or the command line. node-postgres' own
// .pgpass reading is deprecated, so popgate reads the file itself, with libpq's rules.
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Target {
  host: string;
  port: string;
  database: string;
  user: string;
}

export function targetOf(url: string): Target {
  const u = new URL(url);
  const user = decodeURIComponent(u.username) || process.env.PGUSER || userInfo().username;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || process.env.PGHOST || 'localhost',
    port: u.port || process.env.PGPORT || '5432',
    database: decodeURIComponent(u.pathname.slice(1)) || process.env.PGDATABASE || user,
    user,
  };
}

/** Splits one line on unescaped colons; `\:` and `\\` stand for themselves. */
function fields(line: string): string[] {
  const out = [''];
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) out[out.length - 1] += line[++i];
    else if (c === ':') out.push('');
    else out[out.length - 1] += c;
  }
  return out;
}

/** The password for `t`, or undefined (then the server decides: trust, peer, certificate). */
export function passwordFor(t: Target, env = process.env): string | undefined {
  if (env.PGPASSWORD) return env.PGPASSWORD;
  const file = env.PGPASSFILE || join(homedir(), '.pgpass');
  let text: string;
  try {
    // libpq ignores a file others may read; so does popgate, rather than trust it.
    if ((statSync(file).mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const want = [t.host, t.port, t.database, t.user];
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const f = fields(line.replace(/\r$/, ''));
    if (f.length < 5) continue;
    if (want.every((w, i) => f[i] === '*' || f[i] === w)) return f.slice(4).join(':');
  }
  return undefined;
}
