// `popgate store …`: the shared PostgreSQL store from any host — its schema (migrate, status) and
// the actions by hand (list, grant, revoke, flush, brake, release), which every MTA's reader
// applies within a second. `--store URL` or the config's store; the password never on the line.
import { Argument, type Command } from 'commander';
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { ConfigError, UnavailableError, UsageError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { loadExclusions } from '../grants/exclusions.js';
import { brakeOf, brakeShared, flushShared, grantShared, listShared, readerRights, releaseShared, revokeShared, writersOf } from '../multihost/pg-admin.js';
import { connectPg, DEFAULT_TIMEOUTS, drop, shown } from '../multihost/pg-connect.js';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion, READER_TABLES, requireSchema } from '../multihost/pg-schema.js';
import { grantSpan, ipArg } from './args.js';
import { act, configFrom, who, withCommon, type CommonOptions } from './common.js';

/** What the actions read besides the config (the plain verbs pass theirs: `popgate list --json`). */
export interface SharedOptions {
  reader?: string;
  json?: boolean;
  for?: string;
  reason?: string;
}

interface StoreOptions extends CommonOptions, SharedOptions {
  store?: string;
}

function storeConfig(opts: StoreOptions): Config {
  const config = configFrom(opts, opts.store ? { store: opts.store } : {});
  if (!config.store) throw new ConfigError('store', 'is sqlite: there is no shared store to act on', 'set store = postgresql://USER@HOST:PORT/DB in the config, or give --store URL');
  return config;
}

/** Opens the store, checks its schema (unless migrating), runs `fn`, closes. */
export async function withStore<T>(config: Config, fn: (c: pg.Client, url: string) => Promise<T>, check = true): Promise<T> {
  const url = config.store!;
  const c = await connectPg(url, DEFAULT_TIMEOUTS, 'cli');
  try {
    if (check) await requireSchema(c, url);
    return await fn(c, url);
  } finally {
    drop(c);
  }
}

const ACTIONS = ['migrate', 'status', 'list', 'grant', 'revoke', 'flush', 'brake', 'release'] as const;
export type Action = (typeof ACTIONS)[number];
const out = (s: string) => process.stdout.write(s);

async function status(c: pg.Client, url: string, reader?: string): Promise<number> {
  const v = await pgSchemaVersion(c);
  out(`${shown(url)}: schema version ${v} (this popgate: ${PG_SCHEMA_VERSION})${v !== PG_SCHEMA_VERSION ? '; run popgate store migrate' : ''}\n`);
  if (v !== PG_SCHEMA_VERSION) return 1;
  const brake = await brakeOf(c);
  if (brake) out(`EMERGENCY BRAKE ON since ${brake.since.toISOString()} by ${brake.by}: ${brake.reason}\n`);
  for (const w of await writersOf(c)) out(`writer ${w.writer}: sequence ${w.lastSeq}, last delivery ${w.secondsAgo}s ago\n`);
  if (!reader) return 0;
  const r = await readerRights(c, reader, READER_TABLES);
  if (r.missing.length) out(`error: ${reader} cannot read ${r.missing.join(', ')}; hint: popgate store migrate --reader ${reader}\n`);
  if (r.writable.length) out(`warning: ${reader} may also write ${r.writable.join(', ')}; a reader needs SELECT only\n`);
  return r.missing.length ? 1 : 0;
}

async function list(c: pg.Client, json: boolean): Promise<void> {
  const brake = await brakeOf(c);
  if (brake) (json ? process.stderr : process.stdout).write(`EMERGENCY BRAKE ON since ${brake.since.toISOString()} by ${brake.by}: ${brake.reason}\n`);
  const grants = await listShared(c);
  if (json)
    out(
      `${JSON.stringify(
        grants.map((g) => ({ ip: g.ip, expires: g.expiresAt.toISOString(), user: g.user, server: g.server, writers: g.writers })),
        null,
        2,
      )}\n`,
    );
  else if (grants.length === 0) out('no active grants\n');
  else for (const g of grants) out(`${g.ip}\t${g.expiresAt.toISOString()}\t${g.user ?? '-'}\t${g.writers.join(',')}\n`);
}

async function grant(ip: string, config: Config, opts: SharedOptions): Promise<void> {
  const span = grantSpan(opts.for, config.grace);
  const why = (await loadExclusions(config, createLogger('error'))).refuse(ip);
  if (why) throw new UsageError(ip, `not granted: ${why}`, 'popgate never grants such addresses; see exclude and mynetworks');
  if (!(await withStore(config, (c) => grantShared(c, ip, span, who())))) {
    throw new UnavailableError(ip, 'not granted: the emergency brake is on in the shared store', 'popgate store release ends it');
  }
  out(`granted ${ip} for ${Math.round(span / 1000)}s on every host\n`);
}

/** One action on the shared store of `config` (its `store` set): `popgate store …`, and the plain verbs when `store =` is set. */
export async function runShared(config: Config, action: Action, ip: string, opts: SharedOptions): Promise<number> {
  switch (action) {
    case 'migrate':
      return withStore(
        config,
        async (c, url) => {
          const m = await migratePg(c, url, opts.reader);
          out(
            `${shown(url)}: schema ${m.from === m.to ? `already at version ${m.to}` : `migrated ${m.from} → ${m.to}`}${opts.reader ? `; ${opts.reader} may read ${READER_TABLES.join(', ')}` : ''}\n`,
          );
          return 0;
        },
        false,
      );
    case 'status':
      return withStore(config, (c, url) => status(c, url, opts.reader), false);
    case 'list':
      await withStore(config, (c) => list(c, opts.json ?? false));
      return 0;
    case 'grant':
      await grant(ip, config, opts);
      return 0;
    case 'revoke': {
      const found = await withStore(config, (c) => revokeShared(c, ip, who()));
      out(found ? `revoked ${ip} on every host\n` : `${ip} had no grant (a login from before now will not grant it)\n`);
      return 0;
    }
    case 'flush':
      out(`flushed ${await withStore(config, (c) => flushShared(c, who()))} grant(s) on every host\n`);
      return 0;
    case 'brake': {
      const r = await withStore(config, (c) => brakeShared(c, who(), (opts.reason ?? 'applied by hand').replace(/\s+/g, ' ').slice(0, 200)));
      out(`${r.already ? 'emergency brake was already on' : 'emergency brake ON on every host'}: ${r.revoked} grant(s) revoked; nothing is granted until "popgate store release"\n`);
      return 0;
    }
    case 'release': {
      const was = await withStore(config, (c) => releaseShared(c, who()));
      out(was ? `emergency brake released (applied ${was.since.toISOString()} by ${was.by}); the next logins grant again\n` : 'the emergency brake was not on\n');
      return 0;
    }
  }
}

function run(action: Action, ipText: string | undefined, opts: StoreOptions): Promise<number> {
  const needsIp = action === 'grant' || action === 'revoke';
  if (needsIp !== (ipText !== undefined)) throw new UsageError(`store ${action}`, needsIp ? 'needs an IP address' : 'takes no address', 'see popgate store --help');
  return runShared(storeConfig(opts), action, needsIp ? ipArg(ipText!) : '', opts);
}

export function register(program: Command): void {
  withCommon(program.command('store').description('the shared PostgreSQL store of several hosts: its schema, and grants by hand that hold on every MTA'))
    .addArgument(new Argument('<action>', 'migrate, status, list, grant IP, revoke IP, flush, brake or release').choices(ACTIONS))
    .argument('[ip]', 'the address, for grant and revoke')
    .option('--store <url>', 'postgresql://USER@HOST:PORT/DB (overrides the config; password from ~/.pgpass, PGPASSFILE or PGPASSWORD)')
    .option('--reader <role>', 'migrate: grant this role SELECT on what readers need; status: check its rights')
    .option('--json', 'list: print a JSON array')
    .option('--for <duration>', 'grant: how long (default: the grace)')
    .option('--reason <text>', 'brake: why, for the log and list', 'applied by hand')
    .action((action: Action, ip: string | undefined, opts: StoreOptions) => act(() => run(action, ip, opts)));
}
