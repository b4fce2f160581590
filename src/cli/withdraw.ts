// `popgate withdraw`: empties the published map without touching the database, for when popgate
// is not running (systemd's ExecStopPost, the supervisor, an admin): Postfix then relays for
// nobody through it. The next `popgate run` builds it again from the database.
import type { Command } from 'commander';
import { EXIT, PopgateError } from '../core/errors.js';
import { lockHolder } from '../core/instance-lock.js';
import { act, cliMapPublisher, configFrom, withCommon, type CommonOptions } from './common.js';

export function register(program: Command): void {
  withCommon(program.command('withdraw').description('empty the published map while popgate is not running (the database is not touched)')).action((opts: CommonOptions) =>
    act(async () => {
      const config = configFrom(opts);
      const p = cliMapPublisher(config, () => {});
      if (!p) {
        process.stdout.write('map = none: no map to withdraw (the policy service and socketmap answer nothing while popgate is down)\n');
        return;
      }
      const holder = (await lockHolder(config.db)) ?? (config.map ? await lockHolder(config.map.path, 'map') : null);
      if (holder) {
        throw new PopgateError('PUBLISH', p.name, `the daemon is running (pid ${holder.pid}) and publishes this map`, 'stop it first (systemctl stop popgate); a clean stop withdraws the map itself', {
          exitCode: EXIT.TEMPFAIL,
        });
      }
      await p.start();
      process.stdout.write(`${p.name} withdrawn: Postfix relays for nobody through it until popgate runs again\n`);
    }),
  );
}
