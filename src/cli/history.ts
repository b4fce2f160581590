// `popgate history [IP] [--user NAME] [--since WHEN] [--json] [--local]`: the audit trail — grants,
// renewals, logouts, expiries, refusals with their reason, actions by hand with who did them, the
// brake and its release — each with its time, server, protocol and log line. Reads only. With
// store = postgresql://… it reads the shared history (every host's, each row naming its writer).
import type { Command } from 'commander';
import { type Config, duration } from '../config/schema.js';
import { EXIT, StoreError, UsageError } from '../core/errors.js';
import type { HistoryEntry, HistoryQuery } from '../grants/store.js';
import { shown } from '../multihost/pg-connect.js';
import { type SharedHistoryEntry, sharedHistory } from '../multihost/pg-history.js';
import { canonicalIp } from '../net/ip.js';
import { act, configFrom, openStore, withCommon, type CommonOptions } from './common.js';
import { withStore } from './store.js';

interface HistoryOptions extends CommonOptions {
  user?: string;
  since?: string;
  limit: string;
  json?: boolean;
  local?: boolean;
}

/** A row of either trail: the shared one names the writer. */
type Entry = HistoryEntry & { writer?: string };

/** `--since`: a date and time (2026-11-30, 2026-11-30T14:00Z) or a duration back from now (2h, 1d). */
export function sinceArg(text: string): { at: number } | { agoMs: number } {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return { at: t };
  } else {
    try {
      return { agoMs: duration(text) };
    } catch {
      // fall through to the usage error
    }
  }
  throw new UsageError('--since', `"${text}" is neither a duration nor a date`, 'write it like 2h, 3d or 2026-11-30T14:00Z');
}

/** What a row means, in one word: a flush the brake made is the brake. */
export function kindOf(e: Pick<HistoryEntry, 'action' | 'detail'>): string {
  return e.action === 'flush' && e.detail?.startsWith('brake (') ? 'brake' : e.action;
}

export function entryJson(e: Entry) {
  return {
    time: new Date(e.at).toISOString(),
    action: kindOf(e),
    ip: e.ip,
    user: e.user,
    server: e.server,
    protocol: e.protocol,
    origin: e.origin,
    detail: e.detail,
    ...(e.writer === undefined ? {} : { writer: e.writer }),
  };
}

export function entryLine(e: Entry): string {
  const j = entryJson(e);
  const via = e.server ? `${e.server}${e.protocol ? `/${e.protocol}` : ''}` : '-';
  const rest = [e.origin, e.writer && `on ${e.writer}`, e.detail].filter(Boolean).join('  ');
  return [j.time.replace(/\.\d{3}Z$/, 'Z'), j.action.padEnd(7), (e.ip ?? '-').padEnd(15), (e.user ?? '-').padEnd(10), via.padEnd(13), rest].join('  ').trimEnd();
}

/** The shared history; a duration in --since is counted back on the database's clock. */
async function readShared(config: Config, q: Omit<HistoryQuery, 'since'>, since: ReturnType<typeof sinceArg> | undefined): Promise<SharedHistoryEntry[]> {
  try {
    return await withStore(config, (c) => sharedHistory(c, { ...q, since }));
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    // The readers' role (Postfix's pgsql: table) is not given the history: it names users.
    throw new StoreError(
      `store ${shown(config.store!)}`,
      'this role may not read the shared history (popgate_history)',
      "run it where store = names the writers' role, or GRANT SELECT ON popgate_history TO this role; --local shows this host's own trail",
      err,
      EXIT.CONFIG,
    );
  }
}

export function register(program: Command): void {
  withCommon(
    program
      .command('history')
      .description("show the audit trail: grants, renewals, logouts, expiries, refusals and actions by hand (with store = postgresql://…, every host's, from the shared store)")
      .argument('[ip]', 'only this address'),
  )
    .option('--user <name>', 'only logins of this user')
    .option('--since <when>', 'only entries since a duration ago (2h, 1d) or a date (2026-11-30T14:00Z)')
    .option('--limit <n>', 'at most this many entries, the newest', '1000')
    .option('--json', 'one JSON object per line')
    .option('--local', "with store = postgresql://…: this host's own trail (its log lines, logouts, expiries, local refusals) instead of the shared one")
    .action((ipText: string | undefined, opts: HistoryOptions) =>
      act(async () => {
        const ip = ipText === undefined ? undefined : canonicalIp(ipText);
        if (ip === null) throw new UsageError(`"${ipText}"`, 'not an IP address', 'give a full IPv4 or IPv6 address, e.g. 192.0.2.10');
        const limit = Number(opts.limit);
        if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError('--limit', `"${opts.limit}" is not a positive whole number`);
        const since = opts.since === undefined ? undefined : sinceArg(opts.since);
        const config = configFrom(opts);
        const q = { ip, user: opts.user, limit };
        let rows: Entry[];
        if (config.store && !opts.local) rows = await readShared(config, q, since);
        else {
          const store = openStore(config, 'read');
          try {
            rows = store.history({ ...q, since: since === undefined ? undefined : 'at' in since ? since.at : Date.now() - since.agoMs });
          } finally {
            store.close();
          }
        }
        if (opts.json) {
          for (const e of rows) process.stdout.write(JSON.stringify(entryJson(e)) + '\n');
        } else if (rows.length === 0) {
          process.stdout.write('no audit entries match\n');
        } else {
          for (const e of rows) process.stdout.write(entryLine(e) + '\n');
        }
      }),
    );
}
