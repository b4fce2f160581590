// `popgate store …`: the shared PostgreSQL store from any host — its schema (migrate, status) and
// the actions by hand (list, grant, revoke, flush, brake, release), which every MTA's reader
// applies within a second. `--store URL` or the config's store; the password never on the line.
import type { Command } from 'commander';
import type pg from 'pg';
import { duration } from '../config/schema.js';
import { ConfigError, UnavailableError, UsageError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { loadExclusions } from '../grants/exclusions.js';
import { brakeOf, brakeShared, flushShared, grantShared, listShared, readerRights, releaseShared, revokeShared, writersOf } from '../multihost/pg-admin.js';
import { connectPg, DEFAULT_TIMEOUTS, drop, shown } from '../multihost/pg-connect.js';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion, READER_TABLES, requireSchema } from '../multihost/pg-schema.js';
import { canonicalIp } from '../net/ip.js';
import { MAX_MANUAL_MS } from './grants.js';
import { act, configFrom, who, withCommon, type CommonOptions } from './common.js';

interface StoreOptions extends CommonOptions {
  store?: string;
}

function storeConfig(opts: StoreOptions) {
  const config = configFrom(opts, opts.store ? { store: opts.store } : {});
  if (!config.store) throw new ConfigError('store', 'is sqlite: there is no shared store to act on', 'set store = postgresql://USER@HOST:PORT/DB in the config, or give --store URL');
  return { config, url: config.store };
}

/** Opens the store, checks its schema (unless migrating), runs `fn`, closes. */
async function withStore<T>(opts: StoreOptions, fn: (c: pg.Client, url: string) => Promise<T>, check = true): Promise<T> {
  const { url } = storeConfig(opts);
  const c = await connectPg(url, DEFAULT_TIMEOUTS, 'cli');
  try {
    if (check) await requireSchema(c, url);
    return await fn(c, url);
  } finally {
    drop(c);
  }
}

function ipArg(text: string): string {
  const ip = canonicalIp(text);
  if (!ip) throw new UsageError(`"${text}"`, 'not an IP address', 'give a full IPv4 or IPv6 address, e.g. 192.0.2.10');
  return ip;
}

const cmd = (parent: Command, name: string, what: string) =>
  withCommon(parent.command(name).description(what)).option('--store <url>', 'postgresql://USER@HOST:PORT/DB (overrides the config; password from ~/.pgpass or PGPASSFILE)');

export function register(program: Command): void {
  const store = program.command('store').description('the shared PostgreSQL store of several hosts: schema, grants by hand');

  cmd(store, 'migrate', 'create or upgrade the shared schema')
    .option('--reader <role>', 'grant this role SELECT on what readers need')
    .action((opts: StoreOptions & { reader?: string }) =>
      act(() =>
        withStore(
          opts,
          async (c, url) => {
            const m = await migratePg(c, url, opts.reader);
            process.stdout.write(
              `${shown(url)}: schema ${m.from === m.to ? `already at version ${m.to}` : `migrated ${m.from} → ${m.to}`}${opts.reader ? `; ${opts.reader} may read ${READER_TABLES.join(', ')}` : ''}\n`,
            );
          },
          false,
        ),
      ),
    );

  cmd(store, 'status', "schema version, writers and their last delivery, a reader role's rights")
    .option('--reader <role>', 'check that this role can read (and only read)')
    .action((opts: StoreOptions & { reader?: string }) =>
      act(() =>
        withStore(
          opts,
          async (c, url) => {
            const v = await pgSchemaVersion(c);
            let bad = v !== PG_SCHEMA_VERSION;
            process.stdout.write(`${shown(url)}: schema version ${v} (this popgate: ${PG_SCHEMA_VERSION})${bad ? '; run popgate store migrate' : ''}\n`);
            if (bad) return 1;
            const brake = await brakeOf(c);
            if (brake) process.stdout.write(`EMERGENCY BRAKE ON since ${brake.since.toISOString()} by ${brake.by}: ${brake.reason}\n`);
            for (const w of await writersOf(c)) process.stdout.write(`writer ${w.writer}: sequence ${w.lastSeq}, last delivery ${w.secondsAgo}s ago\n`);
            if (opts.reader) {
              const r = await readerRights(c, opts.reader, READER_TABLES);
              if (r.missing.length) process.stdout.write(`error: ${opts.reader} cannot read ${r.missing.join(', ')}; hint: popgate store migrate --reader ${opts.reader}\n`);
              if (r.writable.length) process.stdout.write(`warning: ${opts.reader} may also write ${r.writable.join(', ')}; a reader needs SELECT only\n`);
              bad = r.missing.length > 0;
            }
            return bad ? 1 : 0;
          },
          false,
        ),
      ),
    );

  cmd(store, 'list', 'active grants in the shared store')
    .option('--json', 'print a JSON array')
    .action((opts: StoreOptions & { json?: boolean }) =>
      act(() =>
        withStore(opts, async (c) => {
          const brake = await brakeOf(c);
          if (brake) (opts.json ? process.stderr : process.stdout).write(`EMERGENCY BRAKE ON since ${brake.since.toISOString()} by ${brake.by}: ${brake.reason}\n`);
          const grants = await listShared(c);
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify(
                grants.map((g) => ({ ip: g.ip, expires: g.expiresAt.toISOString(), user: g.user, server: g.server, writers: g.writers })),
                null,
                2,
              )}\n`,
            );
          } else if (grants.length === 0) process.stdout.write('no active grants\n');
          else for (const g of grants) process.stdout.write(`${g.ip}\t${g.expiresAt.toISOString()}\t${g.user ?? '-'}\t${g.writers.join(',')}\n`);
        }),
      ),
    );

  cmd(store, 'grant', 'grant relay to an address by hand, on every MTA')
    .argument('<ip>')
    .option('--for <duration>', 'how long (default: the grace)')
    .action((ipText: string, opts: StoreOptions & { for?: string }) =>
      act(async () => {
        const ip = ipArg(ipText);
        const { config } = storeConfig(opts);
        let span = config.grace;
        if (opts.for !== undefined) {
          try {
            span = duration(opts.for);
          } catch (why) {
            throw new UsageError('--for', String(why));
          }
        }
        if (span > MAX_MANUAL_MS) throw new UsageError('--for', `longer than ${MAX_MANUAL_MS / 86_400_000} days`, 'put a permanent client in mynetworks');
        const why = (await loadExclusions(config, createLogger('error'))).refuse(ip);
        if (why) throw new UsageError(ip, `not granted: ${why}`, 'popgate never grants such addresses; see exclude and mynetworks');
        const done = await withStore(opts, (c) => grantShared(c, ip, span, who()));
        if (!done) throw new UnavailableError(ip, 'not granted: the emergency brake is on in the shared store', 'popgate store release ends it');
        process.stdout.write(`granted ${ip} for ${Math.round(span / 1000)}s on every host\n`);
      }),
    );

  cmd(store, 'revoke', 'end the grant of an address now, on every MTA')
    .argument('<ip>')
    .action((ipText: string, opts: StoreOptions) =>
      act(async () => {
        const ip = ipArg(ipText);
        const found = await withStore(opts, (c) => revokeShared(c, ip, who()));
        process.stdout.write(found ? `revoked ${ip} on every host\n` : `${ip} had no grant (a later login from before now will not grant it)\n`);
      }),
    );

  cmd(store, 'flush', 'end every grant now, on every MTA').action((opts: StoreOptions) =>
    act(async () => {
      process.stdout.write(`flushed ${await withStore(opts, (c) => flushShared(c, who()))} grant(s) on every host\n`);
    }),
  );

  cmd(store, 'brake', 'emergency brake on every host: revoke every grant, grant nothing until release')
    .option('--reason <text>', 'why', 'applied by hand')
    .action((opts: StoreOptions & { reason: string }) =>
      act(async () => {
        const r = await withStore(opts, (c) => brakeShared(c, who(), opts.reason.replace(/\s+/g, ' ').slice(0, 200)));
        process.stdout.write(`${r.already ? 'emergency brake was already on' : 'emergency brake ON on every host'}: ${r.revoked} grant(s) revoked; nothing is granted until "popgate store release"\n`);
      }),
    );

  cmd(store, 'release', 'release the shared emergency brake').action((opts: StoreOptions) =>
    act(async () => {
      const was = await withStore(opts, (c) => releaseShared(c));
      process.stdout.write(was ? `emergency brake released (applied ${was.since.toISOString()} by ${was.by}); the next logins grant again\n` : 'the emergency brake was not on\n');
    }),
  );
}
