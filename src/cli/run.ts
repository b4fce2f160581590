// `popgate run`: the daemon in the foreground (systemd runs it as it is), with signal handling.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describe, type PopgateError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { Daemon } from '../daemon/daemon.js';
import { judgeDovecot, readDovecot } from '../doctor/dovecot.js';
import { formatFinding } from '../doctor/finding.js';
import { act, withCommon, type CommonOptions } from './common.js';

interface RunOptions extends CommonOptions {
  log: string[];
  map?: string;
  store?: string;
  policy?: string;
  socketmap?: string;
  grace?: string;
  parser: string[];
  logLevel?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

function overrides(opts: RunOptions): Partial<Record<keyof Config, string>> {
  const o: Partial<Record<keyof Config, string>> = {};
  if (opts.log.length) o.log = opts.log.join(' ');
  if (opts.db) o.db = opts.db;
  if (opts.map) o.map = opts.map;
  if (opts.store) o.store = opts.store;
  if (opts.policy) o.policy = opts.policy;
  if (opts.socketmap) o.socketmap = opts.socketmap;
  if (opts.grace) o.grace = opts.grace;
  if (opts.parser.length) o.parsers = opts.parser.join(' ');
  if (opts.logLevel) o.log_level = opts.logLevel;
  return o;
}

export function register(program: Command): void {
  withCommon(program.command('run').description('follow the logs and publish grants (the daemon)'))
    .option('-l, --log <path>', 'log file to follow, - for standard input (repeatable)', collect, [] as string[])
    .option('--map <type:path>', 'access map to publish, e.g. hash:/var/lib/popgate/map/popgate, or none')
    .option('--store <url>', 'the shared store of several hosts, postgresql://USER@HOST:PORT/DB (password from ~/.pgpass or PGPASSFILE), or sqlite')
    .option('--policy <addr>', 'answer check_policy_service on unix:/PATH or inet:127.0.0.1:PORT')
    .option('--socketmap <addr>', 'answer socketmap lookups on unix:/PATH or inet:127.0.0.1:PORT')
    .option('--grace <duration>', 'how long a login grants relay, e.g. 30m')
    .option('-p, --parser <name>', 'parser to use (repeatable; default all)', collect, [] as string[])
    .option('--log-level <level>', 'error, warn, info or debug')
    .action((opts: RunOptions) =>
      act(async () => {
        const boot = createLogger(opts.logLevel ?? 'info');
        const read = () => loadConfig({ file: opts.config, overrides: overrides(opts), warn: (m) => boot.warn(m) });
        const config = read();
        const logger = createLogger(config.log_level);
        process.umask(0o022);
        // What the running Dovecot writes, said once: a login format popgate cannot read is never silent.
        const dovecot = await readDovecot();
        if (dovecot) for (const f of judgeDovecot(dovecot, config.log)) if (f.level !== 'ok') logger.warn(formatFinding(f).replace(/^warning: |^error: /, ''));
        let fatal: PopgateError | null = null;
        let stop: (why: string) => void = () => {};
        const daemon = await Daemon.start(config, logger, (err) => {
          fatal = err;
          stop('fatal');
        });
        await new Promise<void>((resolve) => {
          let stopping = false;
          stop = (why: string) => {
            if (stopping) return;
            stopping = true;
            logger.info(`${why}: stopping`);
            daemon.stop().then(resolve, (err) => {
              logger.error(`stop: ${describe(err)}`);
              resolve();
            });
          };
          process.on('SIGTERM', () => stop('SIGTERM'));
          process.on('SIGINT', () => stop('SIGINT'));
          process.on('SIGHUP', () => {
            let next: Config;
            try {
              next = read();
            } catch (err) {
              logger.error(`reload refused, the running configuration stays: ${describe(err)}`);
              return;
            }
            daemon.reload(next).catch((err) => logger.error(`reload: ${describe(err)}`));
          });
        });
        if (fatal) throw fatal;
        logger.info('stopped');
      }),
    );
}
