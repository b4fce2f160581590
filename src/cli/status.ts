// `popgate status [--json]`: asks the running daemon (through its instance lock) how it is doing:
// logs, grants, publishers, brake. Exit 0 when all is well, 1 when the daemon is down, a log is
// behind, a publisher fails or the emergency brake is on: it serves as a monitoring check as it is.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { lockHolder } from '../core/instance-lock.js';
import { brakeState } from '../grants/brake.js';
import { STATUS_VERSION, type StatusReport } from '../stats/report.js';
import { act, configFrom, openStore, withCommon, type CommonOptions } from './common.js';
import { statusText } from './status-text.js';

export const STATUS_OK = 0;
export const STATUS_PROBLEM = 1;

/** What can be said without a daemon: that it is down, and what the database holds. */
function downReport(db: string, why: string) {
  let brake = null;
  if (db === ':memory:' || !existsSync(db)) return { version: STATUS_VERSION, ok: false, problems: [why], daemon: { running: false }, brake };
  const store = openStore({ db } as Parameters<typeof openStore>[0], 'read');
  try {
    const b = brakeState(store);
    brake = b && { since: new Date(b.since).toISOString(), by: b.by, reason: b.reason };
    return { version: STATUS_VERSION, ok: false, problems: [why], daemon: { running: false }, brake, grants: { active: brake ? 0 : store.counts(Date.now()).grants } };
  } finally {
    store.close();
  }
}

export function register(program: Command): void {
  withCommon(program.command('status').description('is the daemon running and keeping up? (exit 0 yes, 1 no)'))
    .option('--json', 'print one JSON object (format version 1)')
    .action((opts: CommonOptions & { json?: boolean }) =>
      act(async () => {
        const config = configFrom(opts);
        const holder = await lockHolder(config.db);
        let report: Record<string, unknown>;
        if (holder === null) report = downReport(config.db, 'the daemon is not running');
        else if (!holder.status || typeof holder.status !== 'object') report = downReport(config.db, `pid ${holder.pid || '?'} holds the database but does not answer`);
        else report = holder.status as Record<string, unknown>;
        if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write(statusText(report as Partial<StatusReport>));
        return report.ok === true ? STATUS_OK : STATUS_PROBLEM;
      }),
    );
}
