// `popgate brake` and `popgate release`: the emergency brake by hand. The brake revokes every
// grant, makes the map empty and live answers "not granted", and stops granting until release.
// With `store = postgresql://…` they act on the shared store, on every host.
import type { Command } from 'commander';
import { StoreError } from '../core/errors.js';
import { applyBrake, brakeState, describeBrake, releaseBrake } from '../grants/brake.js';
import { brakeOf } from '../multihost/pg-admin.js';
import { act, configFrom, daemonRunning, openStore, publishIfNoDaemon, who, withCommon, type CommonOptions } from './common.js';
import { runShared, withStore } from './store.js';

/**
 * The brake must not fail because the daemon's batch held the database for a moment (a read
 * snapshot that cannot be upgraded fails at once, whatever the busy timeout): try again.
 */
async function retry<T>(fn: () => T): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof StoreError) || !/locked|busy/i.test(err.message) || i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 25 + 25 * i));
    }
  }
}

export function register(program: Command): void {
  withCommon(program.command('brake').description('emergency brake: revoke every grant now and grant nothing until popgate release'))
    .option('--reason <text>', 'why, for the log and popgate list', 'applied by hand')
    .option('--status', 'only show whether the brake is on (exit 0 when off, 1 when on)')
    .action((opts: CommonOptions & { reason: string; status?: boolean }) =>
      act(async () => {
        const config = configFrom(opts);
        if (config.store && !opts.status) return runShared(config, 'brake', '', opts);
        if (config.store) {
          const b = await withStore(config, brakeOf);
          process.stdout.write(b ? `emergency brake ON since ${b.since.toISOString()} by ${b.by}: ${b.reason}\n` : 'emergency brake off\n');
          return b ? 1 : 0;
        }
        const store = openStore(config, opts.status ? 'read' : 'write');
        try {
          if (opts.status) {
            const b = brakeState(store);
            process.stdout.write(b ? `emergency brake ON: ${describeBrake(b)}\n` : 'emergency brake off\n');
            return b ? 1 : 0;
          }
          const { revoked, already } = await retry(() => applyBrake(store, Date.now(), who(), opts.reason.replace(/\s+/g, ' ').slice(0, 200)));
          await publishIfNoDaemon(store, config);
          process.stdout.write(
            already
              ? `emergency brake was already on (${describeBrake(already)}); ${revoked} grant(s) revoked\n`
              : `emergency brake ON: ${revoked} grant(s) revoked; nothing is granted until "popgate release"${(await daemonRunning(config)) ? '' : ' (the daemon is not running)'}\n`,
          );
        } finally {
          store.close();
        }
      }),
    );

  withCommon(program.command('release').description('release the emergency brake: logins grant again')).action((opts: CommonOptions) =>
    act(async () => {
      const config = configFrom(opts);
      if (config.store) return runShared(config, 'release', '', {});
      const store = openStore(config, 'write');
      try {
        const was = await retry(() => releaseBrake(store, Date.now(), who()));
        process.stdout.write(was ? `emergency brake released (it was ${describeBrake(was)}); the next logins grant again\n` : 'the emergency brake was not on\n');
      } finally {
        store.close();
      }
    }),
  );
}
