// `popgate pgsql-map`: prints the Postfix pgsql: table file for reader mode 2 (an MTA without
// popgate): check_client_access proxy:pgsql:/etc/postfix/popgate-pgsql.cf.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, describe, UsageError } from '../core/errors.js';
import { targetOf } from '../multihost/pgpass.js';
import { pgsqlMapText } from '../multihost/pgsql-map.js';
import { act, configFrom, withCommon, type CommonOptions } from './common.js';

interface Options extends CommonOptions {
  store?: string;
  user?: string;
  passwordFile?: string;
  connectTimeout: string;
  queryTimeout: string;
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(flag, `"${raw}" is not a positive whole number`);
  return n;
}

export function register(program: Command): void {
  withCommon(program.command('pgsql-map').description('print the Postfix pgsql: table file that reads the shared grants (MTAs without popgate)'))
    .option('--store <url>', 'postgresql://USER@HOST:PORT/DB (overrides the config)')
    .option('--user <role>', "the role Postfix connects as, SELECT only (default: the URL's user)")
    .option('--password-file <file>', 'put the password from this file into the output (never give it on the command line)')
    .option('--connect-timeout <seconds>', 'libpq connect_timeout', '2')
    .option('--query-timeout <ms>', 'statement_timeout of each lookup', '2000')
    .action((opts: Options) =>
      act(() => {
        const config = configFrom(opts, opts.store ? { store: opts.store } : {});
        if (!config.store) throw new ConfigError('store', 'is sqlite: Postfix has no shared store to read', 'set store = postgresql://USER@HOST:PORT/DB, or give --store URL');
        let password: string | null = null;
        if (opts.passwordFile) {
          try {
            password = readFileSync(opts.passwordFile, 'utf8').split('\n')[0]!.trim();
          } catch (err) {
            throw new UsageError(opts.passwordFile, `cannot read the password file (${describe(err)})`, "give a file holding the reader role's password on its first line");
          }
        }
        process.stdout.write(
          pgsqlMapText({
            url: config.store,
            user: opts.user ?? targetOf(config.store).user,
            password,
            value: config.map_value,
            connectTimeoutS: positive('--connect-timeout', opts.connectTimeout),
            statementTimeoutMs: positive('--query-timeout', opts.queryTimeout),
          }),
        );
      }),
    );
}
