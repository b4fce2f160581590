// doctor with store = postgresql://…: the shared store answers, its schema is this popgate's
// version, the roles that read it may read every table readers read and write none (what
// popgate store migrate --reader ROLE grants), and its emergency brake.
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { describe, PopgateError } from '../core/errors.js';
import { brakeOf, readerRights } from '../multihost/pg-admin.js';
import { connectPg, drop, shown } from '../multihost/pg-connect.js';
import { PG_SCHEMA_VERSION, pgSchemaVersion, READER_TABLES } from '../multihost/pg-schema.js';
import { error, type Finding, ok, warning } from './finding.js';

const TIMEOUTS = { connectMs: 3000, queryMs: 3000 };

function fromError(where: string, err: unknown): Finding {
  if (!(err instanceof PopgateError)) return error(where, describe(err));
  return error(where, err.message.slice(err.where.length + 2).replace(/; hint: .*$/, ''), err.hint);
}

/** Login roles other than the owner and superusers that may read the grants, and this connection's role unless it owns them. */
async function readerRoles(c: pg.Client): Promise<string[]> {
  const r = await c.query<{ role: string }>(
    `SELECT rolname AS role FROM pg_roles WHERE rolcanlogin AND NOT rolsuper
       AND rolname <> (SELECT tableowner FROM pg_tables WHERE tablename = 'popgate_grants' AND schemaname = ANY (current_schemas(false)) LIMIT 1)
       AND (rolname = current_user OR has_table_privilege(rolname, 'popgate_grants', 'SELECT')) ORDER BY 1`,
  );
  return r.rows.map((x) => x.role);
}

async function rights(c: pg.Client, where: string): Promise<Finding[]> {
  const roles = await readerRoles(c);
  if (!roles.length) return [warning(where, 'no role but the owner may read the grants (Postfix proxy:pgsql: needs a SELECT-only role)', 'popgate store migrate --reader popgate_reader')];
  const out: Finding[] = [];
  for (const role of roles) {
    const r = await readerRights(c, role, READER_TABLES);
    if (r.missing.length) out.push(error(`${where} role ${role}`, `cannot read ${r.missing.join(', ')}`, `popgate store migrate --reader ${role}`));
    else if (r.writable.length)
      out.push(warning(`${where} role ${role}`, `may also write ${r.writable.join(', ')}; a reader needs SELECT only`, `REVOKE INSERT, UPDATE, DELETE ON ${r.writable.join(', ')} FROM ${role}`));
    else out.push(ok(`${where} role ${role}`, `reads ${READER_TABLES.join(', ')}, writes nothing`));
  }
  return out;
}

export async function checkSharedStore(config: Config): Promise<Finding[]> {
  if (!config.store) return [];
  const where = `store ${shown(config.store)}`;
  let c: pg.Client;
  try {
    c = await connectPg(config.store, TIMEOUTS, 'doctor');
  } catch (err) {
    return [fromError(where, err)];
  }
  const out: Finding[] = [];
  try {
    const v = await pgSchemaVersion(c);
    if (v !== PG_SCHEMA_VERSION) {
      const hint = v < PG_SCHEMA_VERSION ? `popgate store migrate --store ${shown(config.store)}` : 'upgrade popgate on this host';
      return [error(where, `schema version ${v}, this popgate needs ${PG_SCHEMA_VERSION}`, hint)];
    }
    out.push(ok(where, `connected, schema version ${v}`), ...(await rights(c, where)));
    const brake = await brakeOf(c);
    if (brake) out.push(error(`${where} emergency brake`, `on since ${brake.since.toISOString()} by ${brake.by} (${brake.reason}): no host grants`, 'popgate store release'));
    return out;
  } catch (err) {
    // What was found stays (a reader lacking a right fails the next query too).
    return [...out, fromError(where, err)];
  } finally {
    drop(c);
  }
}
