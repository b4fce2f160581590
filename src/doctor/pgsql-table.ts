// A Postfix pgsql: table of popgate's shared grants (reader mode 2, `popgate pgsql-map`), as
// Postfix uses it: the query on the database's clock, timeouts in each URI, proxymap in front,
// a bounded ipc_timeout on each smtpd that asks it, and a file that keeps its password private.
import { readFileSync, statSync } from 'node:fs';
import { describe } from '../core/errors.js';
import { IPC_TIMEOUT_S, pgsqlQuery } from '../multihost/pgsql-map.js';
import { error, ok, warning, type Finding } from './finding.js';
import { type PostfixView, RESTRICTION_LISTS } from './postfix-view.js';
import { restrictions } from './restrictions.js';
import { postfixSeconds } from './wiring.js';

function judgeFile(file: string, text: string, proxied: boolean): Finding[] {
  const out: Finding[] = [];
  const query = /^query\s*=\s*(.+)$/m.exec(text)?.[1]?.trim() ?? '';
  const value = /^SELECT '([^']*)' FROM popgate_grants/.exec(query)?.[1];
  if (!query.includes('expires_at > now()')) out.push(error(file, 'the query does not filter on expires_at > now(): expired grants would relay', 'regenerate it: popgate pgsql-map … > this file'));
  else if (value === undefined || query !== pgsqlQuery(value)) out.push(warning(file, 'the query is not the one this popgate writes', 'regenerate it: popgate pgsql-map … > this file'));
  const hosts = /^hosts\s*=\s*(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  if (hosts.length === 0) out.push(error(file, 'no hosts line', 'regenerate it: popgate pgsql-map … > this file'));
  else if (hosts.some((h) => !h.includes('connect_timeout=')))
    out.push(warning(file, 'a host has no connect_timeout: Postfix sets none, so an unreachable database holds each lookup', 'regenerate it with popgate pgsql-map'));
  if (!/^dbname\s*=/m.test(text)) out.push(error(file, 'no dbname line: Postfix needs it even with URI hosts', 'regenerate it with popgate pgsql-map'));
  if (!proxied) out.push(warning(file, 'used as pgsql: without proxy:, each smtpd opens its own connections', 'name it proxy:pgsql:FILE in main.cf'));
  try {
    if (statSync(file).mode & 0o004) out.push(warning(file, 'readable by every user, and it holds the reader role password', `chown root:postfix ${file} && chmod 0640 ${file}`));
  } catch {
    // read above: a stat that fails now is a race, not a finding
  }
  return out.length ? out : [ok(file, 'popgate pgsql table: query on the database clock, timeouts set, through proxymap')];
}

export function checkPgsqlTables(pf: PostfixView): Finding[] {
  const out: Finding[] = [];
  const files = new Set<string>();
  for (const s of pf.services) {
    for (const list of RESTRICTION_LISTS) {
      for (const r of restrictions(pf.value(s, list))) {
        const m = r.name === 'check_client_access' && r.arg ? /^(proxy:)?pgsql:(\/\S+)$/.exec(r.arg) : null;
        if (!m) continue;
        const file = m[2]!;
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          out.push(error(file, `the pgsql table in ${pf.source(s, list)} cannot be read (${describe(err)}): Postfix answers 451 for every relaying client`, 'popgate pgsql-map … > this file'));
          continue;
        }
        if (!text.includes('popgate_grants')) continue; // a table of someone else's
        if (!files.has(file)) out.push(...judgeFile(file, text, m[1] !== undefined));
        files.add(file);
        const ipc = postfixSeconds(pf.value(s, 'ipc_timeout'));
        if (ipc !== null && ipc > 60) {
          out.push(
            warning(
              `master.cf ${s.name}`,
              `ipc_timeout is ${ipc}s: a hung PostgreSQL holds each RCPT that long (Postfix's pgsql client has no query timeout)`,
              `add -o ipc_timeout=${IPC_TIMEOUT_S}s to this smtpd in master.cf`,
            ),
          );
        }
      }
    }
  }
  return out;
}
