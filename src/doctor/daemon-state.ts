// Is the daemon running? When it is not, Postfix still relays for whatever the published map holds
// (map mode), or answers 451 for everyone popgate would grant (policy service, socketmap).
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { lockHolder } from '../core/instance-lock.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import { downNotice, mapContents } from '../publish/published-map.js';
import { error, ok, warning, type Finding } from './finding.js';

export async function checkDaemon(config: Config): Promise<Finding[]> {
  const holder = await lockHolder(config.db);
  if (holder) return [ok('popgate daemon', `running${holder.pid ? ` (pid ${holder.pid}, since ${new Date(holder.since).toISOString()})` : ''}`)];
  const out: Finding[] = [warning('popgate daemon', 'not running: new logins grant nothing', 'start it: systemctl start popgate (or contrib/install.sh)')];
  if (config.map) {
    const store = existsSync(config.db) ? new SqliteStore(config.db, { readonly: true }) : null;
    try {
      const name = `${config.map.type}:${config.map.path}`;
      const notice = downNotice(name, mapContents(config.map, store));
      if (notice) out.push(error(name, notice, 'start popgate, or run popgate withdraw'));
    } finally {
      store?.close();
    }
  }
  return out;
}
