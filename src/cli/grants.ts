// list, grant, revoke, flush: act on the store the daemon uses (with `store = postgresql://…`,
// the shared one, as `popgate store …` does).
import type { Command } from 'commander';
import { UnavailableError, UsageError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { describeBrake } from '../grants/brake.js';
import { loadExclusions } from '../grants/exclusions.js';
import { BRAKE_ON, GrantView } from '../grants/view.js';
import { downNotice, mapContents } from '../publish/published-map.js';
import { grantSpan, ipArg, MAX_MANUAL_MS } from './args.js';
import { act, configFrom, daemonRunning, openStore, publishIfNoDaemon, who, withCommon, type CommonOptions } from './common.js';
import { runShared } from './store.js';

function relative(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

export function register(program: Command): void {
  withCommon(program.command('list').description('show active grants'))
    .option('--json', 'print a JSON array')
    .action((opts: CommonOptions & { json?: boolean }) =>
      act(async () => {
        const config = configFrom(opts);
        if (config.store) return runShared(config, 'list', '', opts);
        const store = openStore(config, 'read');
        try {
          const now = Date.now();
          const { grants, brake } = new GrantView(store, null).list(now);
          // Down, the map is frozen: say what Postfix still relays for (on stderr, for --json too).
          const notice = config.map && !(await daemonRunning(config)) ? downNotice(`${config.map.type}:${config.map.path}`, mapContents(config.map, store, now)) : null;
          if (notice) process.stderr.write(`popgate: warning: ${notice}\n`);
          // The JSON array stays as it is (other tools read it); the brake goes to stderr there.
          if (brake) (opts.json ? process.stderr : process.stdout).write(`EMERGENCY BRAKE ON: ${describeBrake(brake)}; nothing is granted until "popgate release"\n`);
          if (opts.json) {
            const out = grants.map((g) => ({
              ip: g.ip,
              expires: new Date(g.expiresAt).toISOString(),
              user: g.user,
              server: g.server,
              protocol: g.protocol,
              first_login: new Date(g.firstLogin).toISOString(),
              last_login: new Date(g.lastLogin).toISOString(),
              open_sessions: g.openSessions,
            }));
            process.stdout.write(JSON.stringify(out, null, 2) + '\n');
            return;
          }
          if (grants.length === 0) {
            process.stdout.write('no active grants\n');
            return;
          }
          const rows = grants.map((g) => [g.ip, new Date(g.expiresAt).toISOString(), `in ${relative(g.expiresAt - now)}`, g.user ?? '-', g.server ?? 'manual', String(g.openSessions)]);
          const head = ['IP', 'EXPIRES', '', 'USER', 'SERVER', 'SESSIONS'];
          const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows])
            process.stdout.write(
              r
                .map((c, i) => c.padEnd(width[i]!))
                .join('  ')
                .trimEnd() + '\n',
            );
        } finally {
          store.close();
        }
      }),
    );

  withCommon(program.command('grant').description('grant relay to an address by hand').argument('<ip>'))
    .option('--for <duration>', `how long (default: the grace; at most ${MAX_MANUAL_MS / 86_400_000} days)`)
    .action((ipText: string, opts: CommonOptions & { for?: string }) =>
      act(async () => {
        const ip = ipArg(ipText);
        const config = configFrom(opts);
        if (config.store) return runShared(config, 'grant', ip, opts);
        const span = grantSpan(opts.for, config.grace);
        const store = openStore(config, 'write');
        try {
          const view = new GrantView(store, await loadExclusions(config, createLogger('error')));
          const now = Date.now();
          // One decision, in the same transaction as the grant: a brake applied meanwhile wins.
          const why = store.transaction(() => view.refusal(ip) ?? void store.grantManual(ip, now + span, now, who()));
          if (why === BRAKE_ON) throw new UnavailableError(ip, `not granted: the emergency brake is on (${describeBrake(view.brake()!)})`, 'popgate release ends it');
          if (why) throw new UsageError(ip, `not granted: ${why}`, 'popgate never grants such addresses; see exclude and mynetworks');
          await publishIfNoDaemon(store, config);
          process.stdout.write(`granted ${ip} until ${new Date(now + span).toISOString()}\n`);
        } finally {
          store.close();
        }
      }),
    );

  withCommon(program.command('revoke').description('end the grant of an address now').argument('<ip>')).action((ipText: string, opts: CommonOptions) =>
    act(async () => {
      const ip = ipArg(ipText);
      const config = configFrom(opts);
      if (config.store) return runShared(config, 'revoke', ip, {});
      const store = openStore(config, 'write');
      try {
        const found = store.revoke(ip, Date.now(), who());
        await publishIfNoDaemon(store, config);
        process.stdout.write(found ? `revoked ${ip}\n` : `${ip} had no grant\n`);
      } finally {
        store.close();
      }
    }),
  );

  withCommon(program.command('flush').description('end every grant now')).action((opts: CommonOptions) =>
    act(async () => {
      const config = configFrom(opts);
      if (config.store) return runShared(config, 'flush', '', {});
      const store = openStore(config, 'write');
      try {
        const n = store.flush(Date.now(), who());
        await publishIfNoDaemon(store, config);
        process.stdout.write(`flushed ${n} grant(s)\n`);
      } finally {
        store.close();
      }
    }),
  );
}
